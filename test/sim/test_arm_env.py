"""TabletopArmEnv: twists move the end effector through the real executor, bad input brakes,
limits hold, and resets are seeded."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from ifagent_ros.core.control.safety_filter import SafetyLimits
from ifagent_ros.core.latent_actions.state import STATE_DIM
from ifagent_ros.sim.arm_env import ArmEnvConfig, TabletopArmEnv


@pytest.fixture(scope="module")
def env() -> Iterator[TabletopArmEnv]:
    with TabletopArmEnv() as e:
        yield e


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_twist_moves_the_end_effector_that_way(env: TabletopArmEnv, axis: int,
                                                 sign: float) -> None:
    start = env.reset(seed=0).ee_position
    twist = np.zeros(6)
    twist[axis] = 0.1 * sign
    for _ in range(5):
        info = env.step(twist, duration=0.1)
        assert info.rejected is None and info.ticks == 10
    moved = env.observe().ee_position - start
    assert moved[axis] * sign > 0.035  # 0.5 s at 0.1 m/s, less the ramp-up
    off_axis = np.delete(moved, axis)
    assert np.abs(off_axis).max() < 0.2 * abs(moved[axis])


def test_an_angular_twist_turns_the_gripper_about_z(env: TabletopArmEnv) -> None:
    r0 = env.reset(seed=0).ee_rotation
    for _ in range(5):
        env.step(np.array([0, 0, 0, 0, 0, 0.4]))
    r = env.observe().ee_rotation
    rel = r @ r0.T
    yaw = np.arctan2(rel[1, 0], rel[0, 0])
    assert yaw > 0.1  # counter-clockwise seen from above
    assert np.allclose(env.observe().ee_rotation[:, 2], r0[:, 2], atol=0.05)  # still down


@pytest.mark.parametrize("bad", [[np.nan, 0, 0, 0, 0, 0], [0.1, 0, 0], "fast", None,
                                 [0.1, 0, 0, 0, 0, np.inf]])
def test_a_bad_twist_is_rejected_and_the_arm_brakes_and_holds(env: TabletopArmEnv,
                                                             bad: object) -> None:
    env.reset(seed=1)
    for _ in range(3):  # moving at 0.1 m/s
        env.step(np.array([0.1, 0, 0, 0, 0, 0]))
    info = env.step(bad)  # type: ignore[arg-type]
    assert info.rejected and "reject" in info.rejected
    assert info.mode in ("braking", "idle", "holding")
    held = env.observe().ee_position
    for _ in range(5):
        assert env.step(bad).rejected  # type: ignore[arg-type]
    drift = np.linalg.norm(env.observe().ee_position - held)
    assert drift < 0.01  # stopped within the braking distance, then held
    assert env.step(np.zeros(6)).rejected is None  # a good command is accepted again


def test_an_unknown_gripper_command_is_rejected_and_nothing_changes(env: TabletopArmEnv) -> None:
    env.reset(seed=2)
    info = env.step(np.zeros(6), gripper="squeeze")
    assert info.rejected and "squeeze" in info.rejected
    assert env.observe().gripper_width > 0.075


def test_gripper_closes_and_opens(env: TabletopArmEnv) -> None:
    env.reset(seed=2)
    for _ in range(8):
        env.step(np.zeros(6), gripper="close")
    assert env.observe().gripper_width < 0.005
    for _ in range(8):
        env.step(np.zeros(6), gripper="open")
    assert env.observe().gripper_width > 0.075


def test_speed_and_workspace_limits_hold_whatever_the_command(env: TabletopArmEnv) -> None:
    env.reset(seed=3)
    lo = np.array(env.config.limits.workspace_min)
    peak, seen = 0.0, set()
    for _ in range(40):  # 4 s of "full speed down and forward": into the table and the box wall
        info = env.step(np.array([2.0, 0.0, -2.0, 0.0, 0.0, 0.0]))
        peak = max(peak, info.max_joint_speed_ratio)
        seen |= set(info.interventions)
        assert np.all(env.observe().ee_position >= lo - 0.01)
    assert peak <= 1.05  # measured joint speed within the executor's limit (+ tracking noise)
    assert seen  # the filter had to step in
    assert env.observe().ee_position[0] > 0.6  # it still went as far as it safely could


def test_pressing_into_the_table_never_commands_past_a_joint_limit(env: TabletopArmEnv) -> None:
    # Straight down from home with pauses: the fingers press on the table and bend joint 6 past
    # the reference; at each pause the executor re-anchored to the bent wrist, ratcheting the
    # target up to 3.8225 rad, past the URDF's 3.8223, and set_joint_position_targets raised.
    env.reset(seed=0)
    upper = np.asarray(env.config.limits.position_upper)
    lower = np.asarray(env.config.limits.position_lower)
    for k in range(64):
        env.step(np.array([0.0, 0.0, -0.2, 0.0, 0.0, 0.0]) if k % 4 < 3 else np.zeros(6))
        ref = env.executor.filter.q
        assert np.all(ref <= upper + 1e-9) and np.all(ref >= lower - 1e-9), (k, ref)


def test_executor_limits_wider_than_the_urdf_are_refused() -> None:
    wide = SafetyLimits(position_upper=(2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.9, 2.8973))
    with pytest.raises(ValueError, match="outside the URDF"):
        TabletopArmEnv(ArmEnvConfig(limits=wide))


def _rollout(env: TabletopArmEnv, seed: int) -> np.ndarray:
    first = env.reset(seed=seed)
    assert first.time == 0.0 and first.gripper_width > 0.075
    out = [env.state_vector(first)]
    for k in range(12):
        env.step(np.array([0.06, 0.0, -0.12, 0, 0, 0.2]), "close" if k > 8 else None)
        out.append(env.state_vector(env.observe()))
    return np.array(out)


def test_an_episode_depends_only_on_its_seed_and_actions(env: TabletopArmEnv) -> None:
    s0 = env.simulated_s
    a = _rollout(env, 5)
    _rollout(env, 6)  # a different history in between ...
    env.step(np.array([0.1, 0.1, -0.1, 0, 0, 0]), gripper="close")
    b = _rollout(env, 5)
    assert np.array_equal(a, b)  # ... changes nothing, to the last bit
    c = env.reset(seed=6)
    assert any(not np.allclose(c.objects[o].position[:2], a[0, 17 + 3 * i: 19 + 3 * i]
                               + a[0, 7:9]) for i, o in enumerate(env.object_ids))
    assert env.simulated_s - s0 == pytest.approx(3 * 1.2 + 0.1)  # every episode counted


def test_observation_and_state_vector(env: TabletopArmEnv) -> None:
    env.reset(seed=5)
    obs = env.observe()
    assert obs.objects["yellow_bowl"].label == "bowl" and obs.objects["red_block"].color == "red"
    s = env.state_vector(obs)
    assert s.shape == (STATE_DIM,) and np.isfinite(s).all()
    assert s[16] == pytest.approx(obs.gripper_width / 0.08)


def test_ik_places_the_gripper_and_the_config_is_checked(env: TabletopArmEnv) -> None:
    q = env.ik(np.array([0.5, 0.1, 0.2]))
    assert q is not None
    obs = env.reset(seed=0, q=q)
    assert np.allclose(obs.ee_position, [0.5, 0.1, 0.2], atol=2e-3)
    assert obs.ee_rotation[2, 2] == pytest.approx(-1.0, abs=1e-3)  # pointing down
    assert env.ik(np.array([1.5, 0.0, 0.2])) is None  # out of reach
    with pytest.raises(ValueError, match="multiple"):
        TabletopArmEnv(ArmEnvConfig(physics_rate_hz=240.0))
    with TabletopArmEnv(ArmEnvConfig(xy_jitter=0.0)) as fixed:  # yaw only: xy as written
        red = fixed.reset(seed=4).objects["red_block"].position
        assert np.allclose(red[:2], [0.45, 0.15], atol=1e-6)
