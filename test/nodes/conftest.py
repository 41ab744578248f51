"""ROS test fixtures: every test gets its own rclpy Context on its own DDS domain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import rclpy
from rclpy.context import Context
from ros_helpers import private_domain_id


@pytest.fixture
def ros_context() -> Iterator[Context]:
    ctx = Context()
    rclpy.init(context=ctx, domain_id=private_domain_id())
    try:
        yield ctx
    finally:
        rclpy.shutdown(context=ctx)
