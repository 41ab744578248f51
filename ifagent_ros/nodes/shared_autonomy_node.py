"""shared_autonomy_node (LILAC): ``/joy`` + language -> ``/ifagent/ee_twist_cmd``.

Thin wrapper around :class:`ifagent_ros.core.latent_actions.controller.SharedAutonomyController`:

- subscribes ``/joy`` (sensor_msgs/Joy), ``/ifagent/instruction`` (std_msgs/String, plain text),
  ``/ifagent/correction`` (String, JSON ``Correction``), ``/joint_states`` (the arm joints picked
  by name; the gripper opening = the sum of the finger joints) and ``/ifagent/objects`` (String,
  JSON ``ObjectList``; a ``GroundTruth`` from ``/sim/ground_truth`` is accepted too);
- publishes ``TwistStamped`` (frame ``base_link``) at ``control_rate_hz`` from a timer while
  ``/joy`` is alive (zero twists included, as teleop_node publishes one per Joy message; once
  the pad goes silent, one last zero and then nothing, so the executor's watchdog brakes),
  ``std_msgs/Float64`` gripper widths on ``/gripper/command`` (as teleop_node), and a JSON
  ``SharedAutonomyStatus`` (transient-local) at ``status_rate_hz`` and on every change.

``model_path: ''`` runs plain end-effector teleop (mode switching, as teleop_node); a model
file that does not load does the same, and the status says why. The deadman is the executor's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from geometry_msgs.msg import TwistStamped
from pydantic import ValidationError
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Float64, String

from ifagent_ros.core.latent_actions.checkpoint import load_action_model
from ifagent_ros.core.latent_actions.controller import (
    ForwardKinematics,
    SharedAutonomyConfig,
    SharedAutonomyController,
)
from ifagent_ros.core.latent_actions.interface import ActionModel
from ifagent_ros.core.latent_actions.state import JointNames
from ifagent_ros.core.schemas import Correction, GroundTruth, ObjectList, SharedAutonomyStatus
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config

# SharedAutonomyConfig field -> its ROS parameter, where the name is not the field's path (the
# pad's fields are pad.<field>, as in every node that reads /joy).
CONFIG_NAMES: dict[str, str] = {
    "button_gripper_close": "buttons.gripper_close",
    "button_gripper_open": "buttons.gripper_open",
    "button_undo": "buttons.undo",
    "button_reset": "buttons.reset",
    "action_scale_linear": "action_scale.linear",
    "action_scale_angular": "action_scale.angular",
    "min_speed_scale": "speed_scale.min",
    "max_speed_scale": "speed_scale.max",
    "joy_timeout_s": "timeouts.joy_s",
    "joint_state_timeout_s": "timeouts.joint_states_s",
    "objects_timeout_s": "timeouts.objects_s",
    "pinned_s": "pinned.seconds",
    "pinned_level": "pinned.level",
    "pinned_tolerance": "pinned.tolerance",
    "shaping_weight_small": "shaping.weight_small",
    "shaping_weight_medium": "shaping.weight_medium",
    "shaping_weight_large": "shaping.weight_large",
    "shaping_timeout_s": "shaping.timeout_s",
    "gripper_open_width": "gripper.open_width",
}
# The pad's old parameter names: a params file that still sets one is refused, naming the new.
RENAMED: dict[str, str] = {
    "axes.x": "pad.axis_left_x", "axes.y": "pad.axis_left_y", "signs.x": "pad.sign_left_x",
    "signs.y": "pad.sign_left_y", "expected_axes": "pad.num_axes",
    "expected_buttons": "pad.num_buttons", "axis_limit": "pad.axis_limit",
    "deadband": "pad.deadband", "buttons.teleop_mode": "pad.mode"}


@dataclass(frozen=True)
class NodeParams:
    """The node's own parameters (the controller's are :class:`SharedAutonomyConfig`)."""

    model_path: str = ""  # '' = end-effector teleop only
    device: str = "cpu"  # the sentence encoder's device: cpu | cuda | auto (inference is numpy)
    control_rate_hz: float = 100.0
    status_rate_hz: float = 5.0
    frame_id: str = "base_link"
    gripper_closed_width: float = 0.0
    joints: JointNames = field(default_factory=JointNames)  # arm.joint_names, gripper.joint_names
    joy_topic: str = topics.JOY
    instruction_topic: str = topics.INSTRUCTION
    correction_topic: str = topics.CORRECTION
    joint_states_topic: str = topics.JOINT_STATES
    objects_topic: str = topics.OBJECTS
    twist_topic: str = topics.EE_TWIST
    gripper_topic: str = topics.GRIPPER
    status_topic: str = topics.SHARED_AUTONOMY_STATUS


NODE_NAMES = {"gripper_closed_width": "gripper.closed_width",
              "joints.arm": "arm.joint_names", "joints.gripper": "gripper.joint_names"}


class SharedAutonomyNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "shared_autonomy_node",
                 model: ActionModel | None = None,
                 forward_kinematics: ForwardKinematics | None = None) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        config = declare_config(self, SharedAutonomyConfig, names=CONFIG_NAMES, renamed=RENAMED)
        par = declare_config(self, NodeParams, names=NODE_NAMES)
        model_error = None
        if model is None:
            model, model_error = load_action_model(par.model_path, par.device)
        self.controller = SharedAutonomyController(
            config, model, model_error=model_error, forward_kinematics=forward_kinematics)
        self._frame_id = par.frame_id
        self._closed_width = par.gripper_closed_width
        self._joints = par.joints
        self._joy_timeout = config.joy_timeout_s
        self._last_joy: float | None = None
        self._sent_final_zero = True
        self.twists_sent = 0

        self._twist_pub = self.create_publisher(TwistStamped, par.twist_topic, 10)
        self._gripper_pub = self.create_publisher(Float64, par.gripper_topic, 10)
        self._status_pub = self.create_publisher(String, par.status_topic, topics.LATCHED_QOS)
        self.create_subscription(Joy, par.joy_topic, self._on_joy, 10)
        self.create_subscription(String, par.instruction_topic, self._on_instruction, 10)
        self.create_subscription(String, par.correction_topic, self._on_correction, 10)
        self.create_subscription(JointState, par.joint_states_topic, self._on_joint_state, 10)
        self.create_subscription(String, par.objects_topic, self._on_objects, 10)
        self._last_status: dict[str, Any] | None = None
        self.create_timer(1.0 / par.control_rate_hz, self._on_control)
        if par.status_rate_hz > 0.0:
            self.create_timer(1.0 / par.status_rate_hz, self._publish_status)
        ctl = self.controller
        self.get_logger().info(
            f"shared autonomy: model {ctl.model_name or 'none'} "
            f"({getattr(ctl.model, 'kind', 'EE teleop')}), {par.joy_topic} -> "
            f"{par.twist_topic} at {par.control_rate_hz:g} Hz")
        if model_error and par.model_path:
            self.get_logger().error(model_error)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # ------------------------------------------------------------------ inputs
    def _on_joy(self, msg: Joy) -> None:
        now = self._now()
        self._last_joy = now
        self.controller.on_joy(list(msg.axes), list(msg.buttons), now)

    def _on_instruction(self, msg: String) -> None:
        self.controller.on_instruction(msg.data, self._now())  # status: on the next tick

    def _on_correction(self, msg: String) -> None:
        try:
            correction = Correction.model_validate_json(msg.data)
        except ValidationError as err:
            self.controller.note(f"ignored a malformed correction: {err.errors()[0]['msg']}")
            self.get_logger().warning("ignoring a malformed correction", throttle_duration_sec=1.0)
        else:
            self.controller.on_correction(correction, self._now())

    def _on_joint_state(self, msg: JointState) -> None:
        q, width = self._joints.read(msg.name, msg.position)
        if q is not None:  # else a message about other joints only (the gripper's own)
            self.controller.on_joint_state(q, self._now(), width)  # partial q: a bad state

    def _on_objects(self, msg: String) -> None:
        now = self._now()
        try:
            objects = ObjectList.model_validate_json(msg.data)
            self.controller.on_objects(objects, objects.stamp, now)
            return
        except ValidationError as err:
            first = err
        try:
            gt = GroundTruth.model_validate_json(msg.data)
        except ValidationError:
            self.controller.note(f"ignored a malformed object list: {first.errors()[0]['msg']}")
            self.get_logger().warning("ignoring a malformed object list",
                                      throttle_duration_sec=1.0)
            return
        self.controller.on_objects({o.id: o.position for o in gt.objects}, gt.stamp, now)

    # ------------------------------------------------------------------ outputs
    def _on_control(self) -> None:
        now = self._now()
        out = self.controller.step(now)
        alive = self._last_joy is not None and abs(now - self._last_joy) <= self._joy_timeout
        if alive or not self._sent_final_zero:
            tw = TwistStamped()
            tw.header.stamp = self.get_clock().now().to_msg()
            tw.header.frame_id = self._frame_id
            v = [float(x) for x in out.twist] if alive else [0.0] * 6
            tw.twist.linear.x, tw.twist.linear.y, tw.twist.linear.z = v[0], v[1], v[2]
            tw.twist.angular.x, tw.twist.angular.y, tw.twist.angular.z = v[3], v[4], v[5]
            self._twist_pub.publish(tw)
            self.twists_sent += 1
            self._sent_final_zero = not alive
        if out.gripper is not None:
            width = (self.controller.config.gripper_open_width if out.gripper == "open"
                     else self._closed_width)
            self._gripper_pub.publish(Float64(data=float(width)))
        self._last_status = out.status
        if out.status_changed:
            self._publish_status()

    def status(self) -> dict[str, Any] | None:
        """The newest control step's status (None before the first step)."""
        if self._last_status is None:
            return None
        return SharedAutonomyStatus(**self._last_status).model_dump()

    def _publish_status(self) -> None:
        status = self.status()
        if status is not None:
            self._status_pub.publish(String(data=json.dumps(status)))

    def close(self) -> None:
        """Nothing outside ROS to release; kept for the common node shape (idempotent)."""


NODE_CLASS = SharedAutonomyNode


def main(args: list[str] | None = None) -> None:
    run_node(SharedAutonomyNode, args)


if __name__ == "__main__":
    main()
