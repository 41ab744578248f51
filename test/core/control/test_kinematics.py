"""pinocchio kinematics against PyBullet's, on the same URDF."""

from __future__ import annotations

import numpy as np
import pybullet as pb
import pytest

from ifagent_ros.core.control.kinematics import ArmKinematics, KinematicsConfig
from ifagent_ros.core.control.robot_model import EE_FRAME, PANDA_ARM_JOINTS, panda_urdf_path

KIN = ArmKinematics()


@pytest.fixture(scope="module")
def bullet():
    cid = pb.connect(pb.DIRECT)
    robot = pb.loadURDF(str(panda_urdf_path()), useFixedBase=True, physicsClientId=cid)
    names = {
        pb.getJointInfo(robot, j, physicsClientId=cid)[1].decode(): j
        for j in range(pb.getNumJoints(robot, physicsClientId=cid))
    }
    links = {
        pb.getJointInfo(robot, j, physicsClientId=cid)[12].decode(): j
        for j in range(pb.getNumJoints(robot, physicsClientId=cid))
    }
    yield cid, robot, [names[n] for n in PANDA_ARM_JOINTS], links[EE_FRAME]
    pb.disconnect(cid)


def random_q(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(KIN.lower + 0.05, KIN.upper - 0.05)


def test_forward_kinematics_matches_pybullet_to_1mm(bullet) -> None:
    cid, robot, joints, ee_link = bullet
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = random_q(rng)
        for j, v in zip(joints, q, strict=True):
            pb.resetJointState(robot, j, float(v), physicsClientId=cid)
        state = pb.getLinkState(robot, ee_link, computeForwardKinematics=True, physicsClientId=cid)
        p_bullet = np.asarray(state[4])
        r_bullet = np.asarray(pb.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        p, r = KIN.ee_pose(q)
        assert np.linalg.norm(p - p_bullet) < 1e-3
        assert np.allclose(r, r_bullet, atol=1e-3)


def test_jacobian_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    q = random_q(rng)
    jac = KIN.jacobian(q)
    eps = 1e-6
    for i in range(7):
        dq = np.zeros(7)
        dq[i] = eps
        dp = (KIN.ee_position(q + dq) - KIN.ee_position(q - dq)) / (2 * eps)
        np.testing.assert_allclose(jac[:3, i], dp, atol=1e-5)


def test_dls_tracks_twist_and_stays_bounded_at_singularity() -> None:
    q = np.array([0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])
    twist = np.array([0.1, -0.05, 0.02, 0.0, 0.0, 0.1])
    qd, damping = KIN.twist_to_joint_velocity(q, twist)
    np.testing.assert_allclose(KIN.jacobian(q) @ qd, twist, atol=1e-6)
    assert damping == 0.0
    # Near-singular (q2 = q6 = 0 aligns joints 1/3 and nearly 5/7; sigma_min ~ 0.06): with the
    # damping band widened to cover it, DLS trades accuracy for a bounded joint speed.
    q_sing = np.array([0.0, 0.0, 0.0, -1.5, 0.0, 0.0, 0.0])
    damped = ArmKinematics(KinematicsConfig(singular_threshold=0.1, damping_max=0.1))
    want = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
    qd, damping = damped.twist_to_joint_velocity(q_sing, want)
    qd_pinv = np.linalg.pinv(damped.jacobian(q_sing)) @ want
    assert damping > 0.0
    assert np.all(np.isfinite(qd)) and np.linalg.norm(qd) < np.linalg.norm(qd_pinv)


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError):
        KIN.ee_position(np.zeros(6))
    with pytest.raises(ValueError):
        KIN.twist_to_joint_velocity(np.zeros(7), np.zeros(5))
