"""sim_node drives /clock; a node with use_sim_time follows it."""

from __future__ import annotations

import time

from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from ros_helpers import spin_until

from ifagent_ros.nodes.sim_node import SimNode


def test_use_sim_time_follows_the_simulator_clock(ros_context) -> None:
    sim = SimNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("realtime", value=False),
            Parameter("camera.enabled", value=False),
        ],
    )
    follower = Node(
        "sim_time_follower",
        context=ros_context,
        parameter_overrides=[Parameter("use_sim_time", value=True)],
    )
    ex = SingleThreadedExecutor(context=ros_context)
    ex.add_node(sim)
    ex.add_node(follower)
    try:
        assert spin_until(ex, lambda: follower.get_clock().now().nanoseconds > 2e9, timeout=20.0)
        # Simulated time (seconds since the sim started), not the wall clock (~1.8e9 s).
        assert follower.get_clock().now().nanoseconds * 1e-9 < 1e6
        assert sim.get_clock().now().nanoseconds < time.time_ns()
    finally:
        ex.shutdown()
        sim.close()
        sim.destroy_node()
        follower.destroy_node()
