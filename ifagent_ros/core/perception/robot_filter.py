"""Robot self-filter: drop points that lie on the arm, given its joint positions (pinocchio).

The arm is approximated by capsules between link frames (the way robot_self_filter pads link
shapes), placed by forward kinematics of the same URDF the controller uses. Without joint
positions nothing is filtered and the caller reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pinocchio as pin

from ifagent_ros.core.control.robot_model import panda_urdf_path

# (frame a, frame b, radius in metres) for the Panda; padded ~2 cm beyond the link meshes.
PANDA_CAPSULES: tuple[tuple[str, str, float], ...] = (
    ("panda_link0", "panda_link1", 0.10),
    ("panda_link2", "panda_link3", 0.085),
    ("panda_link3", "panda_link4", 0.085),
    ("panda_link4", "panda_link5", 0.08),
    ("panda_link5", "panda_link7", 0.08),
    ("panda_link7", "panda_link8", 0.08),
    ("panda_hand", "panda_grasptarget", 0.11),
)


@dataclass(frozen=True)
class RobotFilterConfig:
    urdf_path: str = ""  # empty: the Panda URDF from pybullet_data
    capsules: tuple[tuple[str, str, float], ...] = PANDA_CAPSULES
    joint_prefix_map: tuple[tuple[str, str], ...] = (("fr3_", "panda_"),)  # real FR3 names


class RobotFilter:
    def __init__(self, config: RobotFilterConfig | None = None) -> None:
        self.config = config or RobotFilterConfig()
        urdf = Path(self.config.urdf_path) if self.config.urdf_path else panda_urdf_path()
        self.model = pin.buildModelFromUrdf(str(urdf))
        self.data = self.model.createData()
        for a, b, r in self.config.capsules:
            for name in (a, b):
                if not self.model.existFrame(name):
                    raise ValueError(f"robot filter: URDF {urdf} has no frame {name!r}")
            if r <= 0.0:
                raise ValueError(f"robot filter: capsule radius must be > 0, got {r}")
        self._frames = [(self.model.getFrameId(a), self.model.getFrameId(b), r)
                        for a, b, r in self.config.capsules]

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

    def segments(self, joints: Mapping[str, float]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Capsule end points (base_link) and radii for these joint positions."""
        pin.framesForwardKinematics(self.model, self.data, self._q(joints))
        return [(self.data.oMf[a].translation.copy(), self.data.oMf[b].translation.copy(), r)
                for a, b, r in self._frames]

    def mask(self, points: np.ndarray, joints: Mapping[str, float]) -> np.ndarray:
        """True for points inside any capsule (i.e. on the robot)."""
        inside = np.zeros(len(points), dtype=bool)
        if len(points) == 0:
            return inside
        p = points.astype(np.float64)
        for a, b, r in self.segments(joints):
            ab = b - a
            denom = float(ab @ ab)
            t = np.clip(((p - a) @ ab) / denom, 0.0, 1.0) if denom > 1e-12 else np.zeros(len(p))
            closest = a + t[:, None] * ab
            inside |= np.einsum("ij,ij->i", p - closest, p - closest) < r * r
        return inside
