"""The simulated teleoperator against small kinematic worlds (no physics, no model)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ifagent_ros.core.control.teleop import TeleopMapper
from ifagent_ros.core.language.parser import CorrectionParser
from ifagent_ros.core.latent_actions.controller_inputs import deadband
from ifagent_ros.core.latent_actions.sim_user import (
    SimulatedUser,
    SimUserConfig,
    StickMapEstimate,
    pad_for,
)
from ifagent_ros.core.latent_actions.sim_user_models import correction_done, pick_primitive
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, ArmObservation, Waypoint

DT = 0.05
PAD = pad_for("latent")  # what shared_autonomy_node reads
LAYOUT = PAD.layout


class GoalTask:
    """A task-like object: fixed waypoints, whatever the objects."""

    def __init__(self, *waypoints: Waypoint) -> None:
        self._wps = list(waypoints)

    def waypoints(self, objects):  # the TaskInstance signature
        return list(self._wps)


class PointWorld:
    """An end effector that moves with v = A z (z: the stick after the deadband), RB held."""

    def __init__(self, a_lin: np.ndarray, start=(0.4, 0.0, 0.3)) -> None:
        self.A = np.zeros((6, 2))
        self.A[:3] = a_lin
        self.ee = np.array(start, dtype=float)
        self.t = 0.0
        self.width = 0.08
        self.closing = False

    def obs(self) -> ArmObservation:
        return ArmObservation(self.t, np.zeros(7), self.ee.copy(), np.eye(3), self.width, {})

    def apply(self, axes, buttons) -> None:
        if buttons[LAYOUT.deadman]:
            z = np.array([deadband(axes[LAYOUT.axis_left_x], 0.1),
                          deadband(axes[LAYOUT.axis_left_y], 0.1)])
            self.ee = self.ee + (self.A @ z)[:3] * DT
        if buttons[PAD.gripper_close]:
            self.closing = True
        if self.closing:
            self.width = max(0.0, self.width - 0.02)
        self.t += DT


def run(user: SimulatedUser, world: PointWorld, seconds: float, on_speech=None):
    outs = []
    while world.t < seconds and not user.done:
        user.observe(world.obs())
        out = user.step(world.t)
        if out.speech and on_speech is not None:
            on_speech(out.speech, world)
        outs.append((world.t, out))
        world.apply(out.axes, out.buttons)
    return outs


# An oblique plane: neither stick axis is a cardinal direction.
A_PLANE = np.array([[0.10, -0.06], [0.08, 0.12], [0.03, -0.02]])


def test_rls_learns_a_linear_map_and_the_user_reaches_the_goal() -> None:
    world = PointWorld(A_PLANE)
    goal = world.ee + A_PLANE @ np.array([1.5, -2.0])  # in the plane the stick spans
    user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.005, "goal")), "latent",
                         SimUserConfig(seed=1, pass_tolerance_m=0.005), corrections=False)
    run(user, world, 30.0)
    assert user.done
    assert np.linalg.norm(world.ee - goal) < 0.01
    err = np.linalg.norm(user.estimate.A[:3] - A_PLANE) / np.linalg.norm(A_PLANE)
    assert err < 0.25, (user.estimate.A[:3], err)
    assert user.counts["probes"] >= 1 and user.counts["corrections"] == 0


def test_rls_estimate_alone_converges_to_the_true_map() -> None:
    rng = np.random.default_rng(0)
    est = StickMapEstimate(forgetting=0.95)
    a_true = rng.normal(size=(6, 2))
    for _ in range(200):
        z = rng.uniform(-1, 1, size=2)
        est.update(z, a_true @ z + rng.normal(0, 0.01, size=6))
    assert np.allclose(est.A, a_true, atol=0.02)
    z = est.command(a_true @ np.array([0.3, -0.2]), np.ones(6), z_max=1.0)
    assert np.allclose(z, [0.3, -0.2], atol=0.02)


def test_estimate_ignores_no_excitation_and_nan() -> None:
    est = StickMapEstimate(forgetting=0.9)
    est.update(np.zeros(2), np.ones(6))
    est.update(np.array([1.0, 0.0]), np.full(6, np.nan))
    assert est.updates == 0 and np.all(est.A == 0)


def _xy_world_and_down_goal() -> tuple[PointWorld, np.ndarray]:
    world = PointWorld(np.array([[0.12, 0.0], [0.0, 0.12], [0.0, 0.0]]))
    return world, world.ee + np.array([0.05, 0.02, -0.15])  # mostly down: not on the stick


@pytest.mark.parametrize(("split", "drift"), [("heldout", True), ("train", True),
                                               ("heldout", False)])
def test_stuck_gives_a_correction_in_the_missing_direction_that_parses(split, drift) -> None:
    world, goal = _xy_world_and_down_goal()
    cfg = SimUserConfig(seed=3, max_corrections=1)
    if not drift:  # only the stall rule: no progress over the whole window
        cfg = replace(cfg, drift_min_m=10.0)
    user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.01, "goal")), "latent", cfg,
                         corrections=True, split=split)
    said: list[tuple[float, str]] = []
    run(user, world, 12.0, on_speech=lambda text, w: said.append((w.t, text)))
    assert len(said) == 1
    t, text = said[0]
    probed = cfg.reaction_delay_s + 2 * cfg.probe_s
    # Drift: soon after it has learned that no stick goes down; stall: a whole window later.
    assert t >= (probed + cfg.drift_s if drift else cfg.stall_window_s)
    if drift:
        assert t < cfg.stall_window_s + probed
    assert text in PRIMITIVES["down"].phrasings(split)
    c = CorrectionParser().parse(text)
    assert c.type == "direction" and c.direction == (0.0, 0.0, -1.0) and c.context_free


def test_correction_reshapes_then_revert_button_when_its_job_is_done() -> None:
    world, goal = _xy_world_and_down_goal()
    user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.01, "goal")), "latent",
                         SimUserConfig(seed=4), corrections=True)

    def conditioned(text: str, w: PointWorld) -> None:
        # What the controller does with "down": one stick axis now moves down.
        w.A[:3] = np.array([[0.12, 0.0], [0.0, 0.0], [0.0, -0.12]])

    outs = run(user, world, 40.0, on_speech=conditioned)
    assert user.counts["corrections"] >= 1
    reset_presses = [t for t, o in outs if o.buttons[PAD.reset]]
    assert reset_presses, "no revert after the correction did its job"
    assert user.counts["reverts"] == len(reset_presses)
    assert world.ee[2] < goal[2] + 0.05  # it went down with the corrected stick


def test_no_corrections_without_the_lilac_condition() -> None:
    world, goal = _xy_world_and_down_goal()
    user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.01, "goal")), "latent",
                         SimUserConfig(seed=3), corrections=False)
    outs = run(user, world, 10.0)
    assert not any(o.speech for _, o in outs)
    assert user.counts["probes"] >= 2  # it re-probes instead


def _first_push_time(delay: float) -> float:
    world = PointWorld(A_PLANE)
    goal = world.ee + A_PLANE @ np.array([1.0, 1.0])
    user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.005, "goal")), "latent",
                         SimUserConfig(seed=2, reaction_delay_s=delay), corrections=False)
    for t, out in run(user, world, 3.0):
        if abs(out.axes[0]) > 0.3 or abs(out.axes[1]) > 0.3:
            return t
    raise AssertionError("never pushed")


def test_reaction_delay_is_honoured() -> None:
    t0, t1 = _first_push_time(0.0), _first_push_time(0.6)
    assert t1 >= 0.6 - 1e-9
    assert t1 - t0 == pytest.approx(0.6, abs=DT + 1e-9)


def test_nothing_seen_yet_means_hands_off() -> None:
    user = SimulatedUser(GoalTask(Waypoint(np.zeros(3), None, 0.01, "goal")), "latent",
                         SimUserConfig(reaction_delay_s=0.5))
    user.observe(PointWorld(A_PLANE).obs())
    out = user.step(0.1)
    assert out.buttons[LAYOUT.deadman] == 0 and out.axes[0] == 0.0 and out.axes[1] == 0.0


def test_seeded_determinism() -> None:
    def trace(seed: int) -> list[tuple[float, ...]]:
        world = PointWorld(A_PLANE)
        goal = world.ee + A_PLANE @ np.array([1.0, -1.0])
        user = SimulatedUser(GoalTask(Waypoint(goal, None, 0.005, "goal")), "latent",
                             SimUserConfig(seed=seed), corrections=False)
        return [tuple(o.axes) for _, o in run(user, world, 4.0)]

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


def test_gripper_waypoint_presses_close_and_waits_for_the_fingers() -> None:
    world = PointWorld(A_PLANE)
    here = world.ee.copy()
    user = SimulatedUser(GoalTask(Waypoint(here, "close", 0.01, "grasp")), "latent",
                         SimUserConfig(seed=5), corrections=False)
    outs = run(user, world, 5.0)
    presses = [t for t, o in outs if o.buttons[PAD.gripper_close]]
    assert len(presses) == 1
    assert user.done and world.width == 0.0
    assert outs[-1][0] - presses[0] >= 0.3  # waited for the fingers


def test_teleop_user_drives_the_mode_switching_baseline_to_the_goal() -> None:
    mapper = TeleopMapper()
    ee = np.array([0.4, 0.0, 0.3])
    goal = ee + np.array([0.08, -0.05, -0.1])
    user = SimulatedUser(GoalTask(Waypoint(goal, "close", 0.006, "grasp")), "teleop",
                         SimUserConfig(seed=6))
    t, width, grips, modes = 0.0, 0.08, [], 0
    while t < 30.0 and not user.done:
        user.observe(ArmObservation(t, np.zeros(7), ee.copy(), np.eye(3), width, {}))
        out = user.step(t)
        o = mapper.update(out.axes, out.buttons, t)
        modes += int(o.mode_changed)
        user.observe_status({"teleop_mode": o.mode.value, "stamp": t})
        if out.buttons[5]:
            ee = ee + np.array(o.linear) * DT
        if o.gripper_width is not None:
            grips.append(o.gripper_width)
        width = max(0.0, width - 0.02) if grips else width
        t += DT
    assert user.done
    assert np.linalg.norm(ee - goal) < 0.006
    assert grips == [0.0]  # A (teleop's close) once, at the goal
    assert modes >= 1  # x/y and z need a mode switch


def test_policy_user_holds_deadman_and_go_and_never_speaks() -> None:
    world = PointWorld(A_PLANE)
    user = SimulatedUser(GoalTask(Waypoint(np.zeros(3), None, 0.01, "goal")), "policy",
                         replace(SimUserConfig(), stick_noise_std=0.0))
    outs = run(user, world, 3.0)
    late = [o for t, o in outs if t > user.config.reaction_delay_s + DT]
    assert late and all(o.buttons[LAYOUT.deadman] == 1 and o.axes[1] > 0.5 and not o.speech
                        for o in late)
    assert all(abs(o.axes[1]) < 0.95 for _, o in outs)  # not pinned (the controller would hold)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError):
        SimUserConfig(skill=1.5)
    with pytest.raises(ValueError):
        SimUserConfig(reaction_delay_s=-0.1)
    with pytest.raises(ValueError):
        SimulatedUser(GoalTask(), "joystick")  # type: ignore[arg-type]


def test_pick_primitive_direction_and_rotation_and_when_it_is_done() -> None:
    prim, amount = pick_primitive(np.array([0.02, -0.09, 0.03]), np.zeros(3), 0.35)
    assert prim.name == "right" and amount == pytest.approx(0.09)
    # Visibly turned counter-clockwise about z: the way back is clockwise ("twist right").
    prim, _ = pick_primitive(np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.0, -0.6]), 0.35)
    assert prim.name == "twist_right"
    c = CorrectionParser().parse(prim.phrasings("heldout")[0])
    assert c.type == "rotation" and c.rotation == prim.axis
    right = PRIMITIVES["right"]
    assert not correction_done(right, np.array([0.0, -0.08, 0.01]), np.zeros(3), 0.01)
    assert correction_done(right, np.array([0.05, -0.01, 0.0]), np.zeros(3), 0.01)
    assert correction_done(PRIMITIVES["twist_right"], np.zeros(3), np.array([0, 0, -0.05]), 0.01)


def test_the_person_presses_the_buttons_the_interface_node_reads() -> None:
    from ifagent_ros.core.control.gamepad import Button
    from ifagent_ros.core.control.teleop import TeleopConfig
    from ifagent_ros.core.latent_actions.controller import SharedAutonomyConfig

    sa, tc = SharedAutonomyConfig(), TeleopConfig()
    assert (PAD.gripper_close, PAD.gripper_open, PAD.reset) == (
        sa.button_gripper_close, sa.button_gripper_open, sa.button_reset) == (
        Button.B, Button.Y, Button.BACK)
    teleop = pad_for("teleop")
    assert (teleop.gripper_close, teleop.gripper_open) == (
        tc.button_gripper_close, tc.button_gripper_open) == (Button.A, Button.B)
    assert PAD.layout == sa.pad == tc.pad  # one layout: sticks, deadman, mode button
