"""The spine end to end over DDS: /joy -> teleop_node -> executor_node -> sim_node (PyBullet)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from ros_helpers import spin_for, spin_until
from sensor_msgs.msg import Joy
from std_msgs.msg import Bool, String

from ifagent_ros.nodes.executor_node import ExecutorNode
from ifagent_ros.nodes.sim_node import SimNode
from ifagent_ros.nodes.teleop_node import TeleopNode
from ifagent_ros.nodes.topics import ESTOP_QOS


class Operator(Node):
    """A gamepad held by a test: RB (deadman) and the left stick, at 50 Hz."""

    def __init__(self, context) -> None:
        super().__init__("test_operator", context=context)
        self.joy = self.create_publisher(Joy, "/joy", 10)
        self.estop = self.create_publisher(Bool, "/ifagent/estop", ESTOP_QOS)
        self.deadman = False
        self.stick = (0.0, 0.0)  # (left-x, left-y)
        self.streaming = True
        self.ee: np.ndarray | None = None
        self.create_subscription(String, "/sim/ground_truth", self._on_gt, 10)
        self.create_timer(0.02, self._tick)

    def _on_gt(self, msg: String) -> None:
        self.ee = np.asarray(json.loads(msg.data)["ee_position"])

    def _tick(self) -> None:
        if not self.streaming:
            return
        msg = Joy()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.axes = [self.stick[0], self.stick[1], 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        buttons = [0] * 11
        buttons[5] = int(self.deadman)
        msg.buttons = buttons
        self.joy.publish(msg)


@pytest.fixture
def spine(ros_context):
    sim = SimNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("camera.enabled", value=False),
            Parameter("ground_truth_rate_hz", value=50.0),
        ],
    )
    executor_node = ExecutorNode(
        context=ros_context, parameter_overrides=[Parameter("control_rate_hz", value=250.0)]
    )
    teleop = TeleopNode(context=ros_context)
    op = Operator(ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    for n in (sim, executor_node, teleop, op):
        ex.add_node(n)
    assert spin_until(
        ex, lambda: op.ee is not None and executor_node.core.filter.initialized, timeout=15.0
    )
    yield ex, op, executor_node
    ex.shutdown()
    for n in (sim, executor_node, teleop):
        n.close()
    for n in (sim, executor_node, teleop, op):
        n.destroy_node()


def test_deadman_and_stick_move_gripper_forward_then_release_stops(spine) -> None:
    ex, op, _ = spine
    p0 = op.ee.copy()
    op.deadman, op.stick = True, (0.0, 1.0)  # stick up = +x (away from the robot) in TRANSLATE_XY
    spin_for(ex, 1.5)
    d = op.ee - p0
    assert d[0] > 0.05, d
    assert abs(d[1]) < 0.02 and abs(d[2]) < 0.02, d
    op.deadman = False  # release: the arm stops even though the stick is still deflected
    spin_for(ex, 0.5)
    p_stop = op.ee.copy()
    spin_for(ex, 1.0)
    assert np.linalg.norm(op.ee - p_stop) < 0.003


def test_stick_left_moves_gripper_left(spine) -> None:
    ex, op, _ = spine
    p0 = op.ee.copy()
    op.deadman, op.stick = True, (1.0, 0.0)  # stick left = +y
    # How far it gets in a fixed wall-clock second depends on machine load; the direction does
    # not: wait until it has gone 4 cm (about 1 s unloaded), then check it went left only.
    assert spin_until(ex, lambda: op.ee[1] - p0[1] > 0.04, timeout=10.0), op.ee - p0
    d = op.ee - p0
    assert abs(d[0]) < 0.02 and abs(d[2]) < 0.02, d


def test_no_deadman_no_motion(spine) -> None:
    ex, op, _ = spine
    p0 = op.ee.copy()
    op.deadman, op.stick = False, (0.0, 1.0)
    spin_for(ex, 1.0)
    assert np.linalg.norm(op.ee - p0) < 0.003


def test_estop_stops_and_stays_stopped(spine) -> None:
    ex, op, executor_node = spine
    op.deadman, op.stick = True, (0.0, 1.0)
    spin_for(ex, 0.5)
    op.estop.publish(Bool(data=True))
    spin_for(ex, 0.5)
    p_stop = op.ee.copy()
    spin_for(ex, 1.5)  # deadman still held, stick still deflected
    assert np.linalg.norm(op.ee - p_stop) < 0.003
    assert executor_node.core.estop_latched


def test_stale_commands_brake(spine) -> None:
    ex, op, executor_node = spine
    op.deadman, op.stick = True, (0.0, 1.0)
    spin_for(ex, 0.5)
    op.streaming = False  # the gamepad goes silent: no more twists
    spin_for(ex, 0.5)
    assert executor_node.core.last_mode in ("idle", "holding")
    p_stop = op.ee.copy()
    spin_for(ex, 1.0)
    assert np.linalg.norm(op.ee - p_stop) < 0.003
