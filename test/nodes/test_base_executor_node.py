"""base_executor_node over real rclpy (private Context): path -> /cmd_vel, e-stop latch, stale
odometry, obstacle data from a depth image, bad input."""

from __future__ import annotations

import json
import math
import random
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry, Path
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool, Header, String
from std_srvs.srv import Trigger

from ifagent_ros.nodes.base_executor_node import BaseExecutorNode
from ifagent_ros.nodes.topics import ESTOP_QOS

W, H, F = 80, 60, 60.0


class Harness(NodeHarness):
    def __init__(self, ctx: Context, **params: object) -> None:
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        super().__init__(ctx, BaseExecutorNode(context=ctx, parameter_overrides=overrides,
                                               node_name=f"base_{random.randrange(10**6)}"))
        self.cmds: list[tuple[float, float]] = []
        self.status: list[dict] = []
        self.pub_plan = self.probe.create_publisher(Path, "/ifagent/nav/plan", 10)
        self.pub_odom = self.probe.create_publisher(Odometry, "/odom", 10)
        self.pub_depth = self.probe.create_publisher(Image, "/camera/depth/image_raw", 2)
        self.pub_info = self.probe.create_publisher(CameraInfo, "/camera/depth/camera_info", 2)
        self.pub_estop = self.probe.create_publisher(Bool, "/ifagent/estop", ESTOP_QOS)
        self.reset = self.probe.create_client(Trigger, "/ifagent/base_executor/reset_estop")
        self.probe.create_subscription(
            Twist, "/cmd_vel", lambda m: self.cmds.append((m.linear.x, m.angular.z)), 100)
        self.probe.create_subscription(String, "/ifagent/base_executor/status",
                                       lambda m: self.status.append(json.loads(m.data)), 50)
        self.pose = (0.0, 0.0, 0.0)
        ok = self.spin_until(lambda: self.pub_plan.get_subscription_count() >= 1
                             and self.pub_odom.get_subscription_count() >= 1
                             and self.node._cmd_pub.get_subscription_count() >= 1)
        assert ok, "discovery failed"

    def plan(self, points: list[tuple[float, float]], frame: str = "map") -> None:
        msg = Path(header=Header(frame_id=frame))
        for x, y in points:
            ps = PoseStamped(header=msg.header)
            ps.pose.position.x, ps.pose.position.y = x, y
            msg.poses.append(ps)
        self.pub_plan.publish(msg)

    def odom(self) -> None:
        msg = Odometry()
        msg.pose.pose.position.x, msg.pose.pose.position.y = self.pose[0], self.pose[1]
        msg.pose.pose.orientation.z = math.sin(self.pose[2] / 2)
        msg.pose.pose.orientation.w = math.cos(self.pose[2] / 2)
        self.pub_odom.publish(msg)

    def depth(self, metres: float) -> None:
        info = CameraInfo(width=W, height=H, k=[F, 0.0, (W - 1) / 2, 0.0, F, (H - 1) / 2,
                                                0.0, 0.0, 1.0])
        self.pub_info.publish(info)
        d = np.full((H, W), metres, dtype=np.float32)
        self.pub_depth.publish(Image(height=H, width=W, encoding="32FC1", step=W * 4,
                                     is_bigendian=int(sys.byteorder == "big"),
                                     data=d.tobytes()))

    def run(self, seconds: float, depth: float | None = None) -> None:
        """Spin while feeding odometry (a unicycle that follows /cmd_vel) and depth."""
        end = self.node.get_clock().now().nanoseconds * 1e-9 + seconds
        last = None
        while self.node.get_clock().now().nanoseconds * 1e-9 < end:
            now = self.node.get_clock().now().nanoseconds * 1e-9
            if last is not None and self.cmds:
                v, w = self.cmds[-1]
                dt = now - last
                x, y, yaw = self.pose
                self.pose = (x + v * dt * math.cos(yaw), y + v * dt * math.sin(yaw), yaw + w * dt)
            last = now
            self.odom()
            if depth is not None:
                self.depth(depth)
            self.spin_until(lambda: False, 0.03)


@pytest.fixture
def harness(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context, require_obstacles=False)
    try:
        yield h
    finally:
        h.close()


def test_follows_a_plan_and_stops_on_an_empty_one(harness: Harness) -> None:
    h = harness
    h.plan([(0.0, 0.0), (3.0, 0.0)])
    h.run(1.5)
    assert h.pose[0] > 0.2 and max(v for v, _ in h.cmds) <= 0.5 + 1e-9
    assert h.status[-1]["mode"] in ("tracking", "slowing")
    h.plan([])
    h.run(1.0)
    assert h.cmds[-1] == (0.0, 0.0) and h.status[-1]["mode"] == "idle"


def test_estop_latches_zero_until_reset(harness: Harness) -> None:
    h = harness
    h.plan([(0.0, 0.0), (3.0, 0.0)])
    h.run(1.0)
    assert h.cmds[-1][0] > 0.0
    h.pub_estop.publish(Bool(data=True))
    h.run(0.5)
    assert h.cmds[-1] == (0.0, 0.0) and h.status[-1]["estop_latched"]
    h.plan([(0.0, 0.0), (3.0, 0.0)])  # a new plan does not release the latch
    h.run(0.5)
    assert h.cmds[-1] == (0.0, 0.0) and h.status[-1]["mode"] == "estop"
    assert h.reset.wait_for_service(timeout_sec=5.0)
    fut = h.reset.call_async(Trigger.Request())
    assert h.spin_until(fut.done) and not fut.result().success  # input still active
    h.pub_estop.publish(Bool(data=False))
    h.run(0.3)
    fut = h.reset.call_async(Trigger.Request())
    assert h.spin_until(fut.done) and fut.result().success
    h.run(0.5)
    assert h.status[-1]["mode"] == "idle"  # the old path was forgotten


def test_stale_odometry_and_bad_paths_stop_the_base(harness: Harness) -> None:
    h = harness
    h.plan([(0.0, 0.0), (3.0, 0.0)])
    h.run(1.0)
    h.spin_until(lambda: False, 1.0)  # odometry stops coming
    assert h.cmds[-1] == (0.0, 0.0) and h.status[-1]["mode"] == "stale_odom"
    h.plan([(0.0, 0.0), (3.0, 0.0)], frame="camera_link")
    h.run(0.5)
    assert "frame" in h.status[-1]["last_rejection"] and h.status[-1]["path_points"] == 0
    h.plan([(0.0, 0.0), (math.nan, 0.0)])
    h.run(0.5)
    assert "non-finite" in h.status[-1]["last_rejection"] and h.cmds[-1] == (0.0, 0.0)


def test_depth_gates_driving_and_a_near_wall_blocks(ros_context: Context) -> None:
    h = Harness(ros_context, require_obstacles=True)
    try:
        h.plan([(0.0, 0.0), (3.0, 0.0)])
        h.run(0.8)  # no depth: it does not drive blind
        assert h.status[-1]["mode"] == "no_obstacle_data"
        assert all(c == (0.0, 0.0) for c in h.cmds)
        h.run(1.0, depth=5.0)  # far wall (beyond obstacles.max_range): drives
        assert h.cmds[-1][0] > 0.0
        h.run(1.0, depth=0.15)  # a wall 0.15 m in front of the camera (0.07 m from the base)
        assert h.cmds[-1][0] == 0.0 and h.status[-1]["mode"] == "blocked"
        assert h.status[-1]["obstacle_points"] > 0
    finally:
        h.close()
