"""teleop_node: the mode-switching gamepad baseline, ``/joy`` -> ``/ifagent/ee_twist_cmd``.

Thin wrapper around :class:`ifagent_ros.core.control.teleop.TeleopMapper`. A twist is published
from inside the Joy callback for every Joy message (no timer in between, the teleop -> executor
path is latency-benchmarked), stamped with the Joy's own stamp so latency can be measured
downstream. The deadman is not checked here; the executor does that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from geometry_msgs.msg import TwistStamped
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import Float64, String

from ifagent_ros.core.control.teleop import TeleopConfig, TeleopMapper, TeleopMode
from ifagent_ros.core.schemas import TeleopStatus
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class TeleopNodeConfig:
    joy_topic: str = topics.JOY
    twist_topic: str = topics.EE_TWIST
    gripper_topic: str = topics.GRIPPER
    status_topic: str = topics.TELEOP_STATUS
    status_rate_hz: float = 5.0  # plus one on every mode change; 0: only those


# Parameter names that differ from the TeleopConfig field paths.
CONFIG_NAMES = {"button_gripper_close": "buttons.gripper_close",
                "button_gripper_open": "buttons.gripper_open",
                "gripper_open_width": "gripper.open_width",
                "gripper_closed_width": "gripper.closed_width"}
# Names used before the pad layout was one (core/control/gamepad.py).
RENAMED = {"expected_axes": "pad.num_axes", "expected_buttons": "pad.num_buttons",
           "deadband": "pad.deadband", "axis_limit": "pad.axis_limit",
           "axes.left_x": "pad.axis_left_x", "axes.left_y": "pad.axis_left_y",
           "axes.right_x": "pad.axis_right_x", "axes.right_y": "pad.axis_right_y",
           "signs.left_x": "pad.sign_left_x", "signs.left_y": "pad.sign_left_y",
           "signs.right_x": "pad.sign_right_x", "signs.right_y": "pad.sign_right_y",
           "buttons.mode": "pad.mode"}


class TeleopNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "teleop_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._mapper = TeleopMapper(declare_config(self, TeleopConfig, names=CONFIG_NAMES,
                                                   renamed=RENAMED))
        p = declare_config(self, TeleopNodeConfig)
        self._twist_pub = self.create_publisher(TwistStamped, p.twist_topic, 10)
        self._gripper_pub = self.create_publisher(Float64, p.gripper_topic, 10)
        self._status_pub = self.create_publisher(String, p.status_topic, 10)
        self._joy_sub = self.create_subscription(Joy, p.joy_topic, self._on_joy, 10)
        self._messages = 0
        self._rejections = 0
        self._last_rejection: str | None = None
        self._status_timer = (self.create_timer(1.0 / p.status_rate_hz, self._publish_status)
                              if p.status_rate_hz > 0.0 else None)
        self.get_logger().info(
            f"teleop: {p.joy_topic} -> {p.twist_topic}, mode {self._mapper.mode.value}")

    @property
    def mode(self) -> TeleopMode:
        return self._mapper.mode

    def _on_joy(self, msg: Joy) -> None:
        stamp = msg.header.stamp
        if stamp.sec == 0 and stamp.nanosec == 0:
            stamp = self.get_clock().now().to_msg()
        out = self._mapper.update(msg.axes, msg.buttons, stamp.sec + stamp.nanosec * 1e-9)
        self._messages += 1

        # Twist first: it is the latency-critical output.
        twist = TwistStamped()
        twist.header.stamp = stamp
        twist.header.frame_id = out.frame_id
        twist.twist.linear.x, twist.twist.linear.y, twist.twist.linear.z = out.linear
        twist.twist.angular.x, twist.twist.angular.y, twist.twist.angular.z = out.angular
        self._twist_pub.publish(twist)

        if out.rejection is not None:
            self._rejections += 1
            self._last_rejection = out.rejection
            self.get_logger().warning(
                f"rejected Joy message: {out.rejection}", throttle_duration_sec=1.0)
            return
        if out.gripper_width is not None:
            self._gripper_pub.publish(Float64(data=float(out.gripper_width)))
        if out.mode_changed:
            self.get_logger().info(f"teleop mode -> {out.mode.value}")
            self._publish_status()

    def status(self) -> dict[str, Any]:
        return TeleopStatus(
            stamp=self.get_clock().now().nanoseconds * 1e-9,
            mode=self._mapper.mode.value,
            last_rejection=self._last_rejection,
            rejections=self._rejections,
            messages=self._messages,
            frame_id=self._mapper.config.frame_id,
        ).model_dump()

    def _publish_status(self) -> None:
        self._status_pub.publish(String(data=json.dumps(self.status())))

    def close(self) -> None:
        """Nothing outside ROS to release; kept for the common node shape (idempotent)."""


NODE_CLASS = TeleopNode


def main(args: list[str] | None = None) -> None:
    run_node(TeleopNode, args)


if __name__ == "__main__":
    main()
