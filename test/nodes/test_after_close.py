"""Messages that arrive after a node was closed are ignored: no callback raises."""

from __future__ import annotations

import numpy as np
import pytest
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from ros_helpers import spin_for
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Float64
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from ifagent_ros.nodes.executor_node import ExecutorNode
from ifagent_ros.nodes.scripted_gamepad_node import ScriptedGamepadNode
from ifagent_ros.nodes.sim_node import SimNode
from ifagent_ros.nodes.teleop_node import TeleopNode

NODES = {
    "sim_node": (SimNode, [Parameter("camera.enabled", value=False)]),
    "executor_node": (ExecutorNode, []),
    "teleop_node": (TeleopNode, []),
    "scripted_gamepad_node": (ScriptedGamepadNode, []),
}


@pytest.mark.parametrize("name", sorted(NODES))
def test_late_messages_after_close_do_not_raise(ros_context, name: str) -> None:
    cls, overrides = NODES[name]
    node = cls(context=ros_context, parameter_overrides=overrides)
    sender = Node("late_sender", context=ros_context)
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(node)
    ex.add_node(sender)
    joy = sender.create_publisher(Joy, "/joy", 10)
    twist = sender.create_publisher(TwistStamped, "/ifagent/ee_twist_cmd", 10)
    traj = sender.create_publisher(JointTrajectory, "/panda_arm_controller/joint_trajectory", 10)
    grip = sender.create_publisher(Float64, "/gripper/command", 10)
    js = sender.create_publisher(JointState, "/joint_states", 10)
    try:
        spin_for(ex, 0.3)
        node.close()
        for _ in range(20):
            joy.publish(Joy(axes=[0.0] * 8, buttons=[0] * 5 + [1] + [0] * 5))
            msg = TwistStamped()
            msg.header.frame_id = "base_link"
            twist.publish(msg)
            point = JointTrajectoryPoint(positions=[0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])
            names = [f"panda_joint{i}" for i in range(1, 8)]
            traj.publish(JointTrajectory(joint_names=names, points=[point]))
            grip.publish(Float64(data=0.02))
            js.publish(
                JointState(
                    name=[f"panda_joint{i}" for i in range(1, 8)], position=list(np.zeros(7))
                )
            )
            spin_for(ex, 0.01)  # raises if any callback raises
        spin_for(ex, 0.3)
    finally:
        ex.shutdown()
        node.destroy_node()
        sender.destroy_node()
