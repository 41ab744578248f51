"""Subscribes to std_msgs/String on `topic`; on close() writes what it got to `out_file`."""

from __future__ import annotations

import json

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String


class Listener(Node):
    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "listener",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.declare_parameter("topic", "chatter")
        self.declare_parameter("out_file", "")
        self.received: list[str] = []
        self.closed = 0
        self.create_subscription(String, self.get_parameter("topic").value, self._on_msg, 10)

    def _on_msg(self, msg: String) -> None:
        self.received.append(msg.data)
        out_file = self.get_parameter("out_file").value
        if out_file and len(self.received) == 1:
            with open(out_file + ".first", "w") as f:  # tells the test the graph is talking
                f.write(msg.data)

    def close(self) -> None:
        self.closed += 1
        out_file = self.get_parameter("out_file").value
        if out_file:
            with open(out_file, "w") as f:
                json.dump({"received": self.received, "pid": __import__("os").getpid()}, f)


NODE_CLASS = Listener


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = Listener()
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
