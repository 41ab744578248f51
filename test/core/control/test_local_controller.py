"""LocalController: path tracking, limits, obstacles, odometry jumps and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ifagent_ros.core.control.base_executor import camera_in_base
from ifagent_ros.core.control.local_controller import (
    LocalController,
    LocalControllerConfig,
    depth_to_obstacle_points,
)

DT = 0.05


def to_base(points: np.ndarray, pose: tuple[float, float, float]) -> np.ndarray:
    x, y, yaw = pose
    c, s = math.cos(yaw), math.sin(yaw)
    rel = points - [x, y]
    return np.column_stack([c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1]])


def drive(ctl: LocalController, pose: tuple[float, float, float], steps: int,
          world_obstacles: np.ndarray | None = None) -> tuple[list, tuple[float, float, float]]:
    """Unicycle with the commanded (v, w); returns the outputs and the final pose."""
    x, y, yaw = pose
    outs = []
    for _ in range(steps):
        obs = None if world_obstacles is None else to_base(world_obstacles, (x, y, yaw))
        out = ctl.step((x, y, yaw), obs, DT)
        outs.append(out)
        mid = yaw + 0.5 * out.w * DT
        x, y, yaw = x + out.v * DT * math.cos(mid), y + out.v * DT * math.sin(mid), yaw + out.w * DT
    return outs, (x, y, yaw)


def wall(x0: float, y0: float, x1: float, y1: float, n: int = 60) -> np.ndarray:
    return np.column_stack([np.linspace(x0, x1, n), np.linspace(y0, y1, n)])


def test_follows_a_polyline_to_the_goal_within_limits() -> None:
    cfg = LocalControllerConfig()
    ctl = LocalController(cfg)
    path = [(0.0, 0.0), (3.0, 0.0), (3.0, 2.0), (1.0, 3.0)]
    assert ctl.set_path(path) is None
    outs, (x, y, _) = drive(ctl, (0.0, 0.0, math.pi / 2), 800)
    assert math.hypot(x - 1.0, y - 3.0) <= cfg.goal_tolerance_m + 0.02
    assert outs[-1].state == "arrived" and outs[-1].v == 0.0
    assert any(o.state == "rotating" for o in outs[:20])  # started facing away from the path
    tracking = [o.cross_track_error for o in outs if o.state == "tracking"]
    assert np.mean(tracking) < 0.05 and max(tracking) < 0.2
    v = np.array([o.v for o in outs])
    w = np.array([o.w for o in outs])
    assert v.min() >= 0.0 and v.max() <= cfg.max_linear_speed + 1e-9
    assert np.abs(w).max() <= cfg.max_angular_speed + 1e-9
    assert np.diff(v).max() <= cfg.max_linear_accel * DT + 1e-9
    assert np.diff(v).min() >= -cfg.max_linear_decel * DT - 1e-9
    assert np.abs(np.diff(w)).max() <= cfg.max_angular_accel * DT + 1e-9


def test_stops_short_of_a_wall_across_the_path() -> None:
    cfg = LocalControllerConfig()
    ctl = LocalController(cfg)
    ctl.set_path([(0.0, 0.0), (4.0, 0.0)])
    outs, (x, _, _) = drive(ctl, (0.0, 0.0, 0.0), 300, wall(2.0, -1.0, 2.0, 1.0))
    assert outs[-1].state == "blocked" and outs[-1].v == 0.0
    gap = 2.0 - x - cfg.robot_radius_m
    assert cfg.safety_margin_m <= gap <= cfg.safety_margin_m + cfg.stop_distance_m + 0.06
    assert any(o.state == "slowing" for o in outs)


def test_obstacle_beside_the_path_does_not_block() -> None:
    ctl = LocalController()
    ctl.set_path([(0.0, 0.0), (3.0, 0.0)])
    outs, (x, _, _) = drive(ctl, (0.0, 0.0, 0.0), 300, wall(-1.0, 0.45, 4.0, 0.45))
    assert outs[-1].state == "arrived" and x > 2.8
    assert not any(o.state == "blocked" for o in outs)


def test_slows_for_an_obstacle_ahead_before_it_matters() -> None:
    ctl = LocalController()
    ctl.set_path([(0.0, 0.0), (5.0, 0.0)])
    _, pose = drive(ctl, (0.0, 0.0, 0.0), 40)  # at cruise speed
    cruise = ctl.last.v
    x = pose[0]
    far = ctl.step(pose, to_base(wall(x + 2.5, -1, x + 2.5, 1), pose), DT)
    near = ctl.step(pose, to_base(wall(x + 0.45, -1, x + 0.45, 1), pose), DT)
    assert far.v >= cruise - 1e-9 > 0.3 and far.state == "tracking"
    assert near.state == "slowing" and near.v < 0.8 * cruise


def test_odometry_jump_stops_and_latches_until_a_new_path() -> None:
    ctl = LocalController()
    ctl.set_path([(0.0, 0.0), (5.0, 0.0)])
    drive(ctl, (0.0, 0.0, 0.0), 20)
    x = ctl._last_pose[0]  # type: ignore[index]
    out = ctl.step((x + 2.0, 0.0, 0.0), None, DT)
    assert out.state == "odom_jump" and out.v == 0.0 and out.w == 0.0
    assert "jumped" in out.reason
    again = ctl.step((x + 2.0, 0.0, 0.0), None, DT)  # consistent now, but still latched
    assert again.state == "odom_jump" and again.v == 0.0
    ctl.set_path([(x + 2.0, 0.0), (6.0, 0.0)])
    assert ctl.step((x + 2.0, 0.0, 0.0), None, DT).state in ("tracking", "slowing")


def test_bad_input_stops_and_outputs_stay_finite() -> None:
    ctl = LocalController()
    assert "non-finite" in (ctl.set_path([(0.0, 0.0), (math.nan, 1.0)]) or "")
    assert not ctl.has_path
    assert ctl.set_path("not a path") is not None  # type: ignore[arg-type]
    ctl.set_path([(0.0, 0.0), (2.0, 0.0)])
    out = ctl.step((math.nan, 0.0, 0.0), None, DT)
    assert out.state == "bad_input" and (out.v, out.w) == (0.0, 0.0)
    assert ctl.step((0.0, 0.0, 0.0), None, -1.0).state == "bad_input"
    rng = np.random.default_rng(0)
    for _ in range(300):
        pose = tuple(rng.normal(0, 3, 3))
        obs = rng.normal(0, 1, (20, 2))
        obs[rng.random(20) < 0.2] = np.nan
        out = ctl.step(pose, obs, float(rng.uniform(0.01, 0.3)))
        assert math.isfinite(out.v) and math.isfinite(out.w)


def test_empty_path_brakes_within_the_deceleration_limit() -> None:
    cfg = LocalControllerConfig()
    ctl = LocalController(cfg)
    ctl.set_path([(0.0, 0.0), (5.0, 0.0)])
    _, pose = drive(ctl, (0.0, 0.0, 0.0), 40)
    v0 = ctl.last.v
    ctl.clear()
    outs, _ = drive(ctl, pose, 30)
    assert outs[0].state == "idle"
    assert outs[0].v == pytest.approx(max(0.0, v0 - cfg.max_linear_decel * DT))
    assert outs[-1].v == 0.0


def test_single_point_path_and_goal_tolerance() -> None:
    ctl = LocalController()
    ctl.set_path([(1.0, 1.0)])
    outs, (x, y, _) = drive(ctl, (0.0, 0.0, 0.0), 300)
    assert outs[-1].state == "arrived"
    assert math.hypot(x - 1.0, y - 1.0) <= ctl.config.goal_tolerance_m + 0.02


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="max_linear_speed"):
        LocalControllerConfig(max_linear_speed=-1.0)
    with pytest.raises(ValueError, match="min_lookahead"):
        LocalControllerConfig(lookahead_m=0.2, min_lookahead_m=0.3)


def test_depth_image_of_a_wall_gives_points_at_its_distance() -> None:
    h, w, f = 60, 80, 60.0
    k = np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])
    cam = camera_in_base((0.1, 0.0, 1.0))
    depth = np.full((h, w), 2.0, dtype=np.float32)  # a wall 2 m ahead of the camera
    depth[:5] = np.nan  # no return
    pts = depth_to_obstacle_points(depth, k, cam, stride=2)
    assert len(pts) > 100
    assert np.allclose(pts[:, 0], 2.1, atol=1e-6)
    half_width = 2.0 * ((w - 1) / 2) / f
    assert pts[:, 1].min() == pytest.approx(-half_width, abs=0.05)
    # The floor alone (camera 1 m above base_link, looking slightly down) is not an obstacle.
    cam_down = camera_in_base((0.1, 0.0, 1.0), math.radians(40.0))
    v = np.arange(h)[:, None] * np.ones((1, w))
    ray_down = np.tan(math.radians(40.0) + np.arctan((v - (h - 1) / 2) / f))
    floor = (1.0 + 0.05) / np.sin(np.arctan(ray_down)) * np.cos(np.arctan((v - (h - 1) / 2) / f))
    assert len(depth_to_obstacle_points(floor.astype(np.float32), k, cam_down)) == 0
    with pytest.raises(ValueError):
        depth_to_obstacle_points(np.zeros(5), k, cam)
