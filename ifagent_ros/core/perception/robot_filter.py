"""Robot self-filter: drop points that lie on the arm, given its joint positions.

The visual (or collision) meshes of the URDF (loaded by pinocchio's geometry model, read and
sampled by open3d) are sampled into surface points once; each frame they are placed by forward
kinematics (``pinocchio.updateGeometryPlacements``) and every scene point closer than
``padding`` to the sampled surface is on the robot (a KD-tree query, scipy). This follows the
URDF, the way robot_self_filter pads link meshes, and works for any arm whose URDF has meshes.
Visual meshes by default: they are what the camera sees (the Panda's collision meshes in
pybullet_data are up to 5 cm smaller than its visual ones).
Without joint positions nothing is filtered and the caller reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open3d as o3d
import pinocchio as pin
from scipy.spatial import cKDTree

from ifagent_ros.core.control.robot_model import panda_urdf_path


@dataclass(frozen=True)
class RobotFilterConfig:
    urdf_path: str = ""  # empty: the Panda URDF from pybullet_data
    package_dirs: tuple[str, ...] = ()  # for package:// mesh paths; default: the URDF's folder
    geometry: str = "visual"  # "visual" (what the camera sees) or "collision" meshes
    padding: float = 0.02  # metres around the link surfaces (calibration and sync error)
    sample_spacing: float = 0.01  # metres between surface samples
    joint_prefix_map: tuple[tuple[str, str], ...] = (("fr3_", "panda_"),)  # real FR3 names


class RobotFilter:
    def __init__(self, config: RobotFilterConfig | None = None) -> None:
        self.config = config or RobotFilterConfig()
        cfg = self.config
        if cfg.padding <= 0.0 or cfg.sample_spacing <= 0.0:
            raise ValueError("robot filter: padding and sample_spacing must be > 0")
        urdf = Path(cfg.urdf_path) if cfg.urdf_path else panda_urdf_path()
        dirs = list(cfg.package_dirs) or [str(urdf.parent)]
        self.model = pin.buildModelFromUrdf(str(urdf))
        self.data = self.model.createData()
        kinds = {"visual": pin.GeometryType.VISUAL, "collision": pin.GeometryType.COLLISION}
        if cfg.geometry not in kinds:
            raise ValueError(f"robot filter: geometry must be one of {sorted(kinds)}, "
                             f"got {cfg.geometry!r}")
        self.geom = pin.buildGeomFromUrdf(self.model, str(urdf), kinds[cfg.geometry],
                                          package_dirs=dirs)
        self.geom_data = pin.GeometryData(self.geom)
        self._samples: list[np.ndarray] = []  # per geometry object, in its own frame
        for obj in self.geom.geometryObjects:
            self._samples.append(self._sample(obj, urdf))
        if not any(len(s) for s in self._samples):
            raise ValueError(f"robot filter: URDF {urdf} has no meshes to filter with")

    def _sample(self, obj: pin.GeometryObject, urdf: Path) -> np.ndarray:
        path = obj.meshPath
        if not path or not Path(path).is_file():
            return np.zeros((0, 3))
        with o3d.utility.VerbosityContextManager(o3d.utility.VerbosityLevel.Error):
            mesh = o3d.io.read_triangle_mesh(path)  # (its .mtl names textures we do not need)
        if len(mesh.triangles) == 0:
            raise ValueError(f"robot filter: could not read collision mesh {path} ({urdf})")
        vertices = np.asarray(mesh.vertices) * np.asarray(obj.meshScale)
        mesh.vertices = o3d.utility.Vector3dVector(vertices)
        n = max(50, int(mesh.get_surface_area() / self.config.sample_spacing ** 2))
        cloud = mesh.sample_points_uniformly(number_of_points=4 * n)
        return np.asarray(cloud.voxel_down_sample(self.config.sample_spacing).points)

    def _q(self, joints: Mapping[str, float]) -> np.ndarray:
        q = pin.neutral(self.model)
        for name, value in joints.items():
            for src, dst in self.config.joint_prefix_map:
                if name.startswith(src):
                    name = dst + name[len(src):]
            if self.model.existJointName(name) and np.isfinite(value):
                jid = self.model.getJointId(name)
                q[self.model.joints[jid].idx_q] = float(value)
        return q

    def surface(self, joints: Mapping[str, float]) -> np.ndarray:
        """The sampled robot surface (N x 3, base_link) for these joint positions."""
        pin.updateGeometryPlacements(self.model, self.data, self.geom, self.geom_data,
                                     self._q(joints))
        placed = []
        for i, local in enumerate(self._samples):
            if len(local):
                m = self.geom_data.oMg[i]
                placed.append(local @ m.rotation.T + m.translation)
        return np.vstack(placed)

    def mask(self, points: np.ndarray, joints: Mapping[str, float]) -> np.ndarray:
        """True for points within ``padding`` of the robot's surface."""
        if len(points) == 0:
            return np.zeros(0, dtype=bool)
        surface = self.surface(joints)
        pad = self.config.padding
        lo, hi = surface.min(axis=0) - pad, surface.max(axis=0) + pad
        near = np.all((points >= lo) & (points <= hi), axis=1)
        out = np.zeros(len(points), dtype=bool)
        if near.any():
            dist, _ = cKDTree(surface).query(points[near], k=1, distance_upper_bound=pad)
            out[near] = np.isfinite(dist)
        return out
