"""Depth images to point clouds, the support plane and object clusters (open3d, numpy).

Frames: the camera pose is that of the optical frame (x right, y down, z forward) in
``base_link``; depth is the z-depth in metres (REP 118: NaN, 0 or inf = no return).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import open3d as o3d


def quaternion_to_rotation(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a quaternion (x, y, z, w); raises ValueError if it is not finite/unit."""
    q = np.asarray(q, dtype=float).reshape(-1)
    if q.shape != (4,) or not np.all(np.isfinite(q)):
        raise ValueError(f"camera orientation must be 4 finite values (x, y, z, w), got {q}")
    n = np.linalg.norm(q)
    if abs(n - 1.0) > 1e-3:
        raise ValueError(f"camera orientation quaternion must be unit length, |q| = {n:.4f}")
    x, y, z, w = q / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def pixel_rays(K: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalized image coordinates (X/Z, Y/Z) of every pixel centre, each H x W."""
    u = (np.arange(width, dtype=np.float32) - np.float32(K[0, 2])) / np.float32(K[0, 0])
    v = (np.arange(height, dtype=np.float32) - np.float32(K[1, 2])) / np.float32(K[1, 1])
    return np.broadcast_to(u[None, :], (height, width)), np.broadcast_to(v[:, None],
                                                                         (height, width))


def depth_to_points(depth: np.ndarray, rays: tuple[np.ndarray, np.ndarray], rotation: np.ndarray,
                    translation: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Points (N x 3, float32, base_link) of the pixels in ``mask`` (default: all), row-major."""
    if mask is None:
        z = depth.reshape(-1)
        xn, yn = rays[0].reshape(-1), rays[1].reshape(-1)
    else:
        z, xn, yn = depth[mask], rays[0][mask], rays[1][mask]
    cam = np.stack([xn * z, yn * z, z], axis=1)
    return (cam @ rotation.T.astype(np.float32) + translation.astype(np.float32)).astype(
        np.float32)


@dataclass(frozen=True)
class Plane:
    """Support plane n . p + d = 0 with unit normal n pointing up (n_z > 0)."""

    normal: np.ndarray
    d: float
    inliers: int

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed height of points above the plane (metres)."""
        return points @ self.normal.astype(points.dtype) + np.float32(self.d)


def fit_support_plane(points: np.ndarray, distance: float = 0.006, max_tilt_deg: float = 20.0,
                      min_inlier_fraction: float = 0.15, max_planes: int = 3,
                      iterations: int = 200, seed: int = 0) -> Plane | None:
    """The largest near-horizontal plane among up to ``max_planes`` RANSAC planes, or None.

    Planes that tilt more than ``max_tilt_deg`` from horizontal (walls, box sides) are peeled off
    and the search continues on the remaining points.
    """
    if len(points) < 50:
        return None
    o3d.utility.random.seed(seed)
    remaining = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points.astype(np.float64)))
    total = len(points)
    best: Plane | None = None
    cos_tilt = np.cos(np.radians(max_tilt_deg))
    for _ in range(max_planes):
        if len(remaining.points) < 50:
            break
        model, inliers = remaining.segment_plane(distance_threshold=distance, ransac_n=3,
                                                 num_iterations=iterations)
        a, b, c, d = model
        n = np.array([a, b, c], dtype=float)
        norm = np.linalg.norm(n)
        if norm < 1e-9 or len(inliers) == 0:
            break
        n, d = n / norm, d / norm
        if n[2] < 0:
            n, d = -n, -d
        if n[2] >= cos_tilt and len(inliers) >= min_inlier_fraction * total:
            if best is None or len(inliers) > best.inliers:
                best = Plane(normal=n, d=float(d), inliers=len(inliers))
            # A horizontal plane that holds most points is the table: stop looking.
            if len(inliers) >= 0.5 * len(remaining.points):
                break
        remaining = remaining.select_by_index(inliers, invert=True)
    return best


def voxel_cluster(points: np.ndarray, voxel: float, eps: float, min_points: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Cluster label per point (-1 = noise) and the voxel count of each cluster.

    DBSCAN (open3d) runs on voxel centroids, which bounds its cost by the occupied volume rather
    than the image resolution; every point inherits the label of its voxel.
    """
    if len(points) == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    cells = np.floor(points / voxel).astype(np.int64)
    cells -= cells.min(axis=0)
    dims = cells.max(axis=0) + 1
    keys = (cells[:, 0] * dims[1] + cells[:, 1]) * dims[2] + cells[:, 2]
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    centroids = np.stack([np.bincount(inverse, weights=points[:, k], minlength=len(counts))
                          for k in range(3)], axis=1) / counts[:, None]
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(centroids))
    voxel_labels = np.asarray(cloud.cluster_dbscan(eps=eps, min_points=min_points,
                                                   print_progress=False), dtype=np.int32)
    n_clusters = int(voxel_labels.max()) + 1 if len(voxel_labels) else 0
    voxel_counts = np.bincount(voxel_labels[voxel_labels >= 0], minlength=n_clusters)
    return voxel_labels[inverse], voxel_counts
