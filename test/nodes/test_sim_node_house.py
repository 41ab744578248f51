"""house_sim_node over real rclpy (private Context): /cmd_vel in, /odom, camera and a
ground-truth object list out; bad commands stop the base. ``sim_node`` (the tabletop) refuses
``world: house``, naming house_sim_node."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import numpy as np
import pytest
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from ifagent_ros.core.schemas import ObjectList
from ifagent_ros.nodes.house_sim_node import HouseSimNode
from ifagent_ros.nodes.params import ParameterError
from ifagent_ros.nodes.sim_node import SimNode


class Harness(NodeHarness):
    def __init__(self, ctx: Context, **params: object) -> None:
        overrides = [Parameter(k, value=v) for k, v in {
            "house": "apartment_a", "start": [2.3, 2.2, 0.0],
            "camera.width": 64, "camera.height": 48, **params}.items()]
        super().__init__(ctx, HouseSimNode(context=ctx, parameter_overrides=overrides,
                                           node_name=f"sim_{random.randrange(10**6)}"))
        self.odom: list[Odometry] = []
        self.depth: list[Image] = []
        self.info: list[CameraInfo] = []
        self.objects: list[ObjectList] = []
        self.probe.create_subscription(Odometry, "/odom", self.odom.append, 50)
        self.probe.create_subscription(Image, "/camera/depth/image_raw", self.depth.append, 5)
        self.probe.create_subscription(CameraInfo, "/camera/depth/camera_info",
                                       self.info.append, 5)
        self.probe.create_subscription(String, "/ifagent/objects", lambda m: self.objects.append(
            ObjectList.model_validate_json(m.data)), 5)
        self.pub_cmd = self.probe.create_publisher(Twist, "/cmd_vel", 10)
        assert self.spin_until(lambda: self.pub_cmd.get_subscription_count() >= 1
                               and len(self.odom) > 0)

    def cmd(self, v: float, w: float) -> None:
        msg = Twist()
        msg.linear.x, msg.angular.z = v, w
        self.pub_cmd.publish(msg)

    def drive(self, v: float, w: float, seconds: float) -> None:
        for _ in range(int(seconds / 0.05)):
            self.cmd(v, w)
            self.spin_until(lambda: False, 0.05)

    def xy(self) -> tuple[float, float]:
        p = self.odom[-1].pose.pose.position
        return p.x, p.y


@pytest.fixture
def harness(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context)
    try:
        yield h
    finally:
        h.close()


def test_cmd_vel_drives_the_base_and_odometry_follows(harness: Harness) -> None:
    h = harness
    msg = h.odom[-1]
    assert msg.header.frame_id == "odom" and msg.child_frame_id == "base_link"
    assert h.xy() == pytest.approx((2.3, 2.2), abs=0.02)
    h.drive(0.4, 0.0, 1.5)
    x, y = h.xy()
    assert 0.25 < x - 2.3 < 0.75 and abs(y - 2.2) < 0.05  # forward along +x (yaw 0)
    assert h.odom[-1].twist.twist.linear.x > 0.2
    true_x, true_y, _ = h.node.sim.base_pose()
    assert math.hypot(true_x - x, true_y - y) < 0.05  # wheel odometry tracks the true pose
    # Commands stop: the base brakes by itself after cmd_vel.timeout_s.
    h.spin_until(lambda: False, 1.5)
    assert abs(h.odom[-1].twist.twist.linear.x) < 0.02


def test_non_finite_cmd_vel_is_rejected_and_brakes(harness: Harness) -> None:
    h = harness
    h.drive(0.4, 0.0, 1.0)
    h.cmd(math.nan, 0.0)
    h.spin_until(lambda: False, 1.0)
    assert h.node.rejected >= 1
    assert abs(h.odom[-1].twist.twist.linear.x) < 0.02
    assert all(math.isfinite(v) for v in h.xy())


def test_camera_and_ground_truth_objects(harness: Harness) -> None:
    h = harness
    assert h.spin_until(lambda: h.depth and h.info and h.objects, 5.0)
    img = h.depth[-1]
    assert img.encoding == "32FC1" and (img.width, img.height) == (64, 48)
    assert img.header.frame_id == "camera_color_optical_frame"
    depth = np.frombuffer(bytes(img.data), dtype=np.float32)
    assert np.isfinite(depth).any() and np.nanmax(depth) < 10.0
    objs = h.objects[-1]
    assert objs.source == "ground_truth" and objs.frame_id == "base_link"
    labels = {o.label for o in objs.objects}
    assert {"bed", "door"} <= labels
    bed = next(o for o in objs.objects if o.id == "bed")
    # base at (2.3, 2.2) facing +x; the bed is at (1.2, 1.2) in map: behind and to the right.
    assert bed.position[0] == pytest.approx(-1.1, abs=0.05)
    assert bed.position[1] == pytest.approx(-1.0, abs=0.05)


def test_each_sim_node_refuses_the_other_world_naming_the_right_node(
        ros_context: Context) -> None:
    with pytest.raises(ParameterError, match="sim_node: parameter world is 'house', which "
                                             "house_sim_node runs; sim_node runs the tabletop "
                                             "only") as err:
        SimNode(context=ros_context, parameter_overrides=[Parameter("world", value="house")])
    assert err.value.parameter == "world"
    with pytest.raises(ParameterError, match="house_sim_node: parameter world is 'tabletop', "
                                             "which sim_node runs"):
        HouseSimNode(context=ros_context, parameter_overrides=[
            Parameter("world", value="tabletop")])
    with pytest.raises(ParameterError, match="parameter world must be 'tabletop', got 'moon'"):
        SimNode(context=ros_context, parameter_overrides=[Parameter("world", value="moon")])
    with pytest.raises(ValueError, match="start"):
        HouseSimNode(context=ros_context, parameter_overrides=[
            Parameter("start", value=[1.0, 2.0])])
