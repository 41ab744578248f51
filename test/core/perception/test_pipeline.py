"""PerceptionPipeline on rendered TabletopSim frames: accuracy, self-filter, ids, bad input."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pybullet as p
import pytest

from ifagent_ros.core.perception.geometry import (
    depth_to_points,
    pixel_rays,
    quaternion_to_rotation,
)
from ifagent_ros.core.perception.pipeline import (
    FrameError,
    PerceptionConfig,
    PerceptionPipeline,
    RGBDFrame,
)
from ifagent_ros.core.perception.robot_filter import RobotFilter
from ifagent_ros.core.worlds.random_scenes import random_scene
from ifagent_ros.core.worlds.scene import parse_scene
from ifagent_ros.sim.camera import CameraConfig, CameraFrame, rotation_to_quaternion
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim

CAM_640 = CameraConfig(width=640, height=480)
CAM_320 = CameraConfig(width=320, height=240)
# The TCP 10 cm above the table at (0.5, 0.08), pointing down (found with PyBullet's IK).
LOW_ARM_Q = (0.056, 0.282, 0.097, -2.377, -0.058, 2.658, 0.985)


def rgbd(f: CameraFrame, stamp: float | None = None) -> RGBDFrame:
    return RGBDFrame(f.rgb, f.depth, f.K, f.position, f.orientation,
                     f.stamp if stamp is None else stamp)


def joints_of(sim: TabletopSim) -> dict[str, float]:
    js = sim.joint_state()
    return dict(zip(js.names, js.positions.tolist(), strict=True))


def cup_center(pose: dict[str, Any]) -> np.ndarray:
    """A mug's cup centre: its bounding box less the handle (on the body's +x side)."""
    sx, sy, _ = pose["size"]
    x, y, z, w = pose["orientation"]
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    off = (sx - sy) / 2.0
    return np.asarray(pose["position"]) - off * np.array([math.cos(yaw), math.sin(yaw), 0.0])


def position_error(pose: dict[str, Any], position: Any) -> float:
    err = float(np.linalg.norm(np.subtract(position, pose["position"])))
    if pose["label"] == "mug":  # the handle may be hidden behind the cup
        err = min(err, float(np.linalg.norm(np.subtract(position, cup_center(pose)))))
    return err


def nearest(objects: list, position: Any) -> tuple[Any, float]:
    best = min(objects, key=lambda o: np.linalg.norm(np.subtract(o.position, position)))
    return best, float(np.linalg.norm(np.subtract(best.position, position)))


def assert_all_found(sim: TabletopSim, objects: list, tol: float = 0.015) -> None:
    poses = sim.object_poses()
    assert len(objects) == len(poses), [(o.label, o.color, o.position) for o in objects]
    for pose in poses:
        obj = min(objects, key=lambda o: position_error(pose, o.position))
        assert position_error(pose, obj.position) < tol, (pose, obj)
        assert (obj.color, obj.label) == (pose["color"], pose["label"]), (pose, obj)


@pytest.fixture
def sim() -> Any:
    s = TabletopSim(TabletopConfig(camera=CAM_320))
    yield s
    s.close()


@pytest.fixture(scope="module")
def frame320() -> RGBDFrame:
    with TabletopSim(TabletopConfig(camera=CAM_320)) as s:
        return rgbd(s.render_camera(), stamp=3.0)


# ---- accuracy -------------------------------------------------------------------------------

def test_default_scene_objects_found_with_colour_and_label() -> None:
    with TabletopSim(TabletopConfig(camera=CAM_640)) as s:
        s.step(10)
        result = PerceptionPipeline().process(rgbd(s.render_camera(), 1.0), joints_of(s))
        assert result.status == "ok"
        assert_all_found(s, result.objects.objects)
        assert result.objects.stamp == 1.0 and result.objects.source == "geometric"
        assert len({o.id for o in result.objects.objects}) == len(result.objects.objects)
        # The segmented cloud: every point belongs to a reported object and lies above the table.
        assert len(result.points) > 0
        assert set(np.unique(result.point_object)) <= set(range(len(result.objects.objects)))
        assert np.all(result.points[:, 2] > 0.0)
        np.testing.assert_allclose(result.plane.normal, [0.0, 0.0, 1.0], atol=0.01)


def test_mug_centre_is_its_bounding_box_centre() -> None:
    scene = parse_scene({"name": "mug", "objects": [
        {"id": "mug", "label": "mug", "color": "orange", "size": [0.11, 0.08, 0.09],
         "position": [0.35, 0.3], "yaw": 1.57}]})  # the handle points to +y
    with TabletopSim(TabletopConfig(scene=scene, camera=CAM_640)) as s:
        result = PerceptionPipeline().process(rgbd(s.render_camera(), 1.0), joints_of(s))
        (obj,) = result.objects.objects
        assert np.linalg.norm(np.subtract(obj.position, (0.35, 0.3, 0.046))) < 0.015


def test_random_scene_objects_found() -> None:
    scene, _ = random_scene(np.random.default_rng(7), 5)
    with TabletopSim(TabletopConfig(scene=scene, camera=CAM_640)) as s:
        s.step(10)
        result = PerceptionPipeline().process(rgbd(s.render_camera(), 1.0), joints_of(s))
        assert result.status == "ok"
        assert_all_found(s, result.objects.objects)


# ---- the robot ------------------------------------------------------------------------------

def test_low_arm_is_not_an_object_near_the_gripper(sim: TabletopSim) -> None:
    sim.reset_arm(LOW_ARM_Q)
    ee = sim.ee_position()
    assert ee[2] == pytest.approx(0.10, abs=0.01)
    frame = rgbd(sim.render_camera(), 1.0)
    result = PerceptionPipeline().process(frame, joints_of(sim))
    assert result.status == "ok"
    _, dist = nearest(result.objects.objects, ee)
    assert dist > 0.08
    for pose in sim.object_poses():  # the scene's objects are all still there
        _, d = nearest(result.objects.objects, pose["position"])
        assert d < 0.02 or pose["label"] == "mug"
    # Without joint positions the arm is segmented as objects, and the status says why.
    unfiltered = PerceptionPipeline().process(frame)
    assert "joint" in unfiltered.status and "not filtered" in unfiltered.status
    hand = [o for o in unfiltered.objects.objects
            if np.linalg.norm(np.subtract(o.position[:2], ee[:2])) < 0.03 and o.position[2] > 0.1]
    assert hand  # the hand and wrist, above the TCP
    assert len(unfiltered.objects.objects) > len(result.objects.objects)


def test_low_arm_reports_no_robot_parts(sim: TabletopSim) -> None:
    sim.reset_arm(LOW_ARM_Q)
    result = PerceptionPipeline().process(rgbd(sim.render_camera(), 1.0), joints_of(sim))
    assert_all_found(sim, result.objects.objects)


def _robot_points(sim: TabletopSim, cam: CameraConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """Rendered points on the robot and the link index of each."""
    c = sim.client_id
    _, _, _, _, seg = p.getCameraImage(
        cam.width, cam.height, viewMatrix=cam.view_matrix(),
        projectionMatrix=cam.projection_matrix(), renderer=p.ER_TINY_RENDERER,
        flags=p.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX, physicsClientId=c)
    seg = np.asarray(seg, dtype=np.int64).reshape(cam.height, cam.width)
    on_robot = (seg >= 0) & ((seg & ((1 << 24) - 1)) == sim.robot_id)
    f = sim.render_camera(cam)
    pts = depth_to_points(f.depth, pixel_rays(f.K, cam.width, cam.height),
                          quaternion_to_rotation(f.orientation), f.position, on_robot)
    names = {j: p.getJointInfo(sim.robot_id, j, physicsClientId=c)[12].decode()
             for j in range(p.getNumJoints(sim.robot_id, physicsClientId=c))}
    return pts, (seg[on_robot] >> 24) - 1, names


def test_robot_filter_covers_hand_and_fingers(sim: TabletopSim) -> None:
    sim.reset_arm(LOW_ARM_Q)
    pts, links, names = _robot_points(sim, CAM_320)
    mask = RobotFilter().mask(pts, joints_of(sim))
    for link, name in names.items():
        if name in ("panda_hand", "panda_leftfinger", "panda_rightfinger", "panda_link7"):
            sel = links == link
            assert sel.sum() > 20 and mask[sel].all(), name
    # Scene points are never on the robot.
    objects = np.array([pose["position"] for pose in sim.object_poses()])
    assert not RobotFilter().mask(objects, joints_of(sim)).any()


def test_robot_filter_covers_every_visible_link(sim: TabletopSim) -> None:
    sim.reset_arm(LOW_ARM_Q)
    pts, links, _ = _robot_points(sim, CAM_320)
    above = pts[:, 2] > 0.008  # what the pipeline would keep above the table
    mask = RobotFilter().mask(pts[above], joints_of(sim))
    assert mask.mean() > 0.99


# ---- tracking through the pipeline ----------------------------------------------------------

def test_ids_stable_while_a_block_is_pushed(sim: TabletopSim) -> None:
    pipeline = PerceptionPipeline()
    joints = joints_of(sim)
    x0, y0, z0 = sim.object_poses()[0]["position"]  # red_block
    first: dict[str, str] = {}
    for f in range(8):
        sim.set_object_pose("red_block", (x0 + 0.005 * f, y0 - 0.003 * f, z0), 0.1 * f)
        stamp = 2.0 + f / 15.0
        result = pipeline.process(rgbd(sim.render_camera(), stamp), joints)
        assert result.objects.stamp == stamp
        objects = result.objects.objects
        ids = {}
        for pose in sim.object_poses():
            obj = min(objects, key=lambda o: position_error(pose, o.position))
            assert position_error(pose, obj.position) < 0.02
            ids[pose["id"]] = obj.id
        first = first or ids
        assert ids == first
        assert all(o.last_seen == stamp for o in objects)


def test_occluded_object_held_with_old_last_seen_then_dropped(sim: TabletopSim) -> None:
    pipeline = PerceptionPipeline()
    joints = joints_of(sim)
    pose = sim.object_poses()[2]  # blue_block
    stamps = iter(np.arange(0.0, 10.0, 0.2))

    def run() -> tuple[float, list]:
        stamp = float(next(stamps))
        result = pipeline.process(rgbd(sim.render_camera(), stamp), joints)
        assert result.objects.stamp == stamp  # never a stale stamp
        return stamp, result.objects.objects

    seen_at, objects = run()
    blue, _ = nearest(objects, pose["position"])
    sim.set_object_pose(pose["id"], (0.4, -0.1, -0.3), 0.0)  # inside the table: out of view
    for _ in range(3):  # 0.6 s < max_missed_s
        stamp, objects = run()
        held = [o for o in objects if o.id == blue.id]
        assert len(held) == 1 and held[0].last_seen == seen_at < stamp
        assert all(o.last_seen == stamp for o in objects if o.id != blue.id)
    sim.set_object_pose(pose["id"], pose["position"], 0.0)
    seen_at, objects = run()
    assert nearest(objects, pose["position"])[0].id == blue.id  # back with the same id
    sim.set_object_pose(pose["id"], (0.4, -0.1, -0.3), 0.0)
    for _ in range(6):  # 1.2 s > max_missed_s
        stamp, objects = run()
    assert blue.id not in {o.id for o in objects}
    assert len(objects) == len(sim.scene.objects) - 1


# ---- bad and empty input --------------------------------------------------------------------

@pytest.mark.parametrize("fill", [np.nan, 0.0, np.inf])
def test_no_depth_gives_empty_list_with_status(frame320: RGBDFrame, fill: float) -> None:
    frame = replace(frame320, depth=np.full_like(frame320.depth, fill))
    result = PerceptionPipeline().process(frame)
    assert result.objects.objects == [] and len(result.points) == 0
    assert result.status != "ok" and "depth" in result.status
    assert result.objects.status == result.status and result.objects.stamp == frame320.stamp


def _bad_frames(f: RGBDFrame) -> dict[str, RGBDFrame]:
    q_nonunit = np.asarray(f.camera_orientation) * 1.5
    k_nan = np.array(f.K, dtype=float)
    k_nan[0, 2] = np.nan
    k_zero = np.array(f.K, dtype=float)
    k_zero[0, 0] = 0.0
    return {
        "size_mismatch": replace(f, depth=f.depth[:-2]),
        "rgb_float": replace(f, rgb=f.rgb.astype(np.float32)),
        "rgb_gray": replace(f, rgb=f.rgb[:, :, 0]),
        "rgb_rgba": replace(f, rgb=np.dstack([f.rgb, f.rgb[:, :, :1]])),
        "depth_3d": replace(f, depth=f.depth[:, :, None]),
        "depth_list": replace(f, depth=f.depth.tolist()),
        "empty": replace(f, rgb=f.rgb[:0], depth=f.depth[:0]),
        "K_nan": replace(f, K=k_nan),
        "K_zero_fx": replace(f, K=k_zero),
        "K_shape": replace(f, K=np.eye(4)),
        "quat_nonunit": replace(f, camera_orientation=q_nonunit),
        "quat_nan": replace(f, camera_orientation=np.array([np.nan, 0.0, 0.0, 1.0])),
        "position_nan": replace(f, camera_position=np.array([1.2, np.nan, 0.75])),
        "position_2d": replace(f, camera_position=np.array([1.2, 0.0])),
        "stamp_nan": replace(f, stamp=float("nan")),
    }


@pytest.mark.parametrize("case", list(_bad_frames(RGBDFrame(
    np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32), np.eye(3), np.zeros(3),
    np.array([0.0, 0.0, 0.0, 1.0]), 0.0))))
def test_interface_violations_raise_frame_error(frame320: RGBDFrame, case: str) -> None:
    with pytest.raises(FrameError):
        PerceptionPipeline().process(_bad_frames(frame320)[case])


def test_table_behind_the_camera(frame320: RGBDFrame) -> None:
    # The optical frame flipped 180 deg about its x axis: the same depth now lies above/behind.
    rot = quaternion_to_rotation(frame320.camera_orientation) @ np.diag([1.0, -1.0, -1.0])
    frame = replace(frame320, camera_orientation=rotation_to_quaternion(rot))
    result = PerceptionPipeline().process(frame)
    assert result.objects.objects == []
    assert result.status != "ok" and "camera" in result.status


def test_camera_below_the_table_plane(frame320: RGBDFrame) -> None:
    # Mirror the pose through the table plane (a sign error in z): the table is found above.
    pos = np.array(frame320.camera_position) * [1.0, 1.0, -1.0]
    rot = np.diag([1.0, 1.0, -1.0]) @ quaternion_to_rotation(frame320.camera_orientation)
    rot[:, 0] *= -1.0  # keep it a proper rotation (mirror x in the optical frame as well)
    frame = replace(frame320, camera_position=pos, camera_orientation=rotation_to_quaternion(rot),
                    rgb=frame320.rgb[:, ::-1].copy(), depth=frame320.depth[:, ::-1].copy())
    result = PerceptionPipeline().process(frame)
    assert result.objects.objects == []
    assert "camera" in result.status


def test_no_objects_on_the_table_is_ok(sim: TabletopSim) -> None:
    for i, obj in enumerate(sim.scene.objects):
        sim.set_object_pose(obj.id, (0.3 + 0.1 * i, 0.0, -0.3), 0.0)  # inside the table
    result = PerceptionPipeline().process(rgbd(sim.render_camera(), 1.0), joints_of(sim))
    assert result.objects.objects == []
    assert result.status == "ok"
    assert result.plane is not None


def test_200_objects_capped_at_max_objects() -> None:
    objects = [{"id": f"b{i}_{j}", "label": "block", "color": ("red", "blue")[(i + j) % 2],
                "size": [0.025, 0.025, 0.025], "position": [0.3 + 0.06 * i, -0.57 + 0.06 * j]}
               for i in range(10) for j in range(20)]
    scene = parse_scene({"name": "many", "objects": objects})
    with TabletopSim(TabletopConfig(scene=scene, camera=CAM_640)) as s:
        f = s.render_camera()
        visible = len(np.unique(f.segmentation[f.segmentation >= 0]))
        assert visible > 100
        joints = joints_of(s)
        cfg = PerceptionConfig()
        result = PerceptionPipeline(cfg).process(rgbd(f, 1.0), joints)
        assert 0 < len(result.objects.objects) <= cfg.max_objects
        assert "dropped" in result.status and "max_objects" in result.status
        assert result.objects.stamp == 1.0
        small = PerceptionPipeline(replace(cfg, max_objects=10)).process(rgbd(f, 1.0), joints)
        assert len(small.objects.objects) == 10 and "dropped" in small.status
        # The kept ones are real blocks.
        poses = [pose["position"] for pose in s.object_poses()]
        for obj in small.objects.objects:
            d = min(np.linalg.norm(np.subtract(obj.position, q)) for q in poses)
            assert d < 0.015
