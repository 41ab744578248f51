"""sim_user_node: the simulated teleoperator driving the REAL node graph (sim, executor, shared
autonomy or teleop, correction chain) through the topics a person's devices use.

Thin wrapper around :class:`ifagent_ros.core.latent_actions.sim_user.SimulatedUser`:

- subscribes ``/sim/ground_truth`` (objects, for the goal and for judging success),
  ``/joint_states`` (the end effector by forward kinematics, the gripper opening = the sum of the
  finger joints), ``/ifagent/shared_autonomy/status`` and ``/ifagent/teleop/status`` (the mode a
  person reads off the display);
- publishes ``/joy`` (``sensor_msgs/Joy``, Xbox layout: RB deadman, left stick, buttons) at
  ``rate_hz``, its corrections as typed speech on ``/ifagent/speech/text`` (JSON ``SpeechText``,
  backend "typed") and the task's instruction on ``/ifagent/instruction`` (repeated each second
  until the shared-autonomy status shows it, since a message sent before the subscription
  matched is lost);
- publishes ``/ifagent/sim_user/status`` (JSON :class:`SimUserStatus`): task, phase, waypoint,
  distance to it, corrections said, success (the task's physical check on the ground truth) and
  the time to success.

Parameters: ``task`` (a family of ``core/latent_actions/tasks.py``), ``seed`` (task params,
phrasing and the person; use the sim's seed for the bench's scene), ``condition`` (a name in
``core/latent_actions/conditions.py``: the interface and whether the person speaks), ``split``
(heldout | train phrasings), the user's ``skill``/``reaction_delay_s``/``stick_noise_std`` and
the pad's gripper buttons (default: what the condition's node reads).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import String

from ifagent_ros.core.latent_actions.conditions import get_condition
from ifagent_ros.core.latent_actions.sim_user import (
    TELEOP_LAYOUT,
    PadLayout,
    SimulatedUser,
    SimUserConfig,
)
from ifagent_ros.core.latent_actions.tasks import ArmObservation, ObjectState, sample_task
from ifagent_ros.core.schemas import GroundTruth, SpeechText
from ifagent_ros.nodes.node_main import run_node

PARAMETERS: dict[str, Any] = {
    "task": "pick_place_bowl",
    "seed": 0,
    "condition": "lilac",
    "split": "heldout",
    "rate_hz": 20.0,
    "skill": 0.8,
    "reaction_delay_s": 0.25,
    "stick_noise_std": 0.03,
    "buttons.gripper_close": -1,  # -1: what the condition's node reads (teleop A, else B)
    "buttons.gripper_open": -1,
    "joint_state_stale_s": 0.5,  # older: the person cannot see the arm (hands off)
    "instruction_repeat_s": 1.0,
    "arm.joint_names": [f"panda_joint{i}" for i in range(1, 8)],
    "gripper.joint_names": ["panda_finger_joint1", "panda_finger_joint2"],
    "joy_topic": "/joy",
    "speech_topic": "/ifagent/speech/text",
    "instruction_topic": "/ifagent/instruction",
    "ground_truth_topic": "/sim/ground_truth",
    "joint_states_topic": "/joint_states",
    "shared_autonomy_status_topic": "/ifagent/shared_autonomy/status",
    "teleop_status_topic": "/ifagent/teleop/status",
    "status_topic": "/ifagent/sim_user/status",
}

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


class SimUserStatus(BaseModel):
    """``/ifagent/sim_user/status`` (version 1)."""

    version: int = 1
    stamp: float
    task: str
    condition: str
    instruction: str
    instruction_acknowledged: bool
    phase: str
    waypoint: str | None = None
    waypoint_index: int = 0
    distance: float | None = None  # m, end effector to the current waypoint
    corrections: int = 0
    said: list[str] = []
    success: bool = False
    time_to_success_s: float | None = None
    done: bool = False


def _yaw(q: tuple[float, float, float, float]) -> float:
    x, y, z, w = q
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


class SimUserNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "sim_user_node") -> None:  # fmt: skip
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        from ifagent_ros.core.control.kinematics import ArmKinematics

        dyn = ParameterDescriptor(dynamic_typing=True)
        par = {n: self.declare_parameter(n, d, dyn).value for n, d in PARAMETERS.items()}
        condition = get_condition(str(par["condition"]))
        split = str(par["split"])
        if split not in ("heldout", "train"):
            raise ValueError(f"split must be 'heldout' or 'train', got {split!r}")
        interface = condition.interface
        seed = int(par["seed"])
        self.task = sample_task(str(par["task"]), np.random.default_rng(seed), split)  # type: ignore[arg-type]
        layout = TELEOP_LAYOUT if interface == "teleop" else PadLayout()
        overrides = {k: int(par[f"buttons.{k}"]) for k in ("gripper_close", "gripper_open")
                     if int(par[f"buttons.{k}"]) >= 0}
        layout = PadLayout(**{**layout.__dict__, **overrides})
        config = SimUserConfig(skill=float(par["skill"]), reaction_delay_s=float(
            par["reaction_delay_s"]), stick_noise_std=float(par["stick_noise_std"]),
            rate_hz=float(par["rate_hz"]), seed=seed)
        self.user = SimulatedUser(self.task, interface, config, layout,  # type: ignore[arg-type]
                                  corrections=condition.speaks, split=split)  # type: ignore[arg-type]
        self.condition = condition.name
        self._kin = ArmKinematics()
        self._arm_names = [str(n) for n in par["arm.joint_names"]]
        self._finger_names = [str(n) for n in par["gripper.joint_names"]]
        self._stale_s = float(par["joint_state_stale_s"])
        self._repeat_s = float(par["instruction_repeat_s"])
        self._q: np.ndarray | None = None
        self._width = 0.08
        self._q_at: float | None = None
        self._objects: dict[str, ObjectState] | None = None
        self._objects_start: dict[str, ObjectState] | None = None
        self._acknowledged = interface == "teleop"  # teleop_node takes no instruction
        self._instruction_sent_at = -math.inf
        self._t0: float | None = None
        self.success = False
        self.time_to_success: float | None = None
        self.distance: float | None = None

        self._joy_pub = self.create_publisher(Joy, par["joy_topic"], 10)
        self._speech_pub = self.create_publisher(String, par["speech_topic"], 10)
        self._instruction_pub = self.create_publisher(String, par["instruction_topic"], 10)
        self._status_pub = self.create_publisher(String, par["status_topic"], LATCHED)
        self.create_subscription(String, par["ground_truth_topic"], self._on_ground_truth, 10)
        self.create_subscription(JointState, par["joint_states_topic"], self._on_joint_state, 10)
        self.create_subscription(String, par["shared_autonomy_status_topic"], self._on_sa_status,
                                 LATCHED)
        self.create_subscription(String, par["teleop_status_topic"], self._on_teleop_status, 10)
        self.create_timer(1.0 / float(par["rate_hz"]), self._tick)
        self.create_timer(0.2, self._publish_status)
        self.get_logger().info(f"simulated user ({condition.name}): {self.task.text!r}")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # ------------------------------------------------------------------ inputs
    def _on_ground_truth(self, msg: String) -> None:
        try:
            gt = GroundTruth.model_validate_json(msg.data)
        except ValidationError:
            self.get_logger().warning("ignoring a malformed ground truth",
                                      throttle_duration_sec=1.0)
            return
        self._objects = {o.id: ObjectState(o.id, o.label, o.color, np.asarray(o.position),
                                           _yaw(o.orientation), tuple(o.size))  # type: ignore[arg-type]
                         for o in gt.objects}
        if self._objects_start is None:
            self._objects_start = self._objects

    def _on_joint_state(self, msg: JointState) -> None:
        index = {n: i for i, n in enumerate(msg.name)}
        pos = list(msg.position)
        arm = [index.get(n) for n in self._arm_names]
        if any(i is None or i >= len(pos) for i in arm):
            return
        q = np.array([pos[i] for i in arm], dtype=float)  # type: ignore[index]
        if not np.all(np.isfinite(q)):
            return
        fingers = [index.get(n) for n in self._finger_names]
        if fingers and all(i is not None and i < len(pos) for i in fingers):
            self._width = float(sum(pos[i] for i in fingers))  # type: ignore[index]
        self._q, self._q_at = q, self._now()

    def _on_sa_status(self, msg: String) -> None:
        try:
            status = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(status, dict):
            if status.get("instruction") == self.task.text:
                self._acknowledged = True
            self.user.observe_status(status)

    def _on_teleop_status(self, msg: String) -> None:
        try:
            status = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(status, dict) and isinstance(status.get("mode"), str):
            self.user.observe_status({"teleop_mode": status["mode"],
                                      "stamp": float(status.get("stamp", 0.0))})

    # ------------------------------------------------------------------ the person
    def _tick(self) -> None:
        now = self._now()
        if not self._acknowledged and now - self._instruction_sent_at >= self._repeat_s:
            self._instruction_pub.publish(String(data=self.task.text))
            self._instruction_sent_at = now
        fresh = self._q_at is not None and abs(now - self._q_at) <= self._stale_s
        if fresh and self._objects is not None and self._q is not None:
            if self._t0 is None:
                self._t0 = now
            pos, rot = self._kin.ee_pose(self._q)
            obs = ArmObservation(now, self._q.copy(), np.asarray(pos), np.asarray(rot),
                                 self._width, dict(self._objects))
            try:
                self.user.observe(obs)
            except ValueError as exc:  # NaN pose, clock jumped back: the person looks away
                self.get_logger().warning(f"not seen: {exc}", throttle_duration_sec=1.0)
            else:
                self._judge(obs, now)
        out = self.user.step(now)
        msg = Joy()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = "joy"
        msg.axes = [float(a) for a in out.axes]
        msg.buttons = [int(b) for b in out.buttons]
        self._joy_pub.publish(msg)
        if out.speech:
            speech = SpeechText(text=out.speech, confidence=1.0, backend="typed", start=now,
                                end=now)
            self._speech_pub.publish(String(data=speech.model_dump_json()))
            self.get_logger().info(f"said {out.speech!r}")

    def _judge(self, obs: ArmObservation, now: float) -> None:
        wp = self.user.tracker.plan[self.user.tracker.index] \
            if self.user.tracker.index < len(self.user.tracker.plan) else None
        self.distance = None if wp is None else float(np.linalg.norm(wp.position
                                                                     - obs.ee_position))
        if self.success or self._objects_start is None:
            return
        if self.task.success(obs.objects, self._objects_start, obs.gripper_width,
                             obs.ee_position):
            self.success = True
            self.time_to_success = now - (self._t0 or now)
            self.get_logger().info(f"task done in {self.time_to_success:.1f} s")

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        tr = self.user.tracker
        wp = tr.plan[tr.index] if tr.index < len(tr.plan) else None
        return SimUserStatus(
            stamp=self._now(), task=self.task.family, condition=self.condition,
            instruction=self.task.text, instruction_acknowledged=self._acknowledged,
            phase=self.user.phase, waypoint=wp.label if wp else None, waypoint_index=tr.index,
            distance=self.distance, corrections=self.user.counts["corrections"],
            said=list(self.user.said), success=self.success,
            time_to_success_s=self.time_to_success, done=self.user.done).model_dump()

    def _publish_status(self) -> None:
        self._status_pub.publish(String(data=json.dumps(self.status())))

    def close(self) -> None:
        """Nothing outside ROS to release; kept for the common node shape (idempotent)."""


NODE_CLASS = SimUserNode


def main(args: list[str] | None = None) -> None:
    run_node(SimUserNode, args)


if __name__ == "__main__":
    main()
