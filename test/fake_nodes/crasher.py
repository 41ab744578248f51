"""A node whose timer raises after `crash_after_s`: a crashing node for the bring-up tests."""

from __future__ import annotations

import rclpy
from rclpy.context import Context
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter


class Crasher(Node):
    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "crasher",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.declare_parameter("crash_after_s", 0.3)
        self.create_timer(self.get_parameter("crash_after_s").value, self._crash)

    def _crash(self) -> None:
        raise RuntimeError("fake node crashed on purpose")

    def close(self) -> None:
        pass


NODE_CLASS = Crasher


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = Crasher()
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
