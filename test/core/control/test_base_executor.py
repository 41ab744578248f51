"""The base executor's decisions with a fake clock: e-stop latch, stale odometry, and when its
commands go out (while moving, zeros for idle_zero_s after a stop, always under e-stop)."""

from __future__ import annotations

import pytest

from ifagent_ros.core.control.base_executor import BaseExecutorConfig, BaseExecutorCore


def core(**kw: object) -> BaseExecutorCore:
    c = BaseExecutorCore(BaseExecutorConfig(require_obstacles=False, **kw))  # type: ignore[arg-type]
    c.on_odometry(0.0, 0.0, 0.0, 0.0)
    return c


def test_sends_while_moving_then_zeros_for_idle_zero_s_then_nothing() -> None:
    c = core(idle_zero_s=1.0)
    c.on_path([(2.0, 0.0)])
    t, sent = 0.0, []
    for _ in range(10):
        t += 0.05
        c.on_odometry(0.0, 0.0, 0.0, t)
        out = c.step(t)
        sent.append(c.should_send(out, t))
    assert out.v > 0.0 and all(sent)
    c.on_path([])  # stop
    last_moving, quiet = t, 0
    for _ in range(40):
        t += 0.05
        c.on_odometry(0.0, 0.0, 0.0, t)
        out = c.step(t)
        moving = out.v != 0.0 or out.w != 0.0
        last_moving = t if moving else last_moving
        assert c.should_send(out, t) == (moving or t < last_moving + 1.0)
        quiet += not c.should_send(out, t)
    assert not moving and quiet > 0  # idle: quiet, another /cmd_vel source may drive


def test_estop_zero_always_goes_out_and_latches() -> None:
    c = core()
    c.on_estop(True)
    c.on_estop(False)
    for t in (10.0, 100.0):
        c.on_odometry(0.0, 0.0, 0.0, t)
        out = c.step(t)
        assert out.mode == "estop" and (out.v, out.w) == (0.0, 0.0)
        assert c.should_send(out, t)
    assert c.reset_estop() == (True, "e-stop reset")


def test_stale_odometry_stops() -> None:
    c = core(odom_timeout_s=0.5)
    c.on_path([(2.0, 0.0)])
    out = c.step(1.0)
    assert out.mode == "stale_odom" and out.v == 0.0


def test_no_obstacle_data_stops_when_required() -> None:
    c = BaseExecutorCore(BaseExecutorConfig(require_obstacles=True))
    c.on_odometry(0.0, 0.0, 0.0, 0.0)
    c.on_path([(2.0, 0.0)])
    out = c.step(0.05)
    assert out.mode == "no_obstacle_data" and out.v == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_odometry_is_rejected(bad: float) -> None:
    c = core()
    assert c.on_odometry(bad, 0.0, 0.0, 1.0) is not None and c.rejections == 1
