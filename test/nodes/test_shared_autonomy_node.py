"""shared_autonomy_node over real rclpy (private Context): joy + language -> twist, status."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_action_model import EX, EZ, FakeActionModel, fake_fk
from geometry_msgs.msg import TwistStamped
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Float64, String

from ifagent_ros.core.schemas import (
    Correction,
    GroundTruth,
    ObjectList,
    ObjectPose,
    PerceivedObject,
    SharedAutonomyStatus,
)
from ifagent_ros.nodes.shared_autonomy_node import SharedAutonomyNode

INSTRUCTION = "pick up the red block"
Q = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]


class Harness(NodeHarness):
    def __init__(self, ctx: Context, model: FakeActionModel | None,
                 overrides: list[Parameter] | None = None) -> None:
        node = SharedAutonomyNode(
            context=ctx, parameter_overrides=overrides, model=model, forward_kinematics=fake_fk,
            node_name=f"shared_autonomy_under_test_{random.randrange(10**6)}")
        super().__init__(ctx, node)
        self.twists: list[TwistStamped] = []
        self.grippers: list[float] = []
        self.status: list[dict[str, Any]] = []
        self.axes = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        self.buttons = [0] * 11
        self.joy_on = False
        p = self.probe
        self.joy_pub = p.create_publisher(Joy, "/joy", 10)
        self.instruction_pub = p.create_publisher(String, "/ifagent/instruction", 10)
        self.correction_pub = p.create_publisher(String, "/ifagent/correction", 10)
        self.joints_pub = p.create_publisher(JointState, "/joint_states", 10)
        self.objects_pub = p.create_publisher(String, "/ifagent/objects", 10)
        p.create_subscription(TwistStamped, "/ifagent/ee_twist_cmd", self.twists.append, 1000)
        p.create_subscription(Float64, "/gripper/command",
                              lambda m: self.grippers.append(m.data), 10)
        p.create_subscription(String, "/ifagent/shared_autonomy/status",
                              lambda m: self.status.append(json.loads(m.data)), 100)
        # joy_node's autorepeat and sim_node's joint states, in miniature.
        p.create_timer(0.05, self._publish_joy)
        p.create_timer(0.02, self._publish_joints)

    def _publish_joy(self) -> None:
        if self.joy_on:
            msg = Joy(axes=list(self.axes), buttons=list(self.buttons))
            msg.header.stamp = self.probe.get_clock().now().to_msg()
            self.joy_pub.publish(msg)

    def _publish_joints(self) -> None:
        names = [f"panda_joint{i}" for i in range(1, 8)] + ["panda_finger_joint1",
                                                              "panda_finger_joint2"]
        self.joints_pub.publish(JointState(name=names, position=Q + [0.04, 0.04]))

    def connect(self) -> None:
        ok = self.spin_until(lambda: self.joy_pub.get_subscription_count() >= 1
                             and self.correction_pub.get_subscription_count() >= 1
                             and self.instruction_pub.get_subscription_count() >= 1
                             and self.objects_pub.get_subscription_count() >= 1
                             and self.node._twist_pub.get_subscription_count() >= 1
                             and self.node._status_pub.get_subscription_count() >= 1)
        assert ok, "discovery did not match the shared-autonomy topics"

    def say(self, text: str, **fields: Any) -> None:
        self.correction_pub.publish(String(data=Correction(text=text, **fields)
                                           .model_dump_json()))

    def latest_status(self, cond: Any, since: int = 0) -> dict[str, Any]:
        """The newest status from index ``since`` on that satisfies ``cond`` (waits for it)."""
        assert self.spin_until(lambda: any(cond(s) for s in self.status[since:])), \
            self.status[-1:]
        return next(s for s in reversed(self.status[since:]) if cond(s))


def perceived_red_block() -> str:
    return ObjectList(stamp=time.time(), objects=[PerceivedObject(
        id="obj_7", label="block", color="red", position=(0.5, 0.1, 0.02), size=(0.04,) * 3,
        confidence=0.9)]).model_dump_json()


@pytest.fixture
def model() -> FakeActionModel:
    return FakeActionModel(bases={INSTRUCTION: np.stack([EX, EZ])})


@pytest.fixture
def harness(ros_context: Context, model: FakeActionModel) -> Iterator[Harness]:
    h = Harness(ros_context, model)
    try:
        h.connect()
        yield h
    finally:
        h.close()


def test_stick_drives_the_model_basis(harness: Harness, model: FakeActionModel) -> None:
    harness.objects_pub.publish(String(data=perceived_red_block()))
    harness.instruction_pub.publish(String(data=INSTRUCTION))
    harness.latest_status(lambda s: s["utterance"] == INSTRUCTION)
    harness.axes[0] = 1.0  # left stick fully left: z1 = 1 -> B1 = +x
    harness.joy_on = True
    assert harness.spin_until(lambda: any(t.twist.linear.x > 0.1 for t in harness.twists))
    tw = next(t for t in reversed(harness.twists) if t.twist.linear.x > 0.1)
    assert tw.header.frame_id == "base_link"
    assert tw.twist.linear.x == pytest.approx(0.15)
    assert tw.twist.linear.y == pytest.approx(0.0) and tw.twist.linear.z == pytest.approx(0.0)
    status = harness.latest_status(lambda s: s["mode"] == "latent")
    SharedAutonomyStatus(**status)
    assert status["model_name"] == "fake-lilac" and status["alpha"] == 1.0
    assert model.calls[-1]["text"] == INSTRUCTION


def test_correction_topic_reconditions_and_bad_json_is_reported(harness: Harness,
                                                                 model: FakeActionModel) -> None:
    gt = GroundTruth(stamp=0.0, objects=[ObjectPose(
        id="red_block", label="block", color="red", position=(0.5, 0.1, 0.02),
        orientation=(0, 0, 0, 1), size=(0.04,) * 3)])
    harness.objects_pub.publish(String(data=gt.model_dump_json()))  # ground truth works too
    harness.instruction_pub.publish(String(data=INSTRUCTION))
    harness.latest_status(lambda s: s["utterance"] == INSTRUCTION)
    harness.say("left", type="direction", direction=(0.0, 1.0, 0.0))
    status = harness.latest_status(lambda s: s["utterance"] == "left")
    assert status["alpha"] == 0.0 and status["stack_depth"] == 2 and status["shaping"]
    harness.axes[0] = 1.0
    harness.joy_on = True
    # The basis has no y, the spoken "left" shapes it: the arm moves left.
    assert harness.spin_until(lambda: any(t.twist.linear.y > 0.05 for t in harness.twists))
    assert model.calls[-1]["text"] == "left" and model.calls[-1]["alpha"] == 0.0
    harness.correction_pub.publish(String(data='{"type": "sideways"}'))
    harness.latest_status(lambda s: "malformed correction" in str(s["last_event"]))
    mark = len(harness.status)
    harness.buttons[4] = 1  # LB: undo
    status = harness.latest_status(lambda s: s["utterance"] == INSTRUCTION
                                   and s["stack_depth"] == 1, since=mark)
    assert status["mode"] == "latent"


def test_gripper_button_publishes_a_width(harness: Harness) -> None:
    harness.buttons[1] = 1  # B: close
    harness.joy_on = True
    assert harness.spin_until(lambda: len(harness.grippers) >= 1)
    harness.spin_until(lambda: False, timeout=0.3)
    assert harness.grippers == [0.0]  # one edge, one command


def test_silent_pad_gets_one_last_zero_then_nothing(harness: Harness) -> None:
    harness.joy_on = True
    assert harness.spin_until(lambda: len(harness.twists) >= 5)
    harness.joy_on = False
    harness.spin_until(lambda: False, timeout=0.8)  # > joy timeout 0.5 s
    n = len(harness.twists)
    last = harness.twists[-1].twist
    assert (last.linear.x, last.linear.y, last.linear.z) == (0.0, 0.0, 0.0)
    harness.spin_until(lambda: False, timeout=0.3)
    assert len(harness.twists) == n


def test_empty_model_path_is_end_effector_teleop(ros_context: Context) -> None:
    h = Harness(ros_context, None, [Parameter("model_path", value="")])
    try:
        h.connect()
        h.axes[1] = 1.0  # up -> +x in teleop's translate_xy
        h.joy_on = True
        assert h.spin_until(lambda: any(t.twist.linear.x > 0.1 for t in h.twists))
        assert max(t.twist.linear.x for t in h.twists) == pytest.approx(0.15)
        status = h.latest_status(lambda s: s["mode"] == "teleop_fallback")
        assert "no model_path" in status["reason"] and status["model_kind"] is None
    finally:
        h.close()


def test_a_bad_model_file_degrades_to_teleop_and_says_why(ros_context: Context,
                                                          tmp_path: Path) -> None:
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"this is not a checkpoint")
    h = Harness(ros_context, None, [Parameter("model_path", value=str(bad)),
                                    Parameter("max_linear_speed", value=0.1)])
    try:
        h.connect()
        h.axes[0] = 1.0
        h.joy_on = True
        assert h.spin_until(lambda: any(t.twist.linear.y > 0.05 for t in h.twists))
        assert max(t.twist.linear.y for t in h.twists) <= 0.1 + 1e-9  # parameter applied
        status = h.latest_status(lambda s: s["mode"] == "teleop_fallback")
        assert "broken.pt" in status["reason"]
    finally:
        h.close()


def test_parameters_come_from_the_config_and_the_one_pad_layout(ros_context: Context) -> None:
    node = SharedAutonomyNode(
        context=ros_context, model=FakeActionModel(), forward_kinematics=fake_fk,
        node_name="shared_autonomy_params", parameter_overrides=[
            Parameter("pad.sign_left_x", value=-1.0), Parameter("pad.deadband", value=0.2),
            Parameter("buttons.gripper_close", value=7), Parameter("timeouts.joy_s", value=1),
            Parameter("gripper.closed_width", value=0.01)])
    try:
        cfg = node.controller.config
        assert (cfg.pad.sign_left_x, cfg.pad.deadband) == (-1.0, 0.2)
        assert cfg.button_gripper_close == 7 and cfg.joy_timeout_s == 1.0  # an int for a float
        assert node._closed_width == 0.01
    finally:
        node.destroy_node()


@pytest.mark.parametrize(("name", "value", "says"), [
    ("deadband", 0.2, "pad.deadband"),  # an old pad name: refused, naming the new one
    ("axes.x", 3, "pad.axis_left_x"),
    ("buttons.undo", 11, "buttons.undo"),  # no such button on an 11-button pad
    ("max_linear_speed", "fast", "max_linear_speed"),
])
def test_a_wrong_parameter_is_one_error_naming_it(ros_context: Context, name: str, value: Any,
                                                 says: str) -> None:
    from ifagent_ros.nodes.params import ParameterError

    with pytest.raises(ParameterError, match=says.replace(".", r"\.")):
        SharedAutonomyNode(context=ros_context, model=FakeActionModel(),
                           forward_kinematics=fake_fk, node_name="shared_autonomy_bad",
                           parameter_overrides=[Parameter(name, value=value)])
