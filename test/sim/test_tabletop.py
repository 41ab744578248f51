"""TabletopSim: scene loading and validation, arm/gripper commands, state and the RGB-D camera."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pybullet as p
import pytest
import yaml

from ifagent_ros.core.schemas import ObjectPose
from ifagent_ros.core.worlds.scene import (
    REPO_SCENE_DIR,
    footprint,
    load_scene,
    nominal_placements,
    parse_scene,
    polygons_separated,
    sample_placements,
)
from ifagent_ros.sim.camera import CameraConfig
from ifagent_ros.sim.tabletop import HOME_Q, TabletopConfig, TabletopSim

SMALL_CAM = CameraConfig(width=160, height=120)


def _block(oid: str = "b", **over: Any) -> dict[str, Any]:
    return {"id": oid, "label": "block", "color": "red", "size": [0.04, 0.04, 0.04],
            "position": [0.5, 0.0], **over}


@pytest.fixture
def sim() -> Any:
    s = TabletopSim(TabletopConfig(camera=SMALL_CAM))
    yield s
    s.close()


# ---- scenes ---------------------------------------------------------------------------------

def test_scene_files_in_repo_are_valid() -> None:
    files = sorted(REPO_SCENE_DIR.glob("*.yaml"))
    assert {f.name for f in files} >= {"tabletop_default.yaml", "tabletop_blocks.yaml"}
    for f in files:
        scene = load_scene(f)
        for seed in (None, 0, 1, 2):
            assert len(sample_placements(scene, seed)) == len(scene.objects)


def test_default_scene_objects_rest_on_table(sim: TabletopSim) -> None:
    assert [o.label for o in sim.scene.objects].count("block") >= 3
    assert {"bowl", "plate", "mug"} <= {o.label for o in sim.scene.objects}
    sim.step(360)
    poses = sim.object_poses()
    assert len(poses) == len(sim.scene.objects)
    for pose, spec in zip(poses, sim.scene.objects, strict=True):
        ObjectPose.model_validate(pose)
        # standing on the table top (z = 0): bounding-box centre at half its height
        assert pose["position"][2] == pytest.approx(spec.size[2] / 2.0, abs=3e-3), spec.id
        assert pose["color"] == spec.color.name


def test_block_rests_inside_bowl_and_on_plate() -> None:
    scene = parse_scene({"objects": [
        {"id": "bowl", "label": "bowl", "color": "yellow", "size": [0.16, 0.16, 0.05],
         "position": [0.5, 0.2]},
        {"id": "plate", "label": "plate", "color": "white", "size": [0.18, 0.18, 0.015],
         "position": [0.5, -0.2]},
        _block("in_bowl", position=[0.5, 0.2, 0.12]),
        _block("on_plate", position=[0.5, -0.2, 0.1]),
    ]})
    with TabletopSim(TabletopConfig(scene=scene)) as s:
        s.step(480)
        z = {o["id"]: o["position"] for o in s.object_poses()}
    # The bowl's floor is ~6 mm thick; the block sits on it, inside the wall ring.
    assert 0.02 + 0.003 < z["in_bowl"][2] < 0.02 + 0.012
    assert math.hypot(z["in_bowl"][0] - 0.5, z["in_bowl"][1] - 0.2) < 0.06
    assert z["on_plate"][2] == pytest.approx(0.015 + 0.02, abs=3e-3)


def test_seed_reproducible_and_distinct() -> None:
    def poses(seed: int | None) -> np.ndarray:
        with TabletopSim(TabletopConfig(seed=seed)) as s:
            return np.array([o["position"] + o["orientation"] for o in s.object_poses()])

    a, b, c = poses(3), poses(3), poses(4)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    nominal = nominal_placements(load_scene(REPO_SCENE_DIR / "tabletop_default.yaml"))
    np.testing.assert_allclose(poses(None)[:, :3], [pl.position for pl in nominal], atol=1e-9)


def test_randomization_stays_in_range_without_overlap() -> None:
    scene = load_scene(REPO_SCENE_DIR / "tabletop_default.yaml")
    nominal = nominal_placements(scene)
    for seed in range(40):
        pls = sample_placements(scene, seed)
        for pl, nom in zip(pls, nominal, strict=True):
            assert np.all(np.abs(np.subtract(pl.position[:2], nom.position[:2]))
                          <= scene.randomize.xy + 1e-12)
        polys = [footprint(o, pl.position[0], pl.position[1], pl.yaw)
                 for o, pl in zip(scene.objects, pls, strict=True)]
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                assert polygons_separated(polys[i], polys[j], scene.randomize.clearance)


def test_impossible_randomization_names_object() -> None:
    scene = parse_scene({"table": {"x": [0.3, 0.5], "y": [-0.1, 0.1]},
                         "randomize": {"xy": 0.05, "max_tries": 20},
                         "objects": [_block("a", size=[0.15, 0.15, 0.04], position=[0.4, -0.0]),
                                     _block("b", size=[0.1, 0.1, 0.04], position=[0.4, 0.0])]})
    with pytest.raises(ValueError, match="'b'"):
        sample_placements(scene, seed=1)


@pytest.mark.parametrize(("obj", "words"), [
    (_block(colour="red"), ["'b'", "colour", "unknown key"]),
    (_block(size=[0.04, 0.0, 0.04]), ["'b'", "size"]),
    (_block(size=[0.04, -1, 0.04]), ["'b'", "size"]),
    ({k: v for k, v in _block().items() if k != "label"}, ["'b'", "label", "required"]),
    (_block(color="mauve"), ["'b'", "color", "mauve"]),
    (_block(position=[0.5]), ["'b'", "position"]),
    (_block(mass=0), ["'b'", "mass"]),
])
def test_bad_object_is_rejected_by_name(obj: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        parse_scene({"objects": [_block("ok", position=[0.6, 0.3]), obj]})
    for w in words:
        assert w in str(err.value)


def test_bad_scene_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"objects": [_block()], "lighting": "dim"}))
    with pytest.raises(ValueError, match="lighting: unknown key"):
        TabletopSim(TabletopConfig(scene=str(path)))
    path.write_text(yaml.safe_dump({"objects": [_block("x1"), _block("x2")]}))
    with pytest.raises(ValueError, match=r"'x2'.*overlaps object 'x1'"):
        TabletopSim(TabletopConfig(scene=str(path)))
    with pytest.raises(FileNotFoundError):
        TabletopSim(TabletopConfig(scene="no_such_scene.yaml"))


# ---- arm and gripper ------------------------------------------------------------------------

def test_position_targets_reach_goal(sim: TabletopSim) -> None:
    goal = np.array(HOME_Q) + np.array([0.4, 0.2, -0.3, 0.3, 0.3, -0.3, 0.5])
    sim.set_joint_position_targets(goal)
    sim.step(480)
    assert np.abs(sim.arm_positions() - goal).max() < 1e-2


def test_streamed_trajectory_is_tracked(sim: TabletopSim) -> None:
    q0, dt = np.array(HOME_Q), sim.timestep
    errors = []
    for k in range(240):
        t = (k + 1) * dt
        q = q0 + 0.3 * (1 - math.cos(math.pi * t))  # smooth start, ~0.94 rad/s peak
        sim.set_joint_position_targets(q, np.full(7, 0.3 * math.pi * math.sin(math.pi * t)))
        sim.step()
        errors.append(np.abs(sim.arm_positions() - q).max())
    assert max(errors) < 1e-2


@pytest.mark.parametrize("bad", [
    [0.0, -0.785, 0.0, 0.5, 0.0, 1.571, 0.785],  # joint4 above its upper limit 0
    [3.5, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785],  # joint1 beyond 2.9671
    [math.nan, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785],
    [math.inf, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785],
    [0.0, -0.785, 0.0, -2.356, 0.0, 1.571],
    [0.0] * 9,
])
def test_invalid_position_target_rejected_arm_holds(sim: TabletopSim, bad: list[float]) -> None:
    sim.step(10)
    before = sim.arm_positions()
    with pytest.raises(ValueError):
        sim.set_joint_position_targets(bad)
    sim.step(120)
    assert np.abs(sim.arm_positions() - before).max() < 1e-3
    with pytest.raises(ValueError):
        sim.set_joint_position_targets(HOME_Q, qd=[math.nan] * 7)


def test_velocity_control_and_limits(sim: TabletopSim) -> None:
    q0 = sim.arm_positions()
    sim.set_joint_velocities([0.5, 0, 0, 0, 0, 0, 0])
    sim.step(120)  # 0.5 s
    assert sim.arm_positions()[0] - q0[0] == pytest.approx(0.25, abs=0.02)
    for bad in ([3.0, 0, 0, 0, 0, 0, 0], [math.nan] * 7, [0.1] * 6):
        with pytest.raises(ValueError):
            sim.set_joint_velocities(bad)
    sim.hold_position()
    q1 = sim.arm_positions()
    sim.step(120)
    assert np.abs(sim.arm_positions() - q1).max() < 5e-3


def test_gripper_width(sim: TabletopSim) -> None:
    assert sim.gripper_width() == pytest.approx(0.08, abs=1e-4)
    assert sim.set_gripper_width(0.02) == pytest.approx(0.02)
    sim.step(240)
    pos = sim.joint_state().positions
    assert pos[7] == pytest.approx(0.01, abs=1e-3) and pos[8] == pytest.approx(0.01, abs=1e-3)
    assert sim.set_gripper_width(0.5) == 0.08
    assert sim.set_gripper_width(-1.0) == 0.0
    with pytest.raises(ValueError):
        sim.set_gripper_width(math.nan)


def test_joint_state_and_ee(sim: TabletopSim) -> None:
    names, pos, vel, eff = sim.joint_state()
    assert names == [f"panda_joint{i}" for i in range(1, 8)] + [
        "panda_finger_joint1", "panda_finger_joint2"]
    assert pos.shape == vel.shape == eff.shape == (9,)
    np.testing.assert_allclose(pos[:7], HOME_Q, atol=1e-9)
    ee = sim.ee_position()
    assert 0.2 < ee[0] < 0.5 and abs(ee[1]) < 1e-3 and 0.2 < ee[2] < 0.7
    # joint1 turns the arm about the base z axis: the TCP rotates by the same angle
    sim.reset_arm(np.array(HOME_Q) + np.array([0.5, 0, 0, 0, 0, 0, 0]))
    ee2 = sim.ee_position()
    assert math.atan2(ee2[1], ee2[0]) == pytest.approx(0.5, abs=1e-6)
    assert ee2[2] == pytest.approx(ee[2], abs=1e-9)


def test_instances_are_independent_and_close_is_idempotent(sim: TabletopSim) -> None:
    other = TabletopSim(TabletopConfig(scene="tabletop_blocks"))
    assert other.client_id != sim.client_id
    other.set_joint_position_targets(np.array(HOME_Q) + 0.3 * np.eye(7)[0])
    other.step(240)
    sim.step(240)
    assert other.arm_positions()[0] == pytest.approx(0.3, abs=1e-2)
    assert abs(sim.arm_positions()[0]) < 1e-3
    other.close()
    other.close()
    with pytest.raises(RuntimeError):
        other.step()


# ---- camera ---------------------------------------------------------------------------------

def _ray_depth(sim: TabletopSim, cam: CameraConfig, u: int, v: int) -> tuple[int, float]:
    """Hit body and z-depth along the optical axis of the ray through pixel (u, v)."""
    r = cam.optical_rotation()
    direction = r @ np.linalg.solve(cam.intrinsics(), [u, v, 1.0])
    hit = p.rayTest(cam.eye, (np.array(cam.eye) + 10.0 * direction).tolist(),
                    physicsClientId=sim.client_id)[0]
    return hit[0], float((r.T @ (np.array(hit[3]) - cam.eye))[2])


@pytest.mark.parametrize("cam", [
    SMALL_CAM,
    CameraConfig(width=120, height=90, fx=110.0, fy=100.0, cx=50.0, cy=40.0,
                 eye=(0.9, 0.6, 0.6), target=(0.4, -0.1, 0.0)),
    CameraConfig(width=80, height=60, eye=(0.5, 0.0, 1.0), target=(0.5, 0.0, 0.0),
                 up=(1.0, 0.0, 0.0)),
], ids=["default", "off_centre_K", "top_down"])
def test_depth_is_metric_and_K_matches_projection(sim: TabletopSim, cam: CameraConfig) -> None:
    sim.step(60)
    frame = sim.render_camera(cam)
    h, w = cam.height, cam.width
    assert frame.rgb.shape == (h, w, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (h, w) and frame.depth.dtype == np.float32
    np.testing.assert_allclose(frame.K, cam.intrinsics())
    # Table-top pixels: compare with a ray cast through the same pixel.
    checked = 0
    for v in range(2, h, 7):
        for u in range(2, w, 9):
            body, z = _ray_depth(sim, cam, u, v)
            if body == sim.table_id and frame.segmentation[v, u] == -1:
                assert frame.depth[v, u] == pytest.approx(z, abs=3e-3), (u, v)
                checked += 1
    assert checked > 20
    # Each visible object's centroid, projected with K and the optical pose, lands on its colour.
    rot = np.array(p.getMatrixFromQuaternion(frame.orientation.tolist())).reshape(3, 3)
    seen = 0
    for i, (pose, spec) in enumerate(zip(sim.object_poses(), sim.scene.objects, strict=True)):
        pc = rot.T @ (np.array(pose["position"]) - frame.position)
        u, v = (frame.K @ pc)[:2] / pc[2]
        ui, vi = round(u), round(v)
        if not (0 <= ui < w and 0 <= vi < h) or spec.label == "bowl":
            continue  # bowl centroid is above its floor, may show the table through the rim
        seen += 1
        assert frame.segmentation[vi, ui] == i, spec.id
        rgb, ref = frame.rgb[vi, ui].astype(float), np.array(spec.color.rgba[:3]) * 255
        cos = rgb @ ref / (np.linalg.norm(rgb) * np.linalg.norm(ref))
        assert cos > 0.97, (spec.id, rgb, ref)
    assert seen >= 3


def test_top_down_depth_equals_height_and_sky_is_nan(sim: TabletopSim) -> None:
    down = CameraConfig(width=40, height=30, eye=(0.3, -0.45, 1.0), target=(0.3, -0.45, 0.0),
                        up=(1.0, 0.0, 0.0))
    d = sim.render_camera(down).depth
    assert d[15, 20] == pytest.approx(1.0, abs=1e-3)  # empty table corner under the camera
    up = CameraConfig(width=40, height=30, eye=(0.3, 0.0, 1.0), target=(0.3, 0.0, 2.0),
                      up=(1.0, 0.0, 0.0))
    assert np.all(np.isnan(sim.render_camera(up).depth))


def test_optical_frame_convention() -> None:
    cam = CameraConfig(eye=(1.0, 0.0, 1.0), target=(0.0, 0.0, 0.0))
    pos, quat = cam.optical_pose()
    rot = np.array(p.getMatrixFromQuaternion(quat.tolist())).reshape(3, 3)
    np.testing.assert_allclose(pos, cam.eye)
    np.testing.assert_allclose(rot[:, 2], np.array([-1.0, 0.0, -1.0]) / math.sqrt(2), atol=1e-9)
    np.testing.assert_allclose(rot[:, 0], [0.0, 1.0, 0.0], atol=1e-9)  # image right = +y here
    assert rot[2, 1] < 0  # image down points down in the world
    with pytest.raises(ValueError):
        CameraConfig(eye=(0.0, 0.0, 1.0), target=(0.0, 0.0, 0.0))  # up parallel to view


def test_render_worker_matches_in_process_render(sim: TabletopSim) -> None:
    from ifagent_ros.sim.render_worker import RenderWorker

    worker = RenderWorker(sim)
    try:
        sim.set_joint_position_targets(np.array(HOME_Q) + 0.3)
        sim.set_gripper_width(0.03)
        sim.step(120)
        state = sim.snapshot()
        remote = worker.render(state, SMALL_CAM)
        local = sim.render_camera(SMALL_CAM)
        assert remote.stamp == state.time == sim.time
        np.testing.assert_array_equal(remote.rgb, local.rgb)  # arm pose, gripper, objects agree
        np.testing.assert_array_equal(remote.segmentation, local.segmentation)
        np.testing.assert_array_equal(np.isnan(remote.depth), np.isnan(local.depth))
        np.testing.assert_allclose(remote.depth, local.depth, equal_nan=True)
        assert worker.submit(state, SMALL_CAM) and not worker.submit(state, SMALL_CAM)  # 1 at once
        assert worker.poll(timeout=30.0) is not None and not worker.busy
    finally:
        worker.close()
        worker.close()
    assert not worker.alive
