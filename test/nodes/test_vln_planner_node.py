"""vln_planner_node over real rclpy (private Context): instruction + odometry in -> goal_pose,
plan and status out; bad input gives a status and never a NaN or off-map goal."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator

import pytest
import yaml
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness
from std_msgs.msg import String

from ifagent_ros.core.schemas import NavStatus, ObjectList
from ifagent_ros.core.worlds.house import load_house
from ifagent_ros.nodes.sim_house_world import house_object_list
from ifagent_ros.nodes.vln_planner_node import VlnPlannerNode

INSTRUCTION = "leave the bedroom, walk past the bench and stop next to the fridge in the kitchen"
BEDROOM = (2.3, 2.2, 0.0)


def odometry(x: float, y: float, yaw: float) -> Odometry:
    msg = Odometry()
    msg.header.frame_id = "odom"
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
    return msg


class Harness(NodeHarness):
    def __init__(self, ctx: Context, **params: object) -> None:
        overrides = [Parameter(k, value=v) for k, v in {"status_rate_hz": 5.0, **params}.items()]
        super().__init__(ctx, VlnPlannerNode(context=ctx, parameter_overrides=overrides,
                                             node_name=f"vln_{random.randrange(10**6)}"))
        self.goals: list[PoseStamped] = []
        self.plans: list[Path] = []
        self.status: list[dict] = []
        self.pub_instruction = self.probe.create_publisher(String, "/ifagent/instruction", 10)
        self.pub_odom = self.probe.create_publisher(Odometry, "/odom", 10)
        self.pub_objects = self.probe.create_publisher(String, "/ifagent/objects", 10)
        self.probe.create_subscription(PoseStamped, "/goal_pose", self.goals.append, 10)
        self.probe.create_subscription(Path, "/ifagent/nav/plan", self.plans.append, 10)
        self.probe.create_subscription(String, "/ifagent/nav/status",
                                       lambda m: self.status.append(json.loads(m.data)), 50)

    def connect(self) -> None:
        ok = self.spin_until(lambda: self.pub_instruction.get_subscription_count() >= 1
                             and self.pub_odom.get_subscription_count() >= 1
                             and self.node._goal_pub.get_subscription_count() >= 1
                             and self.node._plan_pub.get_subscription_count() >= 1
                             and len(self.status) >= 1)
        assert ok, "discovery did not match the planner's topics"

    def say(self, text: str) -> None:
        self.pub_instruction.publish(String(data=text))

    def odom(self, x: float, y: float, yaw: float) -> None:
        self.pub_odom.publish(odometry(x, y, yaw))

    def status_where(self, pred, timeout: float = 5.0) -> dict:
        assert self.spin_until(lambda: any(pred(s) for s in self.status), timeout), \
            f"no such status; last: {self.status[-1] if self.status else None}"
        return next(s for s in self.status if pred(s))


@pytest.fixture
def harness(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context)
    try:
        h.connect()
        yield h
    finally:
        h.close()


def assert_safe_goal(h: Harness, msg: PoseStamped) -> None:
    p, q = msg.pose.position, msg.pose.orientation
    assert msg.header.frame_id == "map"
    assert all(math.isfinite(v) for v in (p.x, p.y, p.z, q.z, q.w))
    assert h.node.known_map.contains(p.x, p.y)
    assert abs(q.z ** 2 + q.w ** 2 - 1.0) < 1e-6


def test_instruction_and_odometry_give_goal_plan_and_status(harness: Harness) -> None:
    h = harness
    house = load_house("apartment_a")
    objs = ObjectList(stamp=0.0, source="ground_truth",
                      objects=house_object_list(house, *BEDROOM))
    h.pub_objects.publish(String(data=objs.model_dump_json()))
    h.odom(*BEDROOM)
    h.say(INSTRUCTION)
    # (the instruction may arrive before the odometry: then an empty "wait" plan comes first)
    assert h.spin_until(lambda: len(h.goals) >= 1 and any(p.poses for p in h.plans))
    goal = h.goals[-1]
    assert_safe_goal(h, goal)
    first = h.node.known_map.places["bedroom_door@bedroom"]
    assert (goal.pose.position.x, goal.pose.position.y) == pytest.approx(first.xy)
    plan = next(p for p in h.plans if p.poses)
    assert plan.header.frame_id == "map" and len(plan.poses) == 2
    assert plan.poses[-1].pose.position.x == goal.pose.position.x
    status = h.status_where(lambda s: s["mode"] == "navigating")
    NavStatus.model_validate(status)
    assert status["subgoal"] == "exit the bedroom" and status["goal_place"] == first.id
    # Arrive (odometry near the goal): the next goal follows, from the hall side of the door.
    for k in range(1, 11):  # drive there in small steps: no odometry jump
        h.odom(BEDROOM[0] + (first.x - BEDROOM[0]) * k / 10,
               BEDROOM[1] + (first.y - BEDROOM[1]) * k / 10, 0.0)
        h.spin_until(lambda: False, 0.02)
    assert h.spin_until(lambda: len(h.goals) >= 2)
    assert_safe_goal(h, h.goals[-1])
    assert h.status_where(lambda s: s["goal_place"] == "bedroom_door@hall")["route"] == [
        "bedroom", "bedroom_door@bedroom"]


def test_bad_input_gives_status_and_no_goal(harness: Harness) -> None:
    h = harness
    h.odom(*BEDROOM)
    h.say("")
    asking = h.status_where(lambda s: s["mode"] == "asking")
    assert "empty instruction" in asking["question"]
    h.say("go to the zorblax")
    h.status_where(lambda s: s["mode"] == "asking" and "zorblax" in (s["question"] or ""))
    h.pub_objects.publish(String(data='{"not": "an object list"}'))  # ignored, no crash
    assert h.goals == []
    assert all(len(p.poses) == 0 for p in h.plans)
    h.say(INSTRUCTION)
    assert h.spin_until(lambda: len(h.goals) == 1)
    n_plans = len(h.plans)
    h.odom(BEDROOM[0] + 4.0, BEDROOM[1], 0.0)  # odometry jumps 4 m at once
    halted = h.status_where(lambda s: s["mode"] == "halted")
    assert "odometry jumped" in halted["reason"]
    assert h.spin_until(lambda: len(h.plans) > n_plans) and len(h.plans[-1].poses) == 0
    h.odom(math.nan, 0.0, 0.0)
    h.status_where(lambda s: "non-finite odometry" in (s["reason"] or ""))
    h.spin_until(lambda: False, 0.3)
    assert len(h.goals) == 1  # nothing new went out after the jump


def test_place_graph_file_on_a_real_robot(ros_context: Context, tmp_path) -> None:
    graph = {
        "rooms": [{"id": "hall", "type": "hallway", "x": [0, 4], "y": [0, 2]},
                  {"id": "music", "type": "office", "x": [4, 7], "y": [0, 5]}],
        "places": [{"id": "hall_w", "x": 0.8, "y": 1.0, "room": "hall"},
                   {"id": "hall_e", "x": 3.2, "y": 1.0, "room": "hall", "labels": ["plant"]},
                   {"id": "near_piano", "x": 6.2, "y": 4.0, "room": "music",
                    "labels": ["piano"]}],
        "edges": [["hall_w", "hall_e"]],
    }
    path = tmp_path / "places.yaml"
    path.write_text(yaml.safe_dump(graph))
    h = Harness(ros_context, map_file=str(path))
    try:
        h.connect()
        h.odom(0.8, 1.0, 0.0)
        h.say("go to the piano")
        asking = h.status_where(lambda s: s["mode"] == "asking")
        assert "no route reaches it" in asking["question"]
        h.say("walk to the plant and stop")
        assert h.spin_until(lambda: len(h.goals) == 1)
        assert (h.goals[0].pose.position.x, h.goals[0].pose.position.y) == (3.2, 1.0)
    finally:
        h.close()
