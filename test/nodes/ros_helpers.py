"""Helpers for tests that start DDS participants (imported by conftest.py and the tests)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

from rclpy.executors import Executor


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
