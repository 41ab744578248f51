"""Helpers for tests that start DDS participants (imported by conftest.py and the tests)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node


def private_domain_id() -> int:
    # Spread parallel test processes (and a running graph on domain 0) apart; 1..101 are valid ids.
    base = int(os.environ.get("IFAGENT_TEST_DOMAIN_BASE", "0"))
    return 1 + (base + random.randrange(100)) % 101


def spin_until(executor: Executor, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.01)
        if condition():
            return True
    return condition()


def spin_for(executor: Executor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.005)


class NodeHarness:
    """A node under test and a probe node (publishers/subscriptions of the test) spun by one
    executor in the test's private context. Subclasses add the probe's topics."""

    def __init__(self, ctx: Context, node: Node) -> None:
        self.ctx = ctx
        self.node = node
        self.probe = Node(f"{node.get_name()}_probe", context=ctx)
        self.executor = SingleThreadedExecutor(context=ctx)
        self.executor.add_node(self.node)
        self.executor.add_node(self.probe)

    spin_timeout = 5.0  # seconds spin_until waits by default

    def spin_until(self, cond: Callable[[], bool], timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (self.spin_timeout if timeout is None else timeout)
        while time.monotonic() < deadline:
            if cond():
                return True
            self.executor.spin_once(timeout_sec=0.01)
        return cond()

    def close(self) -> None:
        self.executor.shutdown()
        close = getattr(self.node, "close", None)
        if callable(close):
            close()
        self.node.destroy_node()
        self.probe.destroy_node()
