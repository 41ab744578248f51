"""Velocity and acceleration limits of a mobile base's ``cmd_vel`` (pure Python, no simulator).

Shared by the PyBullet house (:mod:`ifagent_ros.sim.house_sim`) and the Habitat adapter
(:mod:`ifagent_ros.sim.habitat_env`), so both obey the same limits the same way: ``command``
clips the target to the speed limits (and rejects NaN/inf by braking), ``advance`` moves the
current command towards the target by at most ``accel * dt``, and an optional timeout brakes when
commands stop arriving. :class:`BaseDriveConfig` is the part of both simulators' configs that
sets them (and the start pose), checked the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BaseLimits:
    max_linear_speed: float = 0.6  # m/s
    max_angular_speed: float = 1.5  # rad/s
    max_linear_accel: float = 1.0  # m/s^2
    max_angular_accel: float = 3.0  # rad/s^2
    cmd_timeout: float | None = None  # seconds without a command before braking; None: off

    def __post_init__(self) -> None:
        for name in ("max_linear_speed", "max_angular_speed", "max_linear_accel",
                     "max_angular_accel"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"{name} must be finite and > 0, got {v}")
        if self.cmd_timeout is not None and not self.cmd_timeout > 0.0:
            raise ValueError(f"cmd_timeout must be > 0 or None, got {self.cmd_timeout}")


@dataclass(kw_only=True)
class BaseDriveConfig:
    """A simulated mobile base's start pose and ``cmd_vel`` limits (the fields of
    :class:`BaseLimits`), as HouseSimConfig and HabitatConfig take them."""

    start: tuple[float, float, float] | None = None  # x, y, yaw in map; None: the sim's choice
    max_linear_speed: float = 0.6  # m/s
    max_angular_speed: float = 1.5  # rad/s
    max_linear_accel: float = 1.0  # m/s^2
    max_angular_accel: float = 3.0  # rad/s^2
    cmd_timeout: float | None = None  # sim seconds without a command before braking; None: off

    def __post_init__(self) -> None:
        if self.start is not None and (len(self.start) != 3
                                       or not all(math.isfinite(v) for v in self.start)):
            raise ValueError(f"start must be 3 finite values (x, y, yaw), got {self.start}")
        self.limits  # validates the speed/acceleration limits now

    @property
    def limits(self) -> BaseLimits:
        """The cmd_vel limits (the same rules in every simulator)."""
        return BaseLimits(self.max_linear_speed, self.max_angular_speed, self.max_linear_accel,
                          self.max_angular_accel, self.cmd_timeout)


class CmdVelLimiter:
    def __init__(self, limits: BaseLimits | None = None) -> None:
        self.limits = limits or BaseLimits()
        self.target = (0.0, 0.0)  # clipped command
        self.current = (0.0, 0.0)  # acceleration-limited command in force now
        self._since_command = 0.0

    def command(self, v: float, w: float) -> tuple[float, float]:
        """Set the target; returns it after clipping. NaN/inf: brake and raise ValueError."""
        v, w = float(v), float(w)
        if not (math.isfinite(v) and math.isfinite(w)):
            self.target = (0.0, 0.0)
            raise ValueError(f"cmd_vel must be finite, got v={v} w={w}; braking")
        lim = self.limits
        self.target = (min(max(v, -lim.max_linear_speed), lim.max_linear_speed),
                       min(max(w, -lim.max_angular_speed), lim.max_angular_speed))
        self._since_command = 0.0
        return self.target

    def stop(self) -> None:
        self.target = (0.0, 0.0)

    def reset(self) -> None:
        self.target = self.current = (0.0, 0.0)
        self._since_command = 0.0

    def advance(self, dt: float) -> tuple[float, float]:
        """The command after ``dt`` seconds more (ramped towards the target)."""
        lim = self.limits
        self._since_command += dt
        if lim.cmd_timeout is not None and self._since_command > lim.cmd_timeout:
            self.target = (0.0, 0.0)
        v0, w0 = self.current
        dv = min(max(self.target[0] - v0, -lim.max_linear_accel * dt), lim.max_linear_accel * dt)
        dw = min(max(self.target[1] - w0, -lim.max_angular_accel * dt),
                 lim.max_angular_accel * dt)
        self.current = (v0 + dv, w0 + dw)
        return self.current
