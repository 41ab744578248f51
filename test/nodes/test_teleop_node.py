"""teleop_node over real rclpy (private Context): stamps, frames, bad input, bursts."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator

import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import TwistStamped
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness
from sensor_msgs.msg import Joy
from std_msgs.msg import Float64, String

from ifagent_ros.nodes.teleop_node import TeleopNode


class Harness(NodeHarness):
    def __init__(self, ctx: Context, overrides: list[Parameter] | None = None) -> None:
        super().__init__(ctx, TeleopNode(context=ctx, parameter_overrides=overrides,
                               node_name=f"teleop_under_test_{random.randrange(10**6)}"))
        self.twists: list[TwistStamped] = []
        self.grippers: list[float] = []
        self.status: list[dict[str, object]] = []
        self.joy_pub = self.probe.create_publisher(Joy, "/joy", 10)
        self.probe.create_subscription(TwistStamped, "/ifagent/ee_twist_cmd",
                                       self.twists.append, 100)
        self.probe.create_subscription(Float64, "/gripper/command",
                                       lambda m: self.grippers.append(m.data), 10)
        self.probe.create_subscription(String, "/ifagent/teleop/status",
                                       lambda m: self.status.append(json.loads(m.data)), 10)

    def connect(self) -> None:
        """Wait until discovery matched both directions, so no test message is lost."""
        ok = self.spin_until(lambda: self.joy_pub.get_subscription_count() >= 1
                             and self.node._twist_pub.get_subscription_count() >= 1)
        assert ok, "discovery did not match /joy and /ifagent/ee_twist_cmd"


@pytest.fixture
def harness(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context)
    try:
        h.connect()
        yield h
    finally:
        h.close()


def joy(axes: list[float] | None = None, buttons: list[int] | None = None,
        stamp: Time | None = None) -> Joy:
    msg = Joy()
    msg.header.stamp = stamp if stamp is not None else Time(sec=123, nanosec=456_000_000)
    msg.header.frame_id = "joy"
    msg.axes = axes if axes is not None else [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    msg.buttons = buttons if buttons is not None else [0] * 11
    return msg


def stick(lx: float = 0.0, ly: float = 0.0) -> list[float]:
    return [lx, ly, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def test_stick_up_gives_plus_x_with_joy_stamp(harness: Harness) -> None:
    harness.joy_pub.publish(joy(stick(ly=1.0)))
    assert harness.spin_until(lambda: len(harness.twists) >= 1)
    tw = harness.twists[-1]
    assert tw.header.frame_id == "base_link"
    assert (tw.header.stamp.sec, tw.header.stamp.nanosec) == (123, 456_000_000)
    assert tw.twist.linear.x == pytest.approx(0.15)
    assert tw.twist.linear.y == pytest.approx(0.0) and tw.twist.linear.z == pytest.approx(0.0)
    assert tw.twist.angular.z == pytest.approx(0.0)


def test_zero_stamp_is_replaced_by_now(harness: Harness) -> None:
    before = harness.node.get_clock().now().nanoseconds
    harness.joy_pub.publish(joy(stick(lx=1.0), stamp=Time()))
    assert harness.spin_until(lambda: len(harness.twists) >= 1)
    tw = harness.twists[-1]
    ns = tw.header.stamp.sec * 10**9 + tw.header.stamp.nanosec
    assert ns >= before
    assert tw.twist.linear.y == pytest.approx(0.15)


def test_nan_joy_gives_zero_twist_and_node_survives(harness: Harness) -> None:
    harness.joy_pub.publish(joy(stick(ly=math.nan)))
    assert harness.spin_until(lambda: len(harness.twists) >= 1)
    tw = harness.twists[-1].twist
    assert (tw.linear.x, tw.linear.y, tw.linear.z) == (0.0, 0.0, 0.0)
    assert (tw.angular.x, tw.angular.y, tw.angular.z) == (0.0, 0.0, 0.0)
    assert harness.node.status()["last_rejection"] is not None
    # Still alive: a good message afterwards maps normally.
    harness.joy_pub.publish(joy(stick(ly=1.0)))
    assert harness.spin_until(lambda: len(harness.twists) >= 2)
    assert harness.twists[-1].twist.linear.x == pytest.approx(0.15)


def test_wrong_counts_give_zero_twist(harness: Harness) -> None:
    harness.joy_pub.publish(joy(axes=[0.0, 1.0], buttons=[0] * 11))
    assert harness.spin_until(lambda: len(harness.twists) >= 1)
    assert harness.twists[-1].twist.linear.x == 0.0
    assert "axes" in str(harness.node.status()["last_rejection"])


def test_mode_button_and_gripper_edges(harness: Harness) -> None:
    buttons = [0] * 11
    buttons[2] = 1  # X: TRANSLATE_XY -> TRANSLATE_Z_YAW, same message already maps to z
    buttons[0] = 1  # A: close
    harness.joy_pub.publish(joy(stick(ly=1.0), buttons))
    assert harness.spin_until(lambda: len(harness.twists) >= 1 and len(harness.grippers) >= 1
                              and any(s["mode"] == "translate_z_yaw" for s in harness.status))
    assert harness.twists[-1].twist.linear.z == pytest.approx(0.15)
    assert harness.grippers == [0.0]
    assert harness.node.mode.value == "translate_z_yaw"


def test_burst_of_10000_does_not_crash(harness: Harness) -> None:
    n = 10_000
    for i in range(n):
        msg = joy(stick(ly=1.0 if i % 2 else math.nan), stamp=Time(sec=1, nanosec=i))
        harness.joy_pub.publish(msg)
        if i % 50 == 0:
            harness.executor.spin_once(timeout_sec=0.0)
    harness.spin_until(lambda: False, timeout=0.5)  # drain
    received = len(harness.twists)
    assert received > 0
    # The node is still healthy and answers a fresh message.
    harness.joy_pub.publish(joy(stick(ly=-1.0), stamp=Time(sec=99)))
    assert harness.spin_until(lambda: any(t.header.stamp.sec == 99 for t in harness.twists))
    last = next(t for t in reversed(harness.twists) if t.header.stamp.sec == 99)
    assert last.twist.linear.x == pytest.approx(-0.15)


def test_parameters_configure_mapping(ros_context: Context) -> None:
    overrides = [
        Parameter("max_linear_speed", value=0.05),
        Parameter("pad.sign_left_y", value=-1),  # int in YAML style: accepted for a float
        Parameter("frame_id", value="panda_link0"),
        Parameter("initial_mode", value="translate_z_yaw"),
        Parameter("status_rate_hz", value=20.0),
    ]
    h = Harness(ros_context, overrides)
    try:
        h.connect()
        h.joy_pub.publish(joy(stick(ly=1.0)))
        assert h.spin_until(lambda: len(h.twists) >= 1 and len(h.status) >= 1)
        tw = h.twists[-1]
        assert tw.header.frame_id == "panda_link0"
        assert tw.twist.linear.z == pytest.approx(-0.05)
        assert h.status[-1]["mode"] == "translate_z_yaw"
    finally:
        h.close()


def test_scripted_gamepad_drives_teleop_to_block(ros_context: Context) -> None:
    """scripted_gamepad_node -> /joy -> teleop_node -> twist -> fake arm -> /sim/ground_truth."""
    from ifagent_ros.core.schemas import GroundTruth, ObjectPose
    from ifagent_ros.nodes.scripted_gamepad_node import ScriptedGamepadNode

    block = ObjectPose(id="red_block", label="block", color="red", position=(0.5, 0.1, 0.02),
                       orientation=(0.0, 0.0, 0.0, 1.0), size=(0.04, 0.04, 0.04))
    goal = (0.5, 0.1, 0.05)  # centre + half height + hover_height 0.01
    h = Harness(ros_context)
    gamepad = ScriptedGamepadNode(context=ros_context, parameter_overrides=[
        Parameter("gain", value=15.0), Parameter("timeout_s", value=20.0)])
    h.executor.add_node(gamepad)
    ee = [0.42, 0.03, 0.13]
    state: dict[str, object] = {"deadman": False, "last": None}
    statuses: list[dict[str, object]] = []

    def on_joy(msg: Joy) -> None:
        state["deadman"] = len(msg.buttons) > 5 and msg.buttons[5] == 1

    def on_twist(msg: TwistStamped) -> None:
        now = time.monotonic()
        last = state["last"]
        state["last"] = now
        if last is None or not state["deadman"]:  # the executor's deadman, in miniature
            return
        dt = min(now - float(last), 0.1)  # type: ignore[arg-type]
        v = msg.twist.linear
        ee[0] += v.x * dt
        ee[1] += v.y * dt
        ee[2] += v.z * dt

    def publish_gt() -> None:
        gt = GroundTruth(stamp=time.time(), objects=[block], ee_position=(ee[0], ee[1], ee[2]))
        gt_pub.publish(String(data=gt.model_dump_json()))

    h.probe.create_subscription(Joy, "/joy", on_joy, 10)
    h.probe.create_subscription(TwistStamped, "/ifagent/ee_twist_cmd", on_twist, 10)
    h.probe.create_subscription(String, "/ifagent/scripted_gamepad/status",
                                lambda m: statuses.append(json.loads(m.data)), 10)
    gt_pub = h.probe.create_publisher(String, "/sim/ground_truth", 10)
    h.probe.create_timer(0.1, publish_gt)  # 10 Hz, like sim_node
    try:
        assert h.spin_until(lambda: any(s["done"] for s in statuses), timeout=30.0), statuses[-1:]
        final = next(s for s in statuses if s["done"])
        assert final["reached"] is True and final["phase"] == "done"
        assert math.dist(ee, goal) <= 0.02
        assert state["deadman"] is False  # RB released at the end
        assert h.node.status()["rejections"] == 0
    finally:
        h.executor.remove_node(gamepad)
        gamepad.close()
        gamepad.destroy_node()
        h.close()


def test_pad_parameters_and_old_names(ros_context: Context) -> None:
    """The pad layout is `pad.*` (one layout for every node); an old name is an error naming
    the new one rather than a value silently ignored."""
    h = Harness(ros_context, [Parameter("pad.num_axes", value=6),
                              Parameter("pad.axis_right_x", value=2),
                              Parameter("pad.axis_right_y", value=3),
                              Parameter("pad.trigger_axes", value=[4, 5])])
    try:
        h.connect()
        h.joy_pub.publish(joy([0.0, 1.0, 0.0, 0.0, 1.0, 1.0]))  # six axes: accepted
        assert h.spin_until(lambda: len(h.twists) >= 1)
        assert h.twists[-1].twist.linear.x == pytest.approx(0.15)
        assert h.node.status()["rejections"] == 0
    finally:
        h.close()
    with pytest.raises(ValueError, match="expected_axes is now pad.num_axes"):
        TeleopNode(context=ros_context, parameter_overrides=[Parameter("expected_axes", value=6)])
