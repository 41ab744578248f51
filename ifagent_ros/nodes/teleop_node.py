"""teleop_node: the mode-switching gamepad baseline, ``/joy`` -> ``/ifagent/ee_twist_cmd``.

Thin wrapper around :class:`ifagent_ros.core.control.teleop.TeleopMapper`. A twist is published
from inside the Joy callback for every Joy message (no timer in between, the teleop -> executor
path is latency-benchmarked), stamped with the Joy's own stamp so latency can be measured
downstream. The deadman is not checked here; the executor does that.
"""

from __future__ import annotations

import json
from typing import Any

from geometry_msgs.msg import TwistStamped
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import Float64, String

from ifagent_ros.core.control.teleop import TeleopConfig, TeleopMapper, TeleopMode
from ifagent_ros.core.schemas import TeleopStatus
from ifagent_ros.nodes.node_main import run_node

# ROS parameter name -> TeleopConfig field. Every config field is a parameter.
CONFIG_PARAMETERS: dict[str, str] = {
    "axes.left_x": "axis_left_x",
    "axes.left_y": "axis_left_y",
    "axes.right_x": "axis_right_x",
    "axes.right_y": "axis_right_y",
    "signs.left_x": "sign_left_x",
    "signs.left_y": "sign_left_y",
    "signs.right_x": "sign_right_x",
    "signs.right_y": "sign_right_y",
    "buttons.mode": "button_mode",
    "buttons.gripper_close": "button_gripper_close",
    "buttons.gripper_open": "button_gripper_open",
    "expected_axes": "expected_axes",
    "expected_buttons": "expected_buttons",
    "deadband": "deadband",
    "axis_limit": "axis_limit",
    "max_linear_speed": "max_linear_speed",
    "max_angular_speed": "max_angular_speed",
    "right_stick_enabled": "right_stick_enabled",
    "gripper.open_width": "gripper_open_width",
    "gripper.closed_width": "gripper_closed_width",
    "initial_mode": "initial_mode",
    "frame_id": "frame_id",
}

TOPIC_DEFAULTS: dict[str, str] = {
    "joy_topic": "/joy",
    "twist_topic": "/ifagent/ee_twist_cmd",
    "gripper_topic": "/gripper/command",
    "status_topic": "/ifagent/teleop/status",
}



class TeleopNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "teleop_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._mapper = TeleopMapper(self._read_config())
        for name, default in TOPIC_DEFAULTS.items():
            self.declare_parameter(name, default)
        status_rate = float(self.declare_parameter(
            "status_rate_hz", 5.0, ParameterDescriptor(dynamic_typing=True)).value)

        def topic(name: str) -> str:
            return str(self.get_parameter(name).value)

        self._twist_pub = self.create_publisher(TwistStamped, topic("twist_topic"), 10)
        self._gripper_pub = self.create_publisher(Float64, topic("gripper_topic"), 10)
        self._status_pub = self.create_publisher(String, topic("status_topic"), 10)
        self._joy_sub = self.create_subscription(Joy, topic("joy_topic"), self._on_joy, 10)
        self._messages = 0
        self._rejections = 0
        self._last_rejection: str | None = None
        self._status_timer = (self.create_timer(1.0 / status_rate, self._publish_status)
                              if status_rate > 0.0 else None)
        self.get_logger().info(
            f"teleop: {topic('joy_topic')} -> {topic('twist_topic')}, "
            f"mode {self._mapper.mode.value}")

    def _read_config(self) -> TeleopConfig:
        defaults = TeleopConfig()
        values: dict[str, Any] = {}
        for param, field_name in CONFIG_PARAMETERS.items():
            default = getattr(defaults, field_name)
            if isinstance(default, TeleopMode):
                default = default.value
            if isinstance(default, float):
                # YAML writes -1 for -1.0; accept ints for float parameters instead of failing.
                value = self.declare_parameter(
                    param, default, ParameterDescriptor(dynamic_typing=True)).value
                values[field_name] = float(value)
            else:
                values[field_name] = self.declare_parameter(param, default).value
        values["initial_mode"] = TeleopMode(values["initial_mode"])
        return TeleopConfig(**values)

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
