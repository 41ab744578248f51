"""scripted_gamepad_node: a scripted operator that drives the teleop baseline through ``/joy``.

It publishes Xbox-layout ``sensor_msgs/Joy`` at ``rate_hz`` and steers the gripper TCP to
``hover_height`` above the top of block ``target_id``, seen on ``/sim/ground_truth``. All decisions
live in :class:`ifagent_ros.core.control.scripted_operator.ScriptedOperator`; this node only moves
messages. Progress goes to ``/ifagent/scripted_gamepad/status`` (JSON: phase, distance, done,
reached, ...) so a demo can wait for ``done``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import String

from ifagent_ros.core.control.scripted_operator import (
    ScriptedOperator,
    ScriptedOperatorConfig,
    Vec3,
    hover_goal,
)
from ifagent_ros.core.schemas import GroundTruth, ScriptedGamepadStatus, TeleopStatus
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class ScriptedGamepadNodeConfig:
    target_id: str = "red_block"
    hover_height: float = 0.01  # m above the block's top face
    rate_hz: float = 50.0
    status_rate_hz: float = 5.0
    ground_truth_stale_s: float = 1.0  # older than this: centre the stick, as if the view froze
    use_teleop_status: bool = True  # correct the believed teleop mode from the teleop status
    joy_frame_id: str = "joy"
    joy_topic: str = topics.JOY
    ground_truth_topic: str = topics.GROUND_TRUTH
    teleop_status_topic: str = topics.TELEOP_STATUS
    status_topic: str = "/ifagent/scripted_gamepad/status"


# Names used before the pad layout was one (core/control/gamepad.py).
RENAMED = {"deadman_button": "pad.deadman", "mode_button": "pad.mode",
           "num_axes": "pad.num_axes", "num_buttons": "pad.num_buttons",
           "trigger_axes": "pad.trigger_axes", "deadband": "pad.deadband",
           "axes.left_x": "pad.axis_left_x", "axes.left_y": "pad.axis_left_y",
           "signs.left_x": "pad.sign_left_x", "signs.left_y": "pad.sign_left_y"}


class ScriptedGamepadNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "scripted_gamepad_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._operator = ScriptedOperator(declare_config(self, ScriptedOperatorConfig,
                                                         renamed=RENAMED))
        p = declare_config(self, ScriptedGamepadNodeConfig)
        self._target_id = p.target_id
        self._hover_height = p.hover_height
        self._stale_s = p.ground_truth_stale_s
        self._joy_frame_id = p.joy_frame_id

        self._ee: Vec3 | None = None
        self._goal: Vec3 | None = None
        self._gt_received_ns: int | None = None
        self._last_phase: str | None = None

        self._joy_pub = self.create_publisher(Joy, p.joy_topic, 10)
        self._status_pub = self.create_publisher(String, p.status_topic, 10)
        self.create_subscription(String, p.ground_truth_topic, self._on_ground_truth, 10)
        if p.use_teleop_status:
            self.create_subscription(String, p.teleop_status_topic, self._on_teleop_status, 10)
        self._timer = self.create_timer(1.0 / max(p.rate_hz, 1e-3), self._tick)
        if p.status_rate_hz > 0.0:
            self.create_timer(1.0 / p.status_rate_hz, self._publish_status)
        self.get_logger().info(f"scripted operator: target '{self._target_id}'")

    @property
    def operator(self) -> ScriptedOperator:
        return self._operator

    def _now_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_ground_truth(self, msg: String) -> None:
        try:
            gt = GroundTruth.model_validate_json(msg.data)
        except ValidationError as exc:
            self.get_logger().warning(f"bad ground truth: {exc.errors()[:1]}",
                                      throttle_duration_sec=1.0)
            return
        target = next((o for o in gt.objects if o.id == self._target_id), None)
        if target is None:
            self.get_logger().warning(
                f"target '{self._target_id}' not in ground truth "
                f"({[o.id for o in gt.objects]})", throttle_duration_sec=1.0)
            self._goal = None
        else:
            self._goal = hover_goal(target.position, target.size, self._hover_height)
        self._ee = gt.ee_position
        self._gt_received_ns = self.get_clock().now().nanoseconds

    def _on_teleop_status(self, msg: String) -> None:
        try:
            mode = TeleopStatus.model_validate_json(msg.data).mode
        except (ValueError, AttributeError):
            return
        if isinstance(mode, str):
            self._operator.observe_teleop_mode(mode, self._now_s())

    def _tick(self) -> None:
        now = self.get_clock().now()
        ee, goal = self._ee, self._goal
        seen_ns = self._gt_received_ns
        if seen_ns is None or (now.nanoseconds - seen_ns) * 1e-9 > self._stale_s:
            ee = None  # nothing fresh to look at: the operator centres the stick
        axes, buttons, _ = self._operator.step(ee, goal, now.nanoseconds * 1e-9)
        msg = Joy()
        msg.header.stamp = now.to_msg()
        msg.header.frame_id = self._joy_frame_id
        msg.axes = [float(a) for a in axes]
        msg.buttons = [int(b) for b in buttons]
        self._joy_pub.publish(msg)
        if self._operator.phase != self._last_phase:
            self._last_phase = self._operator.phase
            self.get_logger().info(f"scripted operator phase: {self._operator.phase}")
            self._publish_status()

    def status(self) -> dict[str, Any]:
        s = self._operator.status()
        return ScriptedGamepadStatus(
            stamp=self._now_s(),
            target_id=self._target_id,
            goal=tuple(self._goal) if self._goal is not None else None,
            **s,
        ).model_dump()

    def _publish_status(self) -> None:
        self._status_pub.publish(String(data=json.dumps(self.status())))

    def close(self) -> None:
        """Nothing outside ROS to release; kept for the common node shape (idempotent)."""


NODE_CLASS = ScriptedGamepadNode


def main(args: list[str] | None = None) -> None:
    run_node(ScriptedGamepadNode, args)


if __name__ == "__main__":
    main()
