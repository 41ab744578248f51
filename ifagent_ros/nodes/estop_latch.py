"""The latched e-stop of an executor node (the arm's and the base's), in ROS.

Both executors latch the same way: ``/ifagent/estop`` (``std_msgs/Bool``, :data:`ESTOP_QOS`)
True latches the core's e-stop at once, whatever the other inputs say; a Trigger service clears
the latch only if the newest e-stop message is False (the core decides:
``reset_estop() -> (success, message)``). :class:`EstopLatch` is that subscription and service
on a node; what the node does the moment the latch closes (brake the arm, stop the base) is its
``on_latch``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rclpy.node import Node
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from ifagent_ros.nodes.topics import ESTOP_QOS


class LatchingCore(Protocol):
    """What an executor core offers the e-stop (``core/control``: ExecutorCore,
    BaseExecutorCore)."""

    estop_latched: bool

    def on_estop(self, active: bool) -> None: ...

    def reset_estop(self) -> tuple[bool, str]: ...


class EstopLatch:
    """Subscribes the e-stop topic and serves its reset service for ``core`` on ``node``."""

    def __init__(self, node: Node, core: LatchingCore, topic: str, reset_service: str, *,
                 stopping: str, on_latch: Callable[[], None],
                 closed: Callable[[], bool]) -> None:
        self._node, self._core = node, core
        self._stopping, self._on_latch, self._closed = stopping, on_latch, closed
        self.reset_service = reset_service
        node.create_subscription(Bool, topic, self.on_estop, ESTOP_QOS)
        node.create_service(Trigger, reset_service, self.on_reset)

    def on_estop(self, msg: Bool) -> None:
        if self._closed():
            return
        was = self._core.estop_latched
        self._core.on_estop(bool(msg.data))
        if self._core.estop_latched and not was:
            self._node.get_logger().error(f"E-STOP latched: {self._stopping}; publish False, "
                                          f"then call {self.reset_service} to clear")
            self._on_latch()

    def on_reset(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self._core.reset_estop()
        self._node.get_logger().info(f"reset_estop: {response.message}")
        return response
