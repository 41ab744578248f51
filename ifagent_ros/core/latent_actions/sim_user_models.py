"""The simulated user's parameters (:class:`SimUserConfig`) and what it keeps in its head
(``sim_user.py``): the gamepad it presses (:class:`UserPad`), its online estimate of the stick ->
end-effector motion map, the plan it follows, and which correction it says.

* :class:`StickMapEstimate`: multi-output recursive least squares with forgetting for the 6x2 map
  z -> [v (m/s), w (rad/s)], and the regularized least-squares stick for a wanted motion.
* :class:`GoalTracker`: the task's waypoints, re-planned from the objects it sees until it
  grasps (then frozen: the held block moves with the hand), and the check a person makes after
  lifting (did the block come up?).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ifagent_ros.core.control.gamepad import Button, PadLayout
from ifagent_ros.core.latent_actions.tasks import (
    PRIMITIVES,
    ArmObservation,
    Primitive,
    TaskInstance,
    Waypoint,
)

DIRECTION_PRIMITIVES = {(0, 1.0): "forward", (0, -1.0): "backward", (1, 1.0): "left",
                        (1, -1.0): "right", (2, 1.0): "up", (2, -1.0): "down"}


@dataclass(frozen=True)
class UserPad:
    """The gamepad as the person holds it: the one layout (``core/control/gamepad.py``: sticks,
    triggers, deadman, mode button, deadband) and the buttons of the interface it drives."""

    layout: PadLayout = field(default_factory=PadLayout)
    gripper_close: int = int(Button.B)
    gripper_open: int = int(Button.Y)
    reset: int = int(Button.BACK)  # LILAC's revert to the instruction

    def __post_init__(self) -> None:
        for name in ("gripper_close", "gripper_open", "reset"):
            self.layout.check_button(name, getattr(self, name))


def pad_for(interface: str, layout: PadLayout | None = None) -> UserPad:
    """The buttons the interface's node reads by default: teleop_node's (A closes, B opens) or
    shared_autonomy_node's (B closes, Y opens, Back reverts), on ``layout``."""
    from ifagent_ros.core.control.teleop import TeleopConfig
    from ifagent_ros.core.latent_actions.controller import SharedAutonomyConfig

    layout = layout or PadLayout()
    sa = SharedAutonomyConfig(pad=layout)
    if interface == "teleop":
        tc = TeleopConfig(pad=layout)
        return UserPad(layout, tc.button_gripper_close, tc.button_gripper_open, sa.button_reset)
    return UserPad(layout, sa.button_gripper_close, sa.button_gripper_open, sa.button_reset)


@dataclass(frozen=True)
class SimUserConfig:
    skill: float = 0.8  # 0..1: less stick noise, shorter probes, better-judged speed
    reaction_delay_s: float = 0.25  # what it sees is this old
    stick_noise_std: float = 0.03  # stick units, at skill 1 (doubles at skill 0)
    rate_hz: float = 20.0  # gamepad messages per second
    max_speed: float = 0.15  # m/s it aims for on free legs (what full teleop stick gives)
    # 1/s: aimed speed = gain * distance below the cap. The same person in every interface:
    # the teleop operator's stick gain is gain / teleop_full_speed (stick per metre).
    gain: float = 2.0
    teleop_full_speed: float = 0.15  # m/s at full stick in the teleop baseline
    # After switching the teleop mode a person first sees the new mode before pushing (None:
    # one reaction delay). Herlant et al. (HRI 2016) found mode switching to take 17 % of
    # teleoperation time; one reaction delay per switch is a lower bound of that cost.
    mode_switch_pause_s: float | None = None
    min_speed: float = 0.02  # m/s floor so it arrives
    # People rarely pin the stick (LILAC's controller holds a pinned stick); the same thumb in
    # every interface.
    max_deflection: float = 0.9
    probe_amplitude: float = 0.6  # stick deflection of a probe push ...
    probe_full_distance_m: float = 0.08  # ... this far from the waypoint or more (less: gentler)
    forgetting: float = 0.9  # RLS forgetting per update (memory ~ 0.5 s at 20 Hz)
    rotation_weight: float = 0.1  # m per rad when trading position against orientation
    stall_window_s: float = 2.0
    stall_progress_m: float = 0.01
    correction_cooldown_s: float = 2.5
    max_corrections: int = 8
    tilt_threshold_rad: float = 0.35  # rotated this much: it asks for a twist/tilt
    near_accept_factor: float = 2.0  # stuck within this x tolerance for `near_accept_s`: go on
    near_accept_s: float = 1.5
    pass_tolerance_m: float = 0.02  # free-air way points without a gripper action: this close
    free_air_z_m: float = 0.05  # ... is enough when they are at least this high above the table
    # Says a correction when the error its stick cannot reduce (by its estimate) stays above
    # max(drift_min_m, 2 x tolerance, drift_fraction x distance) for drift_s.
    drift_min_m: float = 0.02
    drift_fraction: float = 0.3
    drift_s: float = 0.5
    grasp_check_m: float = 0.05  # after lifting, the grasped block must be this close
    max_regrasps: int = 2
    go_stick: float = 0.7  # the BC "go" push
    # After a grasp/release the learned map usually changes: probe again (False: only trust the
    # old estimate less and re-learn while driving, which measured slower).
    probe_after_gripper: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.skill <= 1.0:
            raise ValueError("skill must be in [0, 1]")
        for name in ("rate_hz", "max_speed", "gain", "stall_window_s", "stall_progress_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be finite and > 0")
        if not (0.0 <= self.reaction_delay_s < 5.0 and self.stick_noise_std >= 0.0):
            raise ValueError("reaction_delay_s must be in [0, 5) and stick_noise_std >= 0")
        if not 0.5 < self.forgetting <= 1.0:
            raise ValueError("forgetting must be in (0.5, 1]")

    @property
    def probe_s(self) -> float:
        return 0.25 + 0.35 * (1.0 - self.skill)

    @property
    def mode_switch_pause(self) -> float:
        p = self.mode_switch_pause_s
        return self.reaction_delay_s if p is None else max(0.0, float(p))

    @property
    def noise_std(self) -> float:
        return self.stick_noise_std * (2.0 - self.skill)


class StickMapEstimate:
    """Online estimate of the 6x2 map stick z -> [v (m/s), w (rad/s)] (multi-output RLS)."""

    def __init__(self, forgetting: float, p0: float = 100.0) -> None:
        self.forgetting = forgetting
        self.p0 = p0
        self.A = np.zeros((6, 2))
        self.P = np.eye(2) * p0
        self.updates = 0

    def surprise(self) -> None:
        """Forget how sure it was (the map changed); keeps the last estimate as a prior."""
        self.P = np.eye(2) * self.p0

    def update(self, z: np.ndarray, v: np.ndarray) -> None:
        if float(np.linalg.norm(z)) < 0.1 or not np.all(np.isfinite(v)):
            return  # no excitation: nothing to learn (and RLS would wind up)
        lam = self.forgetting
        pz = self.P @ z
        k = pz / (lam + float(z @ pz))
        self.A += np.outer(v - self.A @ z, k)
        self.P = (self.P - np.outer(k, pz)) / lam
        if np.trace(self.P) > 2 * self.p0:
            self.P *= 2 * self.p0 / np.trace(self.P)
        self.updates += 1

    def unreachable(self, error: np.ndarray, reg: float = 1e-4) -> np.ndarray:
        """The part of a position ``error`` no stick moves along (by this estimate)."""
        a = self.A[:3]
        gram = a.T @ a
        if np.trace(gram) < 1e-8:
            return np.zeros(3)  # nothing learned yet: no opinion
        e = np.asarray(error, dtype=float)
        return e - a @ np.linalg.solve(gram + reg * np.trace(gram) * np.eye(2), a.T @ e)

    def command(self, v_des: np.ndarray, weights: np.ndarray, z_max: float,
                reg: float = 1e-3) -> np.ndarray:
        """The stick (|z_i| <= z_max) that best gives ``v_des`` (weighted, regularized LS)."""
        aw = self.A * weights[:, None]
        z = np.linalg.solve(aw.T @ aw + reg * np.eye(2), aw.T @ (v_des * weights))
        peak = float(np.max(np.abs(z)))
        return z * (z_max / peak) if peak > z_max else z


class GoalTracker:
    """Which waypoint the person heads for; re-plans from the objects until it grasps."""

    def __init__(self, task: TaskInstance) -> None:
        self.task = task
        self.plan: list[Waypoint] = []
        self.index = 0
        self.frozen = False
        self.grasped: str | None = None  # block in the fingers (by the person's judgement)
        self.grasp_index = -1
        self.regrasps = 0

    @property
    def done(self) -> bool:
        return bool(self.plan) and self.index >= len(self.plan)

    def current(self, seen: ArmObservation) -> Waypoint | None:
        if not self.frozen:
            self.plan = self.task.waypoints(seen.objects)
        return self.plan[self.index] if self.index < len(self.plan) else None

    def arrived(self, seen: ArmObservation, wp: Waypoint) -> None:
        """The person reached ``wp`` (and did its gripper action)."""
        if wp.gripper == "close":
            ee = np.asarray(seen.ee_position)
            near = {oid: float(np.linalg.norm(np.asarray(o.position) - ee))
                    for oid, o in seen.objects.items() if o.label == "block"}
            oid = min(near, key=near.__getitem__) if near else None
            self.frozen = True  # the held block moves with the hand: keep the plan
            self.grasped = oid if oid is not None and near[oid] < 0.03 else None
            self.grasp_index = self.index
        self.index += 1

    def grasp_lost(self, seen: ArmObservation, limit: float) -> bool:
        """Right after lifting: the block it grasped stayed behind."""
        if self.grasped is None or self.index != self.grasp_index + 2:
            return False
        block = seen.objects.get(self.grasped)
        return block is not None and float(
            np.linalg.norm(np.asarray(block.position) - seen.ee_position)) > limit

    def restart(self) -> None:
        self.frozen, self.grasped, self.index, self.grasp_index = False, None, 0, -1
        self.regrasps += 1


def pick_primitive(position_error: np.ndarray, rotation_error: np.ndarray,
                   tilt_threshold: float) -> tuple[Primitive, float]:
    """The correction a person says when stuck: a twist/tilt back when the gripper is visibly
    rotated (rotation vector beyond ``tilt_threshold`` rad), else the direction of the largest
    remaining position error; with the size of that error."""
    rv = np.asarray(rotation_error, dtype=float)
    if float(np.linalg.norm(rv)) > tilt_threshold:
        k = int(np.argmax(np.abs(rv)))
        for prim in PRIMITIVES.values():
            if prim.kind == "rotation" and prim.axis[k] == math.copysign(1.0, rv[k]):
                return prim, float(abs(rv[k]))
    err = np.asarray(position_error, dtype=float)
    k = int(np.argmax(np.abs(err)))
    return PRIMITIVES[DIRECTION_PRIMITIVES[(k, math.copysign(1.0, err[k]))]], float(abs(err[k]))


def correction_done(prim: Primitive, position_error: np.ndarray, rotation_error: np.ndarray,
                    tolerance: float) -> bool:
    """The correction has done its job (the person reverts to the instruction): its rotation is
    undone, its direction is done, or (away from the waypoint) no longer what mostly stands
    between gripper and goal."""
    axis = np.asarray(prim.axis, dtype=float)
    if prim.kind == "rotation":
        return float(np.asarray(rotation_error) @ axis) < 0.1
    err = np.asarray(position_error, dtype=float)
    along, dist = float(err @ axis), float(np.linalg.norm(err))
    if along <= 0.5 * tolerance:
        return True  # that way is done (or overshot)
    # Far from the waypoint and other directions dominate now: let the model carry on. Near
    # it, keep the correction until arrival or a stall (reverting there undoes the fine work).
    return dist > 3.0 * tolerance and along <= 0.35 * dist
