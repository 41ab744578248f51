"""Executor decisions with a fake clock: deadman, watchdog, e-stop latch, bad commands."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.control.executor_core import ExecutorConfig, ExecutorCore
from ifagent_ros.core.control.kinematics import ArmKinematics

HOME = np.array([0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])
KIN = ArmKinematics()
AXES = [0.0] * 8
HELD = [0] * 5 + [1] + [0] * 5
RELEASED = [0] * 11


class Harness:
    """Drives the core like the node does, with an ideal arm that follows the reference."""

    def __init__(self, **kw) -> None:
        self.core = ExecutorCore(ExecutorConfig(**kw), KIN)
        self.t = 0.0
        self.q = HOME.copy()
        self.core.on_joint_state(self.q, self.t)

    def run(self, seconds: float, twist=None, joy=HELD, stamp_offset: float = 0.0):
        out = None
        for _ in range(int(round(seconds / self.core.config.dt))):
            self.t += self.core.config.dt
            self.core.on_joy(AXES, joy, self.t)
            if twist is not None:
                self.core.on_twist(
                    np.asarray(twist, float), "base_link", self.t + stamp_offset, self.t
                )
            self.core.on_joint_state(self.q, self.t)
            out = self.core.step(self.t)
            if out is not None:
                self.q = out.q.copy()
        return out


def ee(q):
    return KIN.ee_position(q)


def test_deadman_held_moves_in_commanded_direction_and_release_stops() -> None:
    h = Harness()
    p0 = ee(h.q)
    out = h.run(0.5, twist=[0.0, 0.1, 0.0, 0, 0, 0])
    assert out.mode == "moving"
    d = ee(h.q) - p0
    assert d[1] > 0.03 and abs(d[0]) < 0.005 and abs(d[2]) < 0.005
    out = h.run(0.3, twist=[0.0, 0.1, 0.0, 0, 0, 0], joy=RELEASED)
    assert out.brake_reason == "deadman_released" and out.mode == "idle"
    np.testing.assert_array_equal(out.v, np.zeros(7))  # an explicit zero


def test_no_motion_without_deadman() -> None:
    h = Harness()
    out = h.run(0.3, twist=[0.1, 0, 0, 0, 0, 0], joy=RELEASED)
    np.testing.assert_allclose(h.q, HOME)
    assert out.brake_reason == "deadman_released"


def test_watchdog_brakes_stale_commands() -> None:
    h = Harness(watchdog_timeout_s=0.1)
    h.run(0.3, twist=[0.1, 0, 0, 0, 0, 0])
    assert np.abs(h.core.filter.v).max() > 0
    out = h.run(0.09, twist=None)  # within the timeout: still moving
    assert out.mode == "moving"
    out = h.run(0.02, twist=None)
    assert out.brake_reason == "watchdog" and h.core.watchdog_tripped
    out = h.run(0.3, twist=None)
    assert np.all(out.v == 0)


def test_estop_latches_until_released_and_reset() -> None:
    h = Harness()
    h.run(0.2, twist=[0.1, 0, 0, 0, 0, 0])
    h.core.on_estop(True)
    out = h.run(0.3, twist=[0.1, 0, 0, 0, 0, 0])
    assert out.mode == "estop" and np.all(out.v == 0)
    ok, _ = h.core.reset_estop()
    assert not ok  # input still active
    h.core.on_estop(False)
    out = h.run(0.1, twist=[0.1, 0, 0, 0, 0, 0])
    assert out.mode == "estop"  # releasing the button alone does not clear the latch
    ok, _ = h.core.reset_estop()
    assert ok
    out = h.run(0.1, twist=[0.1, 0, 0, 0, 0, 0])
    assert out.mode == "moving"


@pytest.mark.parametrize(
    ("twist", "frame", "offset", "needle"),
    [
        ([np.nan, 0, 0, 0, 0, 0], "base_link", 0.0, "non-finite"),
        ([np.inf, 0, 0, 0, 0, 0], "base_link", 0.0, "non-finite"),
        ([0.1, 0, 0, 0, 0, 0], "tool0", 0.0, "frame"),
        ([0.1, 0, 0, 0, 0, 0], "base_link", 5.0, "future"),
        ([0.1, 0, 0, 0, 0, 0], "base_link", -0.5, "old"),
        ([0.1, 0, 0], "base_link", 0.0, "malformed"),
    ],
)
def test_bad_twists_are_rejected_and_arm_holds(twist, frame, offset, needle) -> None:
    h = Harness()
    reason = h.core.on_twist(np.asarray(twist, float), frame, 1.0 + offset, 1.0)
    assert reason is not None and needle in reason
    out = h.run(0.2)
    np.testing.assert_allclose(h.q, HOME)
    assert out.brake_reason == "no_command"


def test_wrong_joy_counts_release_deadman() -> None:
    h = Harness()
    h.run(0.2, twist=[0.1, 0, 0, 0, 0, 0])
    assert h.core.on_joy([0.0] * 6, HELD, h.t) is not None
    assert not h.core.deadman
    assert h.core.on_joy([np.nan] + [0.0] * 7, HELD, h.t) is not None
    assert not h.core.deadman


def test_twist_speed_is_clipped() -> None:
    h = Harness(max_linear_speed=0.1)
    h.core.on_twist(np.array([5.0, 0, 0, 0, 0, 0]), "base_link", 0.0, h.t)
    np.testing.assert_allclose(np.linalg.norm(h.core.command.value[:3]), 0.1)


def test_tracking_error_brakes_then_resyncs() -> None:
    h = Harness(max_tracking_error=0.05)
    h.run(0.2, twist=[0.1, 0, 0, 0, 0, 0])
    h.q = h.q + 0.2  # the real arm is somewhere else (blocked, pushed)
    out = h.run(0.002, twist=[0.1, 0, 0, 0, 0, 0])
    assert out.brake_reason == "tracking_error"
    # ...and once the reference is at rest it re-anchors to the measured arm instead of jumping.
    h.q_frozen = h.q.copy()
    for _ in range(200):
        h.t += h.core.config.dt
        h.core.on_joy(AXES, HELD, h.t)
        h.core.on_joint_state(h.q_frozen, h.t)
        out = h.core.step(h.t)
    np.testing.assert_allclose(out.q, h.q_frozen, atol=0.02)


def test_resync_to_an_arm_pushed_past_a_joint_limit_commands_the_limit() -> None:
    # An arm at rest whose wrist a contact bent past joint 6's limit: the executor re-anchors to
    # it, but the reference it commands stays within the limits (the simulator and the robot
    # reject a target beyond them).
    h = Harness()
    h.run(0.1)
    upper = np.asarray(h.core.config.limits.position_upper)
    lower = np.asarray(h.core.config.limits.position_lower)
    pushed = h.q.copy()
    pushed[5] = upper[5] + 0.07
    for _ in range(50):
        h.t += h.core.config.dt
        h.core.on_joy(AXES, HELD, h.t)
        h.core.on_joint_state(pushed, h.t)
        out = h.core.step(h.t)
        assert np.all(out.q <= upper + 1e-9) and np.all(out.q >= lower - 1e-9), out.q
    assert out.q[5] == pytest.approx(upper[5])


def test_stale_joint_states_brake() -> None:
    h = Harness()
    h.run(0.2, twist=[0.1, 0, 0, 0, 0, 0])
    t = h.t
    for _ in range(200):
        t += h.core.config.dt
        h.core.on_joy(AXES, HELD, t)
        h.core.on_twist(np.array([0.1, 0, 0, 0, 0, 0]), "base_link", t, t)
        out = h.core.step(t)
    assert out.brake_reason == "stale_joint_states" and np.all(out.v == 0)


def test_waits_for_joint_states() -> None:
    core = ExecutorCore(ExecutorConfig(), KIN)
    assert core.step(0.0) is None
