"""HouseSim: the PyBullet house and the differential-drive base driven by cmd_vel."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ifagent_ros.sim.base_command import BaseLimits
from ifagent_ros.sim.camera import CameraConfig
from ifagent_ros.sim.house_sim import (
    MOBILE_BASE_URDF,
    HouseSim,
    HouseSimConfig,
    read_wheel_geometry,
)

SMALL_CAM = CameraConfig(width=96, height=72, fov_deg=42.0, near=0.1, far=10.0,
                         eye=(0.0, 0.0, 1.0), target=(1.0, 0.0, 1.0))
HZ = 240


@pytest.fixture
def sim() -> Any:
    # apartment_a: open floor of the kitchen east of (7.0, 3.05), the fridge front at x = 9.25.
    s = HouseSim(HouseSimConfig(house="apartment_a", start=(7.0, 2.2, 0.0), camera=SMALL_CAM))
    s.step(HZ // 4)  # settle on the wheels
    yield s
    s.close()


def test_urdf_wheels_are_read() -> None:
    assert read_wheel_geometry(MOBILE_BASE_URDF) == pytest.approx((0.05, 0.34))


def test_drives_forward_and_stops_on_zero(sim: HouseSim) -> None:
    x0, y0, yaw0 = sim.base_pose()
    assert sim.set_cmd_vel(0.4, 0.0) == (0.4, 0.0)
    sim.step(2 * HZ)
    x1, y1, yaw1 = sim.base_pose()
    # 2 s at 0.4 m/s minus the 0.4 s ramp at 1 m/s^2 (0.08 m lost): about 0.72 m along +x.
    assert x1 - x0 == pytest.approx(0.72, abs=0.06)
    assert abs(y1 - y0) < 0.02 and abs(yaw1 - yaw0) < 0.03
    assert sim.base_velocity()[0] == pytest.approx(0.4, abs=0.03)
    sim.set_cmd_vel(0.0, 0.0)
    sim.step(HZ)
    assert abs(sim.base_velocity()[0]) < 0.01 and sim.commanded == (0.0, 0.0)
    x2 = sim.base_pose()[0]
    sim.step(HZ)
    assert abs(sim.base_pose()[0] - x2) < 0.005
    assert not sim.collides()


def test_turns_in_place_counter_clockwise(sim: HouseSim) -> None:
    x0, y0, _ = sim.base_pose()
    sim.set_cmd_vel(0.0, 1.0)
    sim.step(2 * HZ)
    _, _, yaw = sim.base_pose()
    assert yaw == pytest.approx(2.0 - 1.0 / 6.0, abs=0.06)  # 2 s at 1 rad/s less the ramp
    assert math.dist(sim.base_pose()[:2], (x0, y0)) < 0.01  # about the axle's midpoint


def test_speed_and_acceleration_limits(sim: HouseSim) -> None:
    limits = sim.config.limits
    assert sim.set_cmd_vel(5.0, -9.0) == (limits.max_linear_speed, -limits.max_angular_speed)
    sim.set_cmd_vel(5.0, 0.0)
    chunk = HZ // 60
    commanded, speeds = [], []
    for _ in range(90):
        sim.step(chunk)
        commanded.append(sim.commanded[0])
        speeds.append(sim.base_velocity()[0])
    t = np.arange(1, 91) * chunk / HZ
    # The command ramps at exactly the acceleration limit up to the speed limit ...
    np.testing.assert_allclose(commanded, np.minimum(limits.max_linear_accel * t,
                                                     limits.max_linear_speed), atol=1e-9)
    # ... and the rolling base follows it without exceeding either limit.
    assert np.all(np.array(speeds) <= np.minimum(limits.max_linear_accel * t,
                                                 limits.max_linear_speed) + 0.03)
    assert speeds[-1] == pytest.approx(limits.max_linear_speed, abs=0.03)
    assert abs(sim.base_velocity()[1]) < 0.05


def test_bad_commands_brake_and_raise(sim: HouseSim) -> None:
    sim.set_cmd_vel(0.5, 0.0)
    sim.step(HZ // 2)
    with pytest.raises(ValueError, match="finite"):
        sim.set_cmd_vel(float("nan"), 0.0)
    sim.step(HZ)
    assert abs(sim.base_velocity()[0]) < 0.01


def test_command_timeout_brakes() -> None:
    cfg = HouseSimConfig(house="apartment_a", start=(7.0, 2.2, 0.0), camera=SMALL_CAM,
                         cmd_timeout=0.3)
    with HouseSim(cfg) as s:
        s.set_cmd_vel(0.4, 0.0)
        s.step(HZ)
        assert abs(s.base_velocity()[0]) < 0.01 and s.base_pose()[0] - 7.0 < 0.15


def test_odometry_follows_the_true_pose(sim: HouseSim) -> None:
    sim.reset_base(6.6, 1.2, 0.0)
    sim.set_cmd_vel(0.3, 0.4)
    sim.step(3 * HZ)
    x, y, yaw, v, w = sim.odom()
    tx, ty, tyaw = sim.base_pose()
    assert math.dist((x, y), (tx, ty)) < 0.04  # wheel slip: about 1 cm here
    assert abs(math.remainder(yaw - tyaw, 2 * math.pi)) < 0.05
    assert v == pytest.approx(0.3, abs=0.03) and w == pytest.approx(0.4, abs=0.05)
    assert math.dist((tx, ty), (6.6, 1.2)) > 0.5  # it really moved (on an arc)


def test_does_not_pass_through_walls(sim: HouseSim) -> None:
    # From the kitchen straight south at the outer wall y = 0 (inner face y = 0.05).
    sim.reset_base(6.3, 2.0, -math.pi / 2)
    sim.set_cmd_vel(0.6, 0.0)
    sim.step(6 * HZ)
    x, y, _ = sim.base_pose()
    assert y > 0.05 + 0.2 - 0.02  # the chassis radius stays between its centre and the wall
    assert sim.collides() and {c.body for c in sim.contacts()} == {"wall"}
    assert abs(x - 6.3) < 0.1


def test_furniture_and_closed_doors_block(sim: HouseSim) -> None:
    sim.reset_base(8.0, 3.05 - 0.0, 0.0)  # towards the fridge (x 9.25 .. 9.95)
    sim.set_cmd_vel(0.5, 0.0)
    sim.step(5 * HZ)
    assert sim.base_pose()[0] < 9.25 - 0.18
    assert "object:fridge" in {c.body for c in sim.contacts()}
    sim.reset_base(4.8, 7.0, math.pi / 2)  # up the hall into the closed closet door (y = 8)
    sim.set_cmd_vel(0.5, 0.0)
    sim.step(5 * HZ)
    assert sim.base_pose()[1] < 8.0 - 0.15
    assert "door:closet_door" in {c.body for c in sim.contacts()}


def test_camera_sees_the_fridge_at_the_right_depth(sim: HouseSim) -> None:
    sim.reset_base(7.5, 3.05, 0.0)
    sim.step(10)
    frame = sim.render_camera()
    h, w = frame.depth.shape
    assert frame.rgb.shape == (h, w, 3) and (h, w) == (72, 96)
    fridge = list(sim.house.objects).index("fridge")
    assert frame.segmentation[h // 2, w // 2] == fridge
    cam_x = frame.position[0]
    assert frame.depth[h // 2, w // 2] == pytest.approx(9.25 - cam_x, abs=0.03)
    assert frame.position[2] == pytest.approx(1.05, abs=0.02)
    r, g, b = (int(c) for c in frame.rgb[h // 2, w // 2])
    assert r == g == b and r > 100  # the fridge is white (shaded)
    # Turned towards the west, the fridge is out of view.
    sim.reset_base(7.5, 3.05, math.pi)
    assert fridge not in sim.render_camera().segmentation


def test_seen_objects_and_room_follow_the_base(sim: HouseSim) -> None:
    sim.reset_base(7.5, 2.0, 0.0)
    assert sim.current_room().id == "kitchen"  # type: ignore[union-attr]
    assert "fridge" in {s.object_id for s in sim.seen_objects()}
    sim.reset_base(1.5, 3.0, 0.0)
    assert sim.current_room().id == "bedroom"  # type: ignore[union-attr]
    assert "fridge" not in {s.object_id for s in sim.seen_objects()}


def test_closed_sim_refuses_calls() -> None:
    s = HouseSim(HouseSimConfig(house="studio_loft", camera=SMALL_CAM))
    assert s.house.room_at(*s.base_pose()[:2]) is not None  # default start: a free place
    s.close()
    s.close()
    with pytest.raises(RuntimeError, match="closed"):
        s.step()


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="timestep"):
        HouseSimConfig(timestep=0.0)
    with pytest.raises(ValueError, match="start"):
        HouseSimConfig(start=(0.0, float("nan"), 0.0))
    with pytest.raises(ValueError, match="max_linear_speed"):
        HouseSimConfig(max_linear_speed=-1.0)
    with pytest.raises(ValueError, match="cmd_timeout"):
        BaseLimits(cmd_timeout=0.0)
