"""The mobile base's executor logic, free of ROS: which path the base follows and when it must not.

Inputs arrive as plain values with a time ``now`` (any monotonic clock). Every control step
``step(now)`` runs the :class:`~ifagent_ros.core.control.local_controller.LocalController` on the
newest path and odometry, or commands zero when the e-stop is latched (until reset), odometry is
stale, the obstacle data is stale (when obstacles are required) or the controller itself stops
(odometry jump, blocked, arrived). Obstacle points are kept in the odometry frame, so a depth
image taken a moment ago still lines up with the base after it moved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ifagent_ros.core.control.local_controller import (
    ControlOutput,
    LocalController,
    LocalControllerConfig,
)


@dataclass(frozen=True)
class BaseExecutorConfig:
    control_rate_hz: float = 20.0
    odom_timeout_s: float = 0.5  # no odometry for this long: stop
    obstacle_timeout_s: float = 1.0  # no obstacle data for this long: stop (if required)
    require_obstacles: bool = True  # drive only while an obstacle sensor reports
    # After a stop, zeros go out this long (always under e-stop); then the executor is quiet so
    # it does not fight another /cmd_vel source (a joystick) while idle.
    idle_zero_s: float = 1.0
    controller: LocalControllerConfig = field(default_factory=LocalControllerConfig)

    @property
    def dt(self) -> float:
        return 1.0 / self.control_rate_hz


@dataclass(frozen=True)
class BaseStep:
    v: float
    w: float
    mode: str  # a ControlState, or estop | stale_odom | no_obstacle_data
    reason: str
    output: ControlOutput | None = None


class BaseExecutorCore:
    def __init__(self, config: BaseExecutorConfig | None = None) -> None:
        self.config = config or BaseExecutorConfig()
        self.controller = LocalController(self.config.controller)
        self.pose: tuple[float, float, float] | None = None
        self.last_odom: float | None = None
        self.obstacles_odom = np.zeros((0, 2))  # obstacle points in the odometry frame
        self.last_obstacles: float | None = None
        self.estop_latched = False
        self.estop_input = False
        self.rejections = 0
        self.last_rejection: str | None = None
        self.last_step_time: float | None = None
        self.last = BaseStep(0.0, 0.0, "idle", "no path")
        self._moving_until = -math.inf  # keep sending zeros until then after a stop

    def reject(self, reason: str) -> str:
        self.rejections += 1
        self.last_rejection = reason
        return reason

    # ------------------------------------------------------------------ inputs
    def on_path(self, points: Sequence[Sequence[float]]) -> str | None:
        """A new path (x, y in the odometry frame); [] stops. Returns a rejection or None."""
        reason = self.controller.set_path(points)
        return self.reject(reason) if reason else None

    def on_odometry(self, x: float, y: float, yaw: float, now: float) -> str | None:
        if not all(math.isfinite(v) for v in (x, y, yaw)):
            return self.reject(f"odometry rejected: non-finite pose {(x, y, yaw)}")
        self.pose, self.last_odom = (float(x), float(y), float(yaw)), now
        return None

    def on_obstacles(self, points_base: np.ndarray, now: float,
                     pose: tuple[float, float, float] | None = None) -> str | None:
        """Obstacle points (N, 2) in base_link, seen at odometry ``pose`` (default: latest)."""
        pose = pose or self.pose
        if pose is None:
            return self.reject("obstacles ignored: no odometry yet")
        pts = np.asarray(points_base, dtype=float).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        c, s = math.cos(pose[2]), math.sin(pose[2])
        self.obstacles_odom = np.column_stack([pose[0] + c * pts[:, 0] - s * pts[:, 1],
                                               pose[1] + s * pts[:, 0] + c * pts[:, 1]])
        self.last_obstacles = now
        return None

    def on_estop(self, active: bool) -> None:
        self.estop_input = bool(active)
        if active:
            self.estop_latched = True
            self.controller.reset()

    def reset_estop(self) -> tuple[bool, str]:
        if self.estop_input:
            return False, "e-stop input is still active: publish False on the e-stop topic first"
        was = self.estop_latched
        self.estop_latched = False
        self.controller.reset()  # the old path is forgotten: the planner sends a new one
        return True, "e-stop reset" if was else "e-stop was not latched"

    # ------------------------------------------------------------------ control
    def obstacles_in_base(self) -> np.ndarray:
        if self.pose is None or len(self.obstacles_odom) == 0:
            return np.zeros((0, 2))
        x, y, yaw = self.pose
        c, s = math.cos(yaw), math.sin(yaw)
        rel = self.obstacles_odom - [x, y]
        return np.column_stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1]])

    def step(self, now: float) -> BaseStep:
        cfg = self.config
        dt = cfg.dt if self.last_step_time is None else min(max(now - self.last_step_time, 1e-3),
                                                            0.5)
        self.last_step_time = now
        if self.estop_latched:
            self.controller.reset()
            return self._out(0.0, 0.0, "estop", "e-stop latched: call reset_estop to clear")
        if self.pose is None or self.last_odom is None or now - self.last_odom > cfg.odom_timeout_s:
            self.controller.reset()
            return self._out(0.0, 0.0, "stale_odom", "no recent odometry: stopped")
        if (cfg.require_obstacles and self.controller.has_path
                and (self.last_obstacles is None
                     or now - self.last_obstacles > cfg.obstacle_timeout_s)):
            self.controller.step(self.pose, None, dt)  # keeps the jump check going
            return self._out(0.0, 0.0, "no_obstacle_data",
                             "no recent depth/obstacle data: not driving blind")
        out = self.controller.step(self.pose, self.obstacles_in_base(), dt)
        return self._out(out.v, out.w, out.state, out.reason, out)

    def should_send(self, out: BaseStep, now: float) -> bool:
        """Whether this step's command goes out: while moving, for ``idle_zero_s`` after, and
        always under e-stop."""
        moving = out.v != 0.0 or out.w != 0.0
        if moving:
            self._moving_until = now + self.config.idle_zero_s
        return moving or now < self._moving_until or out.mode == "estop"

    def _out(self, v: float, w: float, mode: str, reason: str,
             output: ControlOutput | None = None) -> BaseStep:
        if not (math.isfinite(v) and math.isfinite(w)):
            v, w, mode, reason = 0.0, 0.0, "bad_input", "non-finite command: stopped"
        self.last = BaseStep(float(v), float(w), mode, reason, output)
        return self.last


def camera_in_base(position: Sequence[float], pitch_rad: float = 0.0) -> np.ndarray:
    """4x4 pose of an optical frame (z forward, x right, y down) in base_link for a camera at
    ``position`` looking along +x, tilted down by ``pitch_rad``."""
    c, s = math.cos(pitch_rad), math.sin(pitch_rad)
    pitch = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    optical = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    t = np.eye(4)
    t[:3, :3] = pitch @ optical
    t[:3, 3] = np.asarray(position, dtype=float)
    return t
