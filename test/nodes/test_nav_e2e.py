"""End to end in a private Context: house_sim_node + base_executor_node +
vln_planner_node. An instruction goes in; the PyBullet base drives, on /cmd_vel from the local
controller (with depth-based obstacle checks), through the first goals the planner publishes."""

from __future__ import annotations

import json
import math
import time

from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String

from ifagent_ros.nodes.base_executor_node import BaseExecutorNode
from ifagent_ros.nodes.house_sim_node import HouseSimNode
from ifagent_ros.nodes.vln_planner_node import VlnPlannerNode

INSTRUCTION = "leave the bedroom, walk past the bench and stop next to the fridge in the kitchen"


def params(**kw: object) -> list[Parameter]:
    return [Parameter(k, value=v) for k, v in kw.items()]


def test_base_drives_to_the_planners_goals_in_the_house(ros_context: Context) -> None:
    sim = HouseSimNode(context=ros_context, parameter_overrides=params(
        house="apartment_a", start=[2.3, 2.2, 0.0], realtime=True,
        **{"camera.width": 160, "camera.height": 120, "camera.rate_hz": 5.0}))
    base = BaseExecutorNode(context=ros_context)
    planner = VlnPlannerNode(context=ros_context, parameter_overrides=params(house="apartment_a"))
    probe = Node("e2e_probe", context=ros_context)
    truth: list[tuple[float, float]] = []
    status: list[dict] = []
    probe.create_subscription(Odometry, "/sim/base_pose", lambda m: truth.append(
        (m.pose.pose.position.x, m.pose.pose.position.y)), 50)
    probe.create_subscription(String, "/ifagent/nav/status",
                              lambda m: status.append(json.loads(m.data)), 50)
    say = probe.create_publisher(String, "/ifagent/instruction", 10)
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (sim, base, planner, probe):
        executor.add_node(node)

    def spin_until(cond, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.005)
            assert not sim.sim.collides(), sim.sim.contacts()
            if cond():
                return True
        return False

    try:
        assert spin_until(lambda: say.get_subscription_count() >= 1 and len(truth) > 5, 20.0)
        house_sim = sim.sim
        sim_t0, wall_t0 = house_sim.time, time.monotonic()
        say.publish(String(data=INSTRUCTION))
        known = planner.known_map.places
        first, second = known["bedroom_door@bedroom"], known["bedroom_door@hall"]
        assert spin_until(lambda: len(planner.supervisor.route) >= 2, 60.0), status[-1:]
        first_sim_s, first_wall_s = house_sim.time - sim_t0, time.monotonic() - wall_t0
        assert planner.supervisor.route[:2] == ["bedroom", first.id]
        assert math.dist(house_sim.base_pose()[:2], first.xy) < 0.4
        # On through the door to the hall side: the door jambs must not stop it.
        assert spin_until(lambda: len(planner.supervisor.route) >= 3, 60.0), status[-1:]
        assert planner.supervisor.route[2] == second.id
        assert math.dist(house_sim.base_pose()[:2], second.xy) < 0.45
        assert base.core.rejections == 0
        assert max(abs(v) for v, _ in base.sent) <= base.config.controller.max_linear_speed
        print(f"\nfirst goal reached in {first_sim_s:.1f} s sim / {first_wall_s:.1f} s wall; "
              f"plan ms {[round(m, 2) for m in planner.supervisor.plan_ms]}")
    finally:
        executor.shutdown()
        for node in (planner, base, sim):
            node.close()
            node.destroy_node()
        probe.destroy_node()
