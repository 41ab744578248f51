"""cmd_vel limits shared by the PyBullet house and the Habitat adapter."""

from __future__ import annotations

import math

import pytest

from ifagent_ros.sim.base_command import BaseLimits, CmdVelLimiter


def test_clips_to_speed_limits_and_ramps_at_the_acceleration_limits() -> None:
    lim = CmdVelLimiter(BaseLimits(max_linear_speed=0.5, max_angular_speed=1.0,
                                   max_linear_accel=1.0, max_angular_accel=2.0))
    assert lim.command(2.0, -3.0) == (0.5, -1.0)
    v, w = lim.advance(0.1)
    assert (v, w) == pytest.approx((0.1, -0.2))
    for _ in range(10):
        v, w = lim.advance(0.1)
    assert (v, w) == pytest.approx((0.5, -1.0))
    lim.stop()
    assert lim.advance(0.1) == pytest.approx((0.4, -0.8))


def test_nan_brakes_and_raises() -> None:
    lim = CmdVelLimiter()
    lim.command(0.3, 0.0)
    lim.advance(1.0)
    with pytest.raises(ValueError, match="finite"):
        lim.command(math.nan, 0.0)
    assert lim.target == (0.0, 0.0)
    assert lim.advance(1.0) == (0.0, 0.0)


def test_timeout_brakes_when_commands_stop() -> None:
    lim = CmdVelLimiter(BaseLimits(cmd_timeout=0.5))
    lim.command(0.3, 0.2)
    lim.advance(0.4)
    assert lim.target == (0.3, 0.2)
    lim.advance(0.2)
    assert lim.target == (0.0, 0.0)
    lim.command(0.3, 0.2)  # a new command re-arms it
    assert lim.target == (0.3, 0.2)


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_angular_accel"):
        BaseLimits(max_angular_accel=0.0)
    with pytest.raises(ValueError, match="cmd_timeout"):
        BaseLimits(cmd_timeout=-1.0)
