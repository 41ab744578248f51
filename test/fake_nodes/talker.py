"""Publishes std_msgs/String `hello N` on `topic` every `period_s` (after `tick_sleep_s`: a slow
callback, so that a test can act while one runs)."""

from __future__ import annotations

import time

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String


class Talker(Node):
    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "talker",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.declare_parameter("topic", "chatter")
        self.declare_parameter("period_s", 0.05)
        self.declare_parameter("greeting.text", "hello")
        self.declare_parameter("tick_sleep_s", 0.0)
        self.count = 0
        self.closed = 0
        self._pub = self.create_publisher(String, self.get_parameter("topic").value, 10)
        self.create_timer(self.get_parameter("period_s").value, self._tick)

    def _tick(self) -> None:
        self.count += 1
        sleep_s = self.get_parameter("tick_sleep_s").value
        if sleep_s > 0:
            time.sleep(sleep_s)
        text = self.get_parameter("greeting.text").value
        self._pub.publish(String(data=f"{text} {self.count}"))

    def close(self) -> None:
        self.closed += 1


NODE_CLASS = Talker


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = Talker()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.close()
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
