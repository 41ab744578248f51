"""A local controller for a differential-drive base following a path of (x, y) points (ROS-free).

What a simulated base uses instead of Nav2's controller server: regulated pure pursuit on the
path (in the odometry frame), with

* velocity and acceleration limits (forward speed never negative: the base has no rear sensor),
* turning in place when the path point ahead lies far to the side,
* a speed that lets it stop at the goal and before the first obstacle along its predicted arc
  (obstacle points in ``base_link``: from a depth image, see :func:`depth_to_obstacle_points`,
  or from known walls), stopping ``stop_distance_m`` short of contact,
* a goal tolerance, and
* an odometry-jump check: a pose that moves further in one step than the base can drive stops
  the base and latches until a new path (or :meth:`LocalController.reset`).

Every output is finite; bad input (NaN poses, a path with NaN or fewer than one point) stops the
base and says why in :attr:`ControlOutput.reason`.

    ctl = LocalController(LocalControllerConfig())
    ctl.set_path([(0, 0), (2, 0), (2, 3)])
    out = ctl.step((x, y, yaw), obstacles_base_xy, dt)   # -> out.v, out.w, out.state
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

ControlState = Literal["idle", "rotating", "tracking", "slowing", "blocked", "arrived",
                       "odom_jump", "bad_input"]


@dataclass(frozen=True)
class LocalControllerConfig:
    max_linear_speed: float = 0.5  # m/s
    max_angular_speed: float = 1.2  # rad/s
    max_linear_accel: float = 0.5  # m/s^2 speeding up
    max_linear_decel: float = 1.0  # m/s^2 braking (goal, curves, obstacles)
    max_angular_accel: float = 2.5  # rad/s^2
    lookahead_m: float = 0.45  # pure-pursuit lookahead at full speed
    min_lookahead_m: float = 0.25
    rotate_in_place_rad: float = 0.7  # heading error to the lookahead point above which it turns
    heading_gain: float = 2.0  # rad/s per rad when turning in place
    goal_tolerance_m: float = 0.12
    robot_radius_m: float = 0.2
    safety_margin_m: float = 0.04  # extra clearance around the footprint
    stop_distance_m: float = 0.08  # stop this far short of contact
    reaction_time_s: float = 0.2  # sensing + actuation delay: the distance it costs is not free
    horizon_m: float = 1.5  # how far ahead along the arc obstacles are checked
    arc_step_m: float = 0.05
    odom_jump_m: float = 0.3  # extra displacement beyond max speed x dt that counts as a jump
    odom_jump_rad: float = 0.6  # extra rotation beyond max angular speed x dt

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"LocalControllerConfig.{name} must be finite and > 0, "
                                 f"got {value}")
        if self.min_lookahead_m > self.lookahead_m:
            raise ValueError("min_lookahead_m must be <= lookahead_m")


@dataclass(frozen=True)
class ControlOutput:
    v: float  # m/s, forward
    w: float  # rad/s, counter-clockwise
    state: ControlState
    reason: str = ""
    distance_to_goal: float = math.nan  # m along the path (NaN: no path)
    cross_track_error: float = math.nan  # m from the path (NaN: no path)
    free_distance: float = math.inf  # m of free arc ahead before the stop distance


def _wrap(a: float) -> float:
    return math.atan2(math.sin(a), math.cos(a))


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


class LocalController:
    def __init__(self, config: LocalControllerConfig | None = None) -> None:
        self.config = config or LocalControllerConfig()
        self.path = np.zeros((0, 2))
        self._seg_len = np.zeros(0)
        self._segment = 0  # index of the path segment the robot is on (progress never goes back)
        self._v = 0.0
        self._w = 0.0
        self._last_pose: tuple[float, float, float] | None = None
        self._jumped: str | None = None
        self.last = ControlOutput(0.0, 0.0, "idle")

    # ------------------------------------------------------------------ path
    def set_path(self, points: Sequence[Sequence[float]]) -> str | None:
        """Follow ``points`` (x, y in the odometry frame). Returns a rejection reason or None.

        An empty sequence clears the path (the base brakes to a stop). A new path also clears
        a latched odometry jump: whoever sends it has seen the new odometry.
        """
        try:
            pts = np.asarray(points, dtype=float).reshape(-1, 2)
        except (TypeError, ValueError) as err:
            self.clear()
            return f"path rejected: not a list of (x, y) points ({err}); stopping"
        if not np.isfinite(pts).all():
            self.clear()
            return "path rejected: non-finite point; stopping"
        if len(pts) > 1:  # drop repeated points: zero-length segments have no direction
            keep = np.r_[True, np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6]
            pts = pts[keep]
        self.path = pts
        self._seg_len = np.linalg.norm(np.diff(pts, axis=0), axis=1) if len(pts) > 1 \
            else np.zeros(0)
        self._segment = 0
        self._jumped = None
        return None

    def clear(self) -> None:
        self.set_path([])

    def reset(self) -> None:
        """Forget the path, the odometry history and the current speed (e.g. after an e-stop)."""
        self.clear()
        self._v = self._w = 0.0
        self._last_pose = None

    @property
    def has_path(self) -> bool:
        return len(self.path) > 0

    # ------------------------------------------------------------------ control
    def step(self, pose: Sequence[float], obstacles: np.ndarray | None, dt: float) -> ControlOutput:
        """One control period: ``pose`` = (x, y, yaw) from odometry, ``obstacles`` = (N, 2)
        points in base_link (None: none known), ``dt`` seconds since the last step."""
        cfg = self.config
        x, y, yaw = (float(v) for v in pose)
        if not (_finite(x, y, yaw) and math.isfinite(dt) and dt > 0.0):
            return self._halt("bad_input", f"non-finite pose {x, y, yaw} or bad dt {dt}; "
                                           "stopping")
        jump = self._check_jump((x, y, yaw), dt)
        if jump is not None:
            self._jumped = jump
        if self._jumped is not None:
            return self._halt("odom_jump", self._jumped)
        if not self.has_path:
            return self._ramp(0.0, 0.0, dt, "idle", "no path")

        remaining, cross = self._progress(x, y)
        if remaining <= cfg.goal_tolerance_m:
            return self._ramp(0.0, 0.0, dt, "arrived",
                              f"within {cfg.goal_tolerance_m:.2f} m of the goal",
                              remaining, cross)
        speed_frac = min(1.0, abs(self._v) / cfg.max_linear_speed)
        look = max(cfg.min_lookahead_m, cfg.lookahead_m * speed_frac)
        tx, ty = self._lookahead_point(x, y, look)
        c, s = math.cos(yaw), math.sin(yaw)
        lx, ly = c * (tx - x) + s * (ty - y), -s * (tx - x) + c * (ty - y)
        bearing = math.atan2(ly, lx)
        if abs(bearing) > cfg.rotate_in_place_rad:
            w = max(-cfg.max_angular_speed, min(cfg.max_angular_speed, cfg.heading_gain * bearing))
            return self._ramp(0.0, w, dt, "rotating",
                              f"turning {math.degrees(bearing):.0f} deg toward the path",
                              remaining, cross)
        dist2 = lx * lx + ly * ly
        curvature = 2.0 * ly / dist2 if dist2 > 1e-9 else 0.0
        v = cfg.max_linear_speed
        if abs(curvature) > 1e-9:  # regulated: slow down in tight curves to keep w in limits
            v = min(v, cfg.max_angular_speed / abs(curvature))
        v = min(v, math.sqrt(2.0 * cfg.max_linear_decel * remaining))  # stop at the goal
        free = self.free_distance(obstacles, curvature)
        state: ControlState = "tracking"
        reason = "following the path"
        usable = free - self._v * cfg.reaction_time_s
        v_obstacle = math.sqrt(2.0 * cfg.max_linear_decel * max(0.0, usable))
        if v_obstacle < v:
            v = v_obstacle
            state, reason = "slowing", f"obstacle {free + cfg.stop_distance_m:.2f} m ahead"
        if free <= 0.0:
            return self._ramp(0.0, 0.0, dt, "blocked",
                              f"obstacle within {cfg.stop_distance_m:.2f} m ahead: stopped",
                              remaining, cross, free)
        return self._ramp(v, v * curvature, dt, state, reason, remaining, cross, free,
                          hard_v_limit=v_obstacle)

    # ------------------------------------------------------------------ pieces
    def _check_jump(self, pose: tuple[float, float, float], dt: float) -> str | None:
        cfg = self.config
        last, self._last_pose = self._last_pose, pose
        if last is None:
            return None
        moved = math.hypot(pose[0] - last[0], pose[1] - last[1])
        turned = abs(_wrap(pose[2] - last[2]))
        allowed = cfg.odom_jump_m + 1.5 * cfg.max_linear_speed * dt
        allowed_turn = cfg.odom_jump_rad + 1.5 * cfg.max_angular_speed * dt
        if moved > allowed or turned > allowed_turn:
            return (f"odometry jumped {moved:.2f} m / {math.degrees(turned):.0f} deg in "
                    f"{dt:.3f} s (allowed {allowed:.2f} m): stopped until a new path")
        return None

    def _progress(self, x: float, y: float) -> tuple[float, float]:
        """Advance the current segment; returns (path length left, distance from the path)."""
        if len(self.path) == 1:
            d = math.hypot(self.path[0, 0] - x, self.path[0, 1] - y)
            return d, d
        p = np.array([x, y])
        best_seg, best_d, best_t = self._segment, math.inf, 0.0
        # Search from the current segment on: progress never goes back along the path.
        for i in range(self._segment, len(self._seg_len)):
            a, b = self.path[i], self.path[i + 1]
            t = float(np.clip(np.dot(p - a, b - a) / self._seg_len[i] ** 2, 0.0, 1.0))
            d = float(np.linalg.norm(a + t * (b - a) - p))
            if d < best_d - 1e-9:
                best_seg, best_d, best_t = i, d, t
        self._segment = best_seg
        if best_seg == len(self._seg_len) - 1:  # on the last segment: straight to the goal
            return float(np.linalg.norm(self.path[-1] - p)), best_d
        left = (1.0 - best_t) * self._seg_len[best_seg] + float(self._seg_len[best_seg + 1:].sum())
        return left, best_d

    def _lookahead_point(self, x: float, y: float, look: float) -> tuple[float, float]:
        """The first path point ``look`` metres from the robot at or after its segment; the
        goal when the whole rest of the path is closer."""
        p = np.array([x, y])
        if len(self.path) == 1:
            return float(self.path[0, 0]), float(self.path[0, 1])
        for i in range(self._segment, len(self._seg_len)):
            a, b = self.path[i], self.path[i + 1]
            d = b - a
            f = a - p
            qa, qb, qc = float(d @ d), 2.0 * float(f @ d), float(f @ f) - look * look
            disc = qb * qb - 4.0 * qa * qc
            if disc >= 0.0:
                t = (-qb + math.sqrt(disc)) / (2.0 * qa)
                if 0.0 <= t <= 1.0:
                    q = a + t * d
                    return float(q[0]), float(q[1])
        return float(self.path[-1, 0]), float(self.path[-1, 1])

    def free_distance(self, obstacles: np.ndarray | None, curvature: float) -> float:
        """Arc length the base can drive along ``curvature`` before coming within the stop
        distance of an obstacle point (inf when none is within the horizon)."""
        cfg = self.config
        if obstacles is None or len(obstacles) == 0:
            return math.inf
        pts = np.asarray(obstacles, dtype=float).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        reach = cfg.horizon_m + cfg.robot_radius_m + cfg.safety_margin_m
        pts = pts[np.linalg.norm(pts, axis=1) <= reach]
        if len(pts) == 0:
            return math.inf
        s = np.arange(0.0, cfg.horizon_m + 1e-9, cfg.arc_step_m)
        if abs(curvature) < 1e-6:
            cx, cy, heading = s, np.zeros_like(s), np.zeros_like(s)
        else:
            heading = curvature * s
            cx, cy = np.sin(heading) / curvature, (1.0 - np.cos(heading)) / curvature
        rel_x = pts[None, :, 0] - cx[:, None]
        rel_y = pts[None, :, 1] - cy[:, None]
        dist = np.hypot(rel_x, rel_y)
        ahead = rel_x * np.cos(heading)[:, None] + rel_y * np.sin(heading)[:, None] > 0.0
        # Only points ahead of the footprint block: the base never backs into what is behind.
        hit = ((dist < cfg.robot_radius_m + cfg.safety_margin_m) & ahead).any(axis=1)
        if not hit.any():
            return math.inf
        first = float(s[int(np.argmax(hit))])
        return first - cfg.stop_distance_m

    def _ramp(self, v: float, w: float, dt: float, state: ControlState, reason: str,
              remaining: float = math.nan, cross: float = math.nan, free: float = math.inf,
              hard_v_limit: float = math.inf) -> ControlOutput:
        cfg = self.config
        v = max(0.0, min(cfg.max_linear_speed, v))
        w = max(-cfg.max_angular_speed, min(cfg.max_angular_speed, w))
        v_new = min(max(v, self._v - cfg.max_linear_decel * dt),
                    self._v + cfg.max_linear_accel * dt)
        # Braking harder than the comfort limit is allowed when an obstacle demands it.
        v_new = max(0.0, min(v_new, hard_v_limit))
        if state == "blocked":
            v_new = 0.0
        a_w = cfg.max_angular_accel * dt
        w_new = min(max(w, self._w - a_w), self._w + a_w)
        if v_new > 1e-6 and abs(w) > 1e-9 and abs(v) > 1e-6:
            # Keep the curvature of the path when the speed ramps (within the limits).
            w_new = min(max(w * v_new / v, self._w - a_w), self._w + a_w)
        if not _finite(v_new, w_new):
            v_new, w_new, state, reason = 0.0, 0.0, "bad_input", "non-finite command: stopping"
        self._v, self._w = v_new, w_new
        self.last = ControlOutput(v_new, w_new, state, reason, remaining, cross, free)
        return self.last

    def _halt(self, state: ControlState, reason: str) -> ControlOutput:
        self._v = self._w = 0.0
        self.last = ControlOutput(0.0, 0.0, state, reason)
        return self.last


def depth_to_obstacle_points(depth: np.ndarray, k: np.ndarray, camera_in_base: np.ndarray,
                             min_height: float = 0.05, max_height: float = 1.6,
                             max_range: float = 3.0, stride: int = 4) -> np.ndarray:
    """Obstacle points (N, 2) in base_link from a metric z-depth image.

    ``k`` is the 3x3 intrinsic matrix, ``camera_in_base`` the 4x4 pose of the optical frame
    (z forward, x right, y down) in base_link; base_link's z = 0 is the frame's origin, so
    ``min_height``/``max_height`` are measured from it (the floor is just below). Every
    ``stride``-th pixel is used; NaN and out-of-range depths are skipped.
    """
    depth = np.asarray(depth, dtype=np.float32)
    k, camera_in_base = np.asarray(k, dtype=float), np.asarray(camera_in_base, dtype=float)
    if depth.ndim != 2 or k.shape != (3, 3) or camera_in_base.shape != (4, 4):
        raise ValueError(f"depth must be 2-D, K 3x3 and camera_in_base 4x4, got "
                         f"{depth.shape}, {k.shape}, {camera_in_base.shape}")
    h, w = depth.shape
    vs, us = np.mgrid[0:h:stride, 0:w:stride]
    z = depth[vs, us].astype(float).ravel()
    us, vs = us.ravel().astype(float), vs.ravel().astype(float)
    ok = np.isfinite(z) & (z > 0.0) & (z < max_range)
    z, us, vs = z[ok], us[ok], vs[ok]
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    cam = np.stack([(us - cx) / fx * z, (vs - cy) / fy * z, z, np.ones_like(z)])
    base = (camera_in_base @ cam)[:3].T
    keep = (base[:, 2] > min_height) & (base[:, 2] < max_height)
    return base[keep, :2]
