"""When the executor steps, with a fake clock: the steady clock's rate limit and idle timer, the
sim clock's catch-up, and the e-stop that steps at once on either clock."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.control.executor_core import ExecutorConfig, ExecutorCore
from ifagent_ros.core.control.executor_pacing import MAX_CATCH_UP, ExecutorPacer
from ifagent_ros.core.control.kinematics import ArmKinematics

HOME = np.array([0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])
KIN = ArmKinematics()
AXES = [0.0] * 8
HELD = [0] * 5 + [1] + [0] * 5
TWIST = np.array([0.1, 0.0, 0.0, 0.0, 0.0, 0.0])
DT = 0.01  # 100 Hz


def pacer(clock: str = "steady", t: float = 10.0) -> ExecutorPacer:
    core = ExecutorCore(ExecutorConfig(control_rate_hz=1.0 / DT, control_clock=clock), KIN)
    feed(core, t)
    return ExecutorPacer(core)


def feed(core: ExecutorCore, t: float) -> None:
    """Fresh joint state, deadman and twist at ``t`` (the arm is where the reference is)."""
    core.on_joint_state(core.filter.q if core.filter.initialized else HOME, t)
    core.on_joy(AXES, HELD, t)
    assert core.on_twist(TWIST, "base_link", t, t) is None


def test_a_command_steps_at_once_on_the_steady_clock() -> None:
    p = pacer()
    out = p.on_command(10.0)
    assert out is not None and out.mode == "moving"
    assert p.steps == 1 and p.vt == 10.0


def test_a_burst_of_commands_takes_one_step_per_control_period() -> None:
    """10,000 commands within one period move the reference one period, not 10,000."""
    p = pacer()
    outs = [p.on_command(10.0 + i * 1e-7) for i in range(10_000)]
    assert sum(o is not None for o in outs) == 1
    assert p.on_command(10.0 + 0.4 * DT) is None  # still less than half a period ahead
    assert p.on_command(10.0 + 0.6 * DT) is not None
    assert p.steps == 2


def test_steps_never_outrun_the_clock() -> None:
    p = pacer()
    t = 10.0
    for _ in range(2000):  # commands at 5x the control rate for 4 s
        t += DT / 5
        feed(p.core, t)
        p.on_command(t)
        p.on_timer(t)
        assert p.vt <= t + 0.5 * DT + 1e-12  # at most half a period ahead
    assert p.steps == pytest.approx(4.0 / DT, abs=2)


def test_the_timer_steps_only_when_commands_stop() -> None:
    p = pacer()
    p.on_command(10.0)
    assert p.on_timer(10.0 + DT) is None  # the command stream drives the steps
    assert p.on_timer(10.0 + 1.4 * DT) is None
    out = p.on_timer(10.0 + 1.5 * DT)
    assert out is not None and p.steps == 2
    # With commands gone for longer than the watchdog, the timer's steps brake.
    t = 10.0 + 1.5 * DT
    for _ in range(30):
        t += DT
        p.core.on_joint_state(p.core.filter.q, t)
        p.core.on_joy(AXES, HELD, t)
        out = p.on_timer(t) or out
    assert out.brake_reason == "watchdog"


def test_sim_clock_commands_do_not_step_the_timer_takes_one_step_per_period() -> None:
    p = pacer("sim")
    assert p.on_command(10.0) is None and p.steps == 0
    out = p.on_timer(10.0)  # the first tick: one step
    assert out is not None and p.steps == 1
    feed(p.core, 10.0 + 4.5 * DT)
    out = p.on_timer(10.0 + 4.5 * DT)  # /clock moved 4.5 periods in one physics tick
    assert p.steps == 5 and p.vt == pytest.approx(10.0 + 4 * DT)
    assert out is not None and out.mode == "moving"  # the newest of the four
    assert p.on_timer(10.0 + 4.9 * DT) is None and p.steps == 5  # no period elapsed


def test_sim_clock_drops_a_long_pause_instead_of_replaying_it() -> None:
    p = pacer("sim")
    p.on_timer(10.0)
    later = 10.0 + (MAX_CATCH_UP + 10) * DT
    feed(p.core, later)
    p.on_timer(later)
    assert p.steps == 2 and p.vt == pytest.approx(later)


def test_sim_clock_without_clock_does_not_step() -> None:
    p = pacer("sim")
    p.on_timer(10.0)
    for _ in range(100):  # timer ticks, sim time stands still
        assert p.on_timer(10.0) is None
    assert p.steps == 1


@pytest.mark.parametrize("clock", ["steady", "sim"])
def test_estop_steps_at_once_past_the_rate_limit(clock: str) -> None:
    p = pacer(clock)
    p.on_timer(10.0) if clock == "sim" else p.on_command(10.0)
    p.core.on_estop(True)
    out = p.on_estop(10.0 + 0.1 * DT)  # rate-limited for a command, not for an e-stop
    assert out is not None and out.mode == "estop" and out.brake_reason == "estop"
    assert p.steps == 2


def test_nothing_steps_before_the_first_joint_state() -> None:
    core = ExecutorCore(ExecutorConfig(control_rate_hz=1.0 / DT), KIN)
    p = ExecutorPacer(core)
    assert p.on_timer(1.0) is None and p.on_command(1.0) is None and p.steps == 0


def test_step_times_are_recorded_only_on_request() -> None:
    p = pacer()
    p.on_command(10.0)
    assert p.step_times == []
    p.record_step_times = True
    p.on_command(10.0 + DT)
    assert len(p.step_times) == 1 and p.step_times[0] > 0.0


def test_bad_control_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="control_clock must be one of"):
        ExecutorConfig(control_clock="wall")  # type: ignore[arg-type]
