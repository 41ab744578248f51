"""sim_user_node: the simulated teleoperator driving the REAL node graph (sim, executor, shared
autonomy or teleop, correction chain) through the topics a person's devices use.

Thin wrapper around :class:`ifagent_ros.core.latent_actions.sim_user_session.SimUserSession`
(the person of ``sim_user.SimulatedUser`` with what it sees, its instruction and its judgement):

- subscribes ``/sim/ground_truth`` (objects, for the goal and for judging success),
  ``/joint_states`` (the end effector by forward kinematics, the gripper opening = the sum of the
  finger joints), ``/ifagent/shared_autonomy/status`` and ``/ifagent/teleop/status`` (the mode a
  person reads off the display);
- publishes ``/joy`` (``sensor_msgs/Joy``, Xbox layout: RB deadman, left stick, buttons) at
  ``rate_hz``, its corrections as typed speech on ``/ifagent/speech/text`` (JSON ``SpeechText``,
  backend "typed") and the task's instruction on ``/ifagent/instruction`` (repeated each second
  until the shared-autonomy status shows it, since a message sent before the subscription
  matched is lost);
- publishes ``/ifagent/sim_user/status`` (JSON ``sim_user_session.SimUserStatus``): task,
  phase, waypoint, distance to it, corrections said, success (the task's physical check on the
  ground truth) and the time to success.

Parameters: ``task`` (a family of ``core/latent_actions/tasks.py``), ``seed`` (task params,
phrasing and the person; use the sim's seed for the bench's scene), ``condition`` (a name in
``core/latent_actions/conditions.py``: the interface and whether the person speaks), ``split``
(heldout | train phrasings), the user's ``skill``/``reaction_delay_s``/``stick_noise_std``, the
pad (``pad.*``, as every node reading ``/joy``) and its gripper buttons (default: what the
condition's node reads).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import String

from ifagent_ros.core.control.gamepad import PadLayout
from ifagent_ros.core.latent_actions.conditions import get_condition
from ifagent_ros.core.latent_actions.sim_user import SimulatedUser, SimUserConfig, pad_for
from ifagent_ros.core.latent_actions.sim_user_session import SimUserSession
from ifagent_ros.core.latent_actions.state import JointNames
from ifagent_ros.core.latent_actions.tasks import ObjectState, sample_task
from ifagent_ros.core.schemas import GroundTruth, SpeechText
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class SimUserParams:
    task: str = "pick_place_bowl"
    seed: int = 0
    condition: str = "lilac"
    split: Literal["heldout", "train"] = "heldout"
    rate_hz: float = 20.0
    skill: float = 0.8
    reaction_delay_s: float = 0.25
    stick_noise_std: float = 0.03
    # The pad it holds (the nodes' pad.* parameters) and the gripper buttons it presses;
    # -1: what the condition's node reads (teleop A, else B).
    pad: PadLayout = field(default_factory=PadLayout)
    gripper_close_button: int = -1
    gripper_open_button: int = -1
    joint_state_stale_s: float = 0.5  # older: the person cannot see the arm (hands off)
    instruction_repeat_s: float = 1.0
    joints: JointNames = field(default_factory=JointNames)  # arm.joint_names, gripper.joint_names
    joy_topic: str = topics.JOY
    speech_topic: str = topics.SPEECH_TEXT
    instruction_topic: str = topics.INSTRUCTION
    ground_truth_topic: str = topics.GROUND_TRUTH
    joint_states_topic: str = topics.JOINT_STATES
    shared_autonomy_status_topic: str = topics.SHARED_AUTONOMY_STATUS
    teleop_status_topic: str = topics.TELEOP_STATUS
    status_topic: str = topics.SIM_USER_STATUS


NAMES = {"gripper_close_button": "buttons.gripper_close",
         "gripper_open_button": "buttons.gripper_open", "joints.arm": "arm.joint_names",
         "joints.gripper": "gripper.joint_names"}


def _yaw(q: tuple[float, float, float, float]) -> float:
    x, y, z, w = q
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


class SimUserNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "sim_user_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        from ifagent_ros.core.control.kinematics import ArmKinematics

        par = declare_config(self, SimUserParams, names=NAMES)
        condition = get_condition(par.condition)
        interface = condition.interface
        self.task = sample_task(par.task, np.random.default_rng(par.seed), par.split)
        pad = pad_for(interface, par.pad)
        for name, button in (("gripper_close", par.gripper_close_button),
                             ("gripper_open", par.gripper_open_button)):
            if button >= 0:
                pad = replace(pad, **{name: button})
        config = SimUserConfig(skill=par.skill, reaction_delay_s=par.reaction_delay_s,
                               stick_noise_std=par.stick_noise_std, rate_hz=par.rate_hz,
                               seed=par.seed)
        self.session = SimUserSession(
            SimulatedUser(self.task, interface, config, pad, corrections=condition.speaks,
                          split=par.split),
            condition.name, ArmKinematics().ee_pose, stale_s=par.joint_state_stale_s,
            repeat_s=par.instruction_repeat_s)
        self._joints = par.joints
        latched = topics.LATCHED_QOS
        self._joy_pub = self.create_publisher(Joy, par.joy_topic, 10)
        self._speech_pub = self.create_publisher(String, par.speech_topic, 10)
        self._instruction_pub = self.create_publisher(String, par.instruction_topic, 10)
        self._status_pub = self.create_publisher(String, par.status_topic, latched)
        self.create_subscription(String, par.ground_truth_topic, self._on_ground_truth, 10)
        self.create_subscription(JointState, par.joint_states_topic, self._on_joint_state, 10)
        self.create_subscription(String, par.shared_autonomy_status_topic, self._on_sa_status,
                                 latched)
        self.create_subscription(String, par.teleop_status_topic, self._on_teleop_status, 10)
        self.create_timer(1.0 / par.rate_hz, self._tick)
        self.create_timer(0.2, self._publish_status)
        self.get_logger().info(f"simulated user ({condition.name}): {self.task.text!r}")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    @property
    def user(self) -> SimulatedUser:
        return self.session.user

    @property
    def distance(self) -> float | None:
        """End effector to the current waypoint (m; None until the arm and objects are seen)."""
        return self.session.distance

    # ------------------------------------------------------------------ inputs
    def _on_ground_truth(self, msg: String) -> None:
        try:
            gt = GroundTruth.model_validate_json(msg.data)
        except ValidationError:
            self.get_logger().warning("ignoring a malformed ground truth",
                                      throttle_duration_sec=1.0)
            return
        self.session.on_objects({o.id: ObjectState(
            o.id, o.label, o.color, np.asarray(o.position), _yaw(o.orientation),
            tuple(o.size)) for o in gt.objects})  # type: ignore[arg-type]

    def _on_joint_state(self, msg: JointState) -> None:
        q, width = self._joints.read(msg.name, msg.position)
        if q is not None:  # a partial or NaN arm is not seen
            self.session.on_arm(q, width, self._now())

    def _on_sa_status(self, msg: String) -> None:
        try:
            status = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(status, dict):
            self.session.on_interface_status(status)

    def _on_teleop_status(self, msg: String) -> None:
        try:
            status = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(status, dict) and isinstance(status.get("mode"), str):
            self.session.on_teleop_status(status["mode"], float(status.get("stamp", 0.0)))

    # ------------------------------------------------------------------ the person
    def _tick(self) -> None:
        now = self._now()
        tick = self.session.tick(now)
        if tick.instruction is not None:
            self._instruction_pub.publish(String(data=tick.instruction))
        if tick.unseen is not None:
            self.get_logger().warning(f"not seen: {tick.unseen}", throttle_duration_sec=1.0)
        msg = Joy()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = "joy"
        msg.axes = [float(a) for a in tick.out.axes]
        msg.buttons = [int(b) for b in tick.out.buttons]
        self._joy_pub.publish(msg)
        if tick.out.speech:
            speech = SpeechText(text=tick.out.speech, confidence=1.0, backend="typed",
                                start=now, end=now)
            self._speech_pub.publish(String(data=speech.model_dump_json()))
        for event in tick.events:
            self.get_logger().info(event)

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        return self.session.status(self._now()).model_dump()

    def _publish_status(self) -> None:
        self._status_pub.publish(String(data=json.dumps(self.status())))

    def close(self) -> None:
        """Nothing outside ROS to release; kept for the common node shape (idempotent)."""


NODE_CLASS = SimUserNode


def main(args: list[str] | None = None) -> None:
    run_node(SimUserNode, args)


if __name__ == "__main__":
    main()
