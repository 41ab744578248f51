"""JointNames.read: the arm and the gripper opening out of one /joint_states message."""

from __future__ import annotations

import numpy as np

from ifagent_ros.core.latent_actions.state import JointNames

ARM = [f"panda_joint{i}" for i in range(1, 8)]
FINGERS = ["panda_finger_joint1", "panda_finger_joint2"]


def test_reads_the_arm_by_name_in_any_order_and_sums_the_fingers() -> None:
    names = FINGERS + ARM[::-1]
    positions = [0.03, 0.01] + [float(7 - i) for i in range(7)]
    q, width = JointNames().read(names, positions)
    np.testing.assert_array_equal(q, np.arange(1.0, 8.0))  # panda_joint1..7 order
    assert width == 0.04


def test_other_joints_only_partial_arm_and_missing_fingers() -> None:
    assert JointNames().read(FINGERS, [0.02, 0.02]) == (None, 0.04)  # the gripper's publisher
    q, width = JointNames().read(ARM[:5] + FINGERS[:1], [0.0] * 6)
    assert q is not None and q.size == 0 and width is None  # partial: no valid arm
    q, width = JointNames().read(ARM, [0.0] * 6)  # a position list shorter than the names
    assert q is not None and q.size == 0
    custom = JointNames(arm=tuple(f"j{i}" for i in range(7)), gripper=())
    q, width = custom.read([f"j{i}" for i in range(7)], list(range(7)))
    assert q.tolist() == list(range(7)) and width is None
