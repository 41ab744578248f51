"""Perception geometry: quaternions, back-projection, the support plane and voxel clustering."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ifagent_ros.core.perception.geometry import (
    depth_to_points,
    fit_support_plane,
    pixel_rays,
    quaternion_to_rotation,
    voxel_cluster,
)
from ifagent_ros.sim.camera import CameraConfig

# ---- quaternion_to_rotation -----------------------------------------------------------------

S = math.sqrt(0.5)


@pytest.mark.parametrize(("q", "expected"), [
    ((0.0, 0.0, 0.0, 1.0), np.eye(3)),
    ((0.0, 0.0, S, S), [[0, -1, 0], [1, 0, 0], [0, 0, 1]]),  # +90 deg about z
    ((S, 0.0, 0.0, S), [[1, 0, 0], [0, 0, -1], [0, 1, 0]]),  # +90 deg about x
    ((0.0, S, 0.0, S), [[0, 0, 1], [0, 1, 0], [-1, 0, 0]]),  # +90 deg about y
    ((1.0, 0.0, 0.0, 0.0), np.diag([1.0, -1.0, -1.0])),  # 180 deg about x
])
def test_quaternion_known_rotations(q: tuple[float, ...], expected: object) -> None:
    np.testing.assert_allclose(quaternion_to_rotation(np.array(q)), expected, atol=1e-12)


def test_quaternion_matches_scipy_and_is_a_rotation() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        r = quaternion_to_rotation(q)
        np.testing.assert_allclose(r, Rotation.from_quat(q).as_matrix(), atol=1e-12)
        np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(r) == pytest.approx(1.0)
        np.testing.assert_allclose(quaternion_to_rotation(-q), r, atol=1e-12)  # double cover


def test_quaternion_nearly_unit_is_normalized() -> None:
    q = np.array([0.0, 0.0, S, S]) * 1.0005
    r = quaternion_to_rotation(q)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("q", [
    (np.nan, 0.0, 0.0, 1.0),
    (0.0, np.inf, 0.0, 1.0),
    (0.0, 0.0, 0.0, 2.0),  # not unit
    (0.0, 0.0, 0.0, 0.0),
    (0.1, 0.0, 0.0, 0.9),  # |q| = 0.906
    (0.0, 0.0, 1.0),  # three values
    (0.0, 0.0, 0.0, 1.0, 0.0),
])
def test_quaternion_rejects_bad_input(q: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        quaternion_to_rotation(np.array(q))


# ---- pixel rays and back-projection ---------------------------------------------------------

def _plane_depth(cam: CameraConfig) -> np.ndarray:
    """Analytic z-depth image of the plane z = 0 seen by ``cam`` (NaN where the ray misses)."""
    k = cam.intrinsics()
    u, v = np.meshgrid(np.arange(cam.width, dtype=float), np.arange(cam.height, dtype=float))
    rays = np.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], np.ones_like(u)], axis=-1)
    world_z = rays @ cam.optical_rotation()[2]  # z component of each ray (z-depth 1) in world
    with np.errstate(divide="ignore"):
        t = -cam.eye[2] / world_z
    return np.where(t > 0, t, np.nan).astype(np.float32)


def test_pixel_rays_are_normalized_image_coordinates() -> None:
    k = np.array([[500.0, 0.0, 10.0], [0.0, 400.0, 5.0], [0.0, 0.0, 1.0]])
    xs, ys = pixel_rays(k, 21, 11)
    assert xs.shape == ys.shape == (11, 21)
    assert xs[0, 10] == 0.0 and ys[5, 0] == 0.0  # principal point
    assert xs[3, 20] == pytest.approx(10.0 / 500.0)
    assert ys[10, 7] == pytest.approx(5.0 / 400.0)


@pytest.mark.parametrize("cam", [
    CameraConfig(width=64, height=48),
    CameraConfig(width=80, height=60, fx=70.0, fy=75.0, cx=35.0, cy=31.0, eye=(0.9, 0.4, 0.6),
                 target=(0.3, -0.1, 0.0)),
])
def test_depth_to_points_round_trip_on_a_plane(cam: CameraConfig) -> None:
    depth = _plane_depth(cam)
    assert np.all(np.isfinite(depth))  # the camera looks down: every ray hits the plane
    pos, quat = cam.optical_pose()
    rot = quaternion_to_rotation(quat)
    pts = depth_to_points(depth, pixel_rays(cam.intrinsics(), cam.width, cam.height), rot, pos)
    assert pts.dtype == np.float32 and pts.shape == (cam.width * cam.height, 3)
    np.testing.assert_allclose(pts[:, 2], 0.0, atol=2e-5)  # all on the plane z = 0
    # Projecting the points back gives the pixel grid (row-major order).
    uv = cam.project(pts.astype(float))
    u, v = np.meshgrid(np.arange(cam.width), np.arange(cam.height))
    np.testing.assert_allclose(uv[:, 0], u.reshape(-1), atol=2e-3)
    np.testing.assert_allclose(uv[:, 1], v.reshape(-1), atol=2e-3)
    # Distances along the optical axis are the depth values.
    np.testing.assert_allclose((pts - pos) @ rot[:, 2], depth.reshape(-1), rtol=1e-5)


def test_depth_to_points_with_mask_keeps_row_major_order() -> None:
    cam = CameraConfig(width=32, height=24)
    depth = _plane_depth(cam)
    pos, quat = cam.optical_pose()
    rot = quaternion_to_rotation(quat)
    rays = pixel_rays(cam.intrinsics(), cam.width, cam.height)
    mask = np.zeros_like(depth, dtype=bool)
    mask[3, 5] = mask[3, 20] = mask[17, 2] = True
    full = depth_to_points(depth, rays, rot, pos)
    sub = depth_to_points(depth, rays, rot, pos, mask)
    np.testing.assert_array_equal(sub, full[np.flatnonzero(mask)])


# ---- support plane --------------------------------------------------------------------------

def _grid(x: tuple[float, float], y: tuple[float, float], step: float) -> np.ndarray:
    gx, gy = np.meshgrid(np.arange(*x, step), np.arange(*y, step))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _scene_points(table_z: float = 0.0, seed: int = 0) -> tuple[np.ndarray, int]:
    """Table + a box + a vertical wall holding more points than the table."""
    rng = np.random.default_rng(seed)
    table_xy = _grid((0.2, 0.8), (-0.3, 0.3), 0.015)  # 40 x 40
    table = np.column_stack([table_xy, np.full(len(table_xy), table_z)])
    box_xy = _grid((0.45, 0.55), (-0.05, 0.05), 0.01)
    box = np.column_stack([box_xy, np.full(len(box_xy), table_z + 0.06)])
    wy, wz = np.meshgrid(np.arange(-0.5, 0.5, 0.01), np.arange(table_z, table_z + 0.3, 0.01))
    wall = np.column_stack([np.full(wy.size, 0.9), wy.ravel(), wz.ravel()])
    assert len(wall) > len(table)
    pts = np.concatenate([table, box, wall])
    pts = pts + rng.normal(0.0, 0.001, pts.shape)
    return pts.astype(np.float32), len(table)


@pytest.mark.parametrize("table_z", [0.0, 0.1, -0.05])
def test_support_plane_is_the_table_not_the_bigger_wall(table_z: float) -> None:
    pts, n_table = _scene_points(table_z)
    plane = fit_support_plane(pts)
    assert plane is not None
    np.testing.assert_allclose(plane.normal, [0.0, 0.0, 1.0], atol=0.02)
    assert plane.d == pytest.approx(-table_z, abs=0.003)
    assert 0.95 * n_table <= plane.inliers <= n_table + 50
    # Heights: the table at 0, the box top at 6 cm, positive upwards.
    h = plane.height(np.array([[0.5, 0.0, table_z], [0.5, 0.0, table_z + 0.06]], np.float32))
    np.testing.assert_allclose(h, [0.0, 0.06], atol=0.003)


def test_support_plane_tilted_table_within_limit() -> None:
    pts, _ = _scene_points()
    tilt = Rotation.from_euler("y", 10.0, degrees=True).as_matrix()
    plane = fit_support_plane((pts @ tilt.T).astype(np.float32))
    assert plane is not None
    assert plane.normal[2] == pytest.approx(math.cos(math.radians(10.0)), abs=0.01)


def test_support_plane_none_without_horizontal_plane() -> None:
    pts, _ = _scene_points()
    wall_only = pts[pts[:, 0] > 0.85]
    assert fit_support_plane(wall_only) is None
    # A table tilted beyond max_tilt_deg is not a support plane.
    tilt = Rotation.from_euler("x", 40.0, degrees=True).as_matrix()
    table = pts[np.abs(pts[:, 2]) < 0.004]
    assert fit_support_plane((table @ tilt.T).astype(np.float32)) is None


def test_support_plane_needs_50_points() -> None:
    xy = np.random.default_rng(1).uniform(0.0, 0.5, (49, 2))
    flat = np.column_stack([xy, np.zeros(49)]).astype(np.float32)
    assert fit_support_plane(flat) is None
    assert fit_support_plane(np.zeros((0, 3), np.float32)) is None
    more = np.column_stack([np.random.default_rng(1).uniform(0.0, 0.5, (60, 2)),
                            np.zeros(60)]).astype(np.float32)
    plane = fit_support_plane(more)
    assert plane is not None and plane.inliers == 60


# ---- voxel clustering -----------------------------------------------------------------------

VOXEL = 0.005


def _blob(origin_voxel: tuple[int, int, int], n: tuple[int, int, int], per_voxel: int = 4,
          seed: int = 0) -> np.ndarray:
    """Points filling n[0] x n[1] x n[2] voxels, ``per_voxel`` strictly inside each."""
    rng = np.random.default_rng(seed)
    cells = np.stack(np.meshgrid(*[np.arange(k) for k in n], indexing="ij"), -1).reshape(-1, 3)
    cells = np.repeat(cells + np.array(origin_voxel), per_voxel, axis=0)
    return ((cells + rng.uniform(0.1, 0.9, cells.shape)) * VOXEL).astype(np.float64)


def test_voxel_cluster_separates_blobs_3cm_apart() -> None:
    a = _blob((100, 0, 0), (4, 4, 4))
    b = _blob((100 + 4 + 6, 0, 0), (4, 4, 4), seed=1)  # 6 empty voxels = 3 cm gap
    labels, counts = voxel_cluster(np.concatenate([a, b]), VOXEL, eps=0.011, min_points=4)
    la, lb = labels[:len(a)], labels[len(a):]
    assert len(set(la)) == 1 and len(set(lb)) == 1
    assert la[0] != lb[0] and la[0] >= 0 and lb[0] >= 0
    assert sorted(counts.tolist()) == [64, 64]  # voxel counts, not point counts (256 each)


def test_voxel_cluster_merges_one_blob() -> None:
    a = _blob((100, 0, 0), (4, 4, 4))
    b = _blob((104, 0, 0), (3, 4, 4), seed=1)  # touching: one object
    labels, counts = voxel_cluster(np.concatenate([a, b]), VOXEL, eps=0.011, min_points=4)
    assert set(labels.tolist()) == {0}
    assert counts.tolist() == [64 + 48]


def test_voxel_cluster_labels_isolated_points_noise() -> None:
    blob = _blob((0, 0, 0), (5, 5, 2), per_voxel=3)
    noise = np.array([[0.3, 0.3, 0.3], [-0.2, 0.1, 0.05], [0.3, -0.3, 0.0]])
    labels, counts = voxel_cluster(np.concatenate([blob, noise]), VOXEL, eps=0.011, min_points=4)
    assert labels.shape == (len(blob) + 3,)
    assert np.all(labels[len(blob):] == -1)
    assert np.all(labels[:len(blob)] == 0)
    assert counts.tolist() == [50]


def test_voxel_cluster_empty() -> None:
    labels, counts = voxel_cluster(np.zeros((0, 3)), VOXEL, eps=0.011, min_points=4)
    assert labels.shape == (0,) and counts.shape == (0,)
