"""Arm kinematics with pinocchio: forward kinematics, Jacobians and damped least squares.

The model is built from the same URDF the backend uses, so the Jacobian maps joint velocities to the
end-effector twist that the real (or simulated) arm produces. Twists are in ``base_link`` with the
linear part measured at the end-effector point (pinocchio's LOCAL_WORLD_ALIGNED convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pinocchio as pin

from ifagent_ros.core.control.robot_model import EE_FRAME, PANDA_ARM_JOINTS, panda_urdf_path


@dataclass(frozen=True)
class KinematicsConfig:
    urdf_path: str = ""  # empty -> the Panda URDF from pybullet_data
    ee_frame: str = EE_FRAME
    arm_joints: tuple[str, ...] = PANDA_ARM_JOINTS
    # Damped least squares: damping grows from 0 to `damping_max` as the smallest singular value
    # of the Jacobian falls below `singular_threshold` (Nakamura & Hanafusa's variable damping).
    damping_max: float = 0.05
    singular_threshold: float = 0.04


class ArmKinematics:
    """Forward kinematics and twist -> joint velocity for a serial arm (7 DoF for the Panda)."""

    def __init__(self, config: KinematicsConfig | None = None) -> None:
        self.config = config or KinematicsConfig()
        urdf = Path(self.config.urdf_path) if self.config.urdf_path else panda_urdf_path()
        full = pin.buildModelFromUrdf(str(urdf))
        # Lock every joint that is not an arm joint (the fingers) at zero: the arm model has
        # nv == 7.
        keep = set(self.config.arm_joints)
        missing = keep - set(full.names)
        if missing:
            raise ValueError(f"URDF {urdf} has no joints named {sorted(missing)}")
        lock = [full.getJointId(n) for n in full.names[1:] if n not in keep]
        self.model = pin.buildReducedModel(full, lock, pin.neutral(full))
        self.data = self.model.createData()
        if not self.model.existFrame(self.config.ee_frame):
            raise ValueError(f"URDF {urdf} has no frame {self.config.ee_frame!r}")
        self.ee_id = self.model.getFrameId(self.config.ee_frame)
        # Reduced-model joint order follows the URDF tree; map it to `arm_joints` order.
        order = [self.model.getJointId(n) for n in self.config.arm_joints]
        self._idx_q = np.array([self.model.joints[j].idx_q for j in order])
        self.nq = len(self.config.arm_joints)
        self.lower = self.model.lowerPositionLimit[self._idx_q].copy()
        self.upper = self.model.upperPositionLimit[self._idx_q].copy()

    def _to_pin(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=float)
        if q.shape != (self.nq,):
            raise ValueError(f"expected {self.nq} joint positions, got shape {q.shape}")
        out = np.zeros(self.model.nq)
        out[self._idx_q] = q
        return out

    def ee_pose(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """End-effector position (3,) and rotation matrix (3, 3) in base_link."""
        pin.framesForwardKinematics(self.model, self.data, self._to_pin(q))
        m = self.data.oMf[self.ee_id]
        return m.translation.copy(), m.rotation.copy()

    def ee_position(self, q: np.ndarray) -> np.ndarray:
        return self.ee_pose(q)[0]

    def jacobian(self, q: np.ndarray) -> np.ndarray:
        """6 x n Jacobian: [v; w] of the end-effector point in base_link axes, columns in arm
        order."""
        jac = pin.computeFrameJacobian(
            self.model, self.data, self._to_pin(q), self.ee_id, pin.LOCAL_WORLD_ALIGNED
        )
        return jac[:, self._idx_v()]

    def _idx_v(self) -> np.ndarray:
        # For revolute joints idx_v == idx_q; kept separate for clarity.
        return self._idx_q

    def twist_to_joint_velocity(self, q: np.ndarray, twist: np.ndarray) -> tuple[np.ndarray, float]:
        """Damped least-squares inverse: qd = J^T (J J^T + lambda^2 I)^-1 twist.

        Returns the joint velocities and the damping used (0 away from singularities), so callers
        can report when the arm is near a singular configuration.
        """
        twist = np.asarray(twist, dtype=float)
        if twist.shape != (6,):
            raise ValueError(f"expected a 6-vector twist, got shape {twist.shape}")
        jac = self.jacobian(q)
        jjt = jac @ jac.T
        # Smallest singular value of J from the 6x6 Gram matrix (cheaper than an SVD of J).
        sigma_min = float(np.sqrt(max(np.linalg.eigvalsh(jjt)[0], 0.0)))
        eps = self.config.singular_threshold
        lam2 = 0.0
        if sigma_min < eps:
            lam2 = (1.0 - (sigma_min / eps) ** 2) * self.config.damping_max**2
            jjt = jjt + lam2 * np.eye(6)
        qd = jac.T @ np.linalg.solve(jjt, twist)
        return qd, float(np.sqrt(lam2))
