"""The one `main()` every node shares (ros2/demos style), hardened for Ctrl-C.

On SIGINT rclpy shuts the context down from its signal handler while callbacks may still be running;
errors raised *because* the context is going away are part of a normal shutdown and must not print
tracebacks or give a non-zero exit. Anything raised while the context is still up is a real error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.executors import ExternalShutdownException


def run_node(factory: Callable[[], Any], args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = factory()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if rclpy.ok():
            raise
    finally:
        if node is not None:
            # After the context is gone, a final publish in close() may fail: nothing to report.
            with contextlib.suppress(Exception):
                node.close()
            with contextlib.suppress(Exception):
                node.destroy_node()
        rclpy.try_shutdown()
