"""The one `main()` every node shares (ros2/demos style), hardened for Ctrl-C.

On SIGINT rclpy shuts the context down from its signal handler while callbacks may still be running;
errors raised *because* the context is going away are part of a normal shutdown and must not print
tracebacks or give a non-zero exit. Anything raised while the context is still up is a real error.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

# "events": rclpy's C++ EventsExecutor (rclpy.experimental), several times cheaper per callback
# than the Python SingleThreadedExecutor ("single"), which matters for the 500 Hz control path.
EXECUTOR_ENV = "IFAGENT_EXECUTOR"


def make_executor(kind: str | None = None) -> Any:
    kind = kind or os.environ.get(EXECUTOR_ENV, "events")
    if kind == "events":
        from rclpy.experimental import EventsExecutor

        return EventsExecutor()
    if kind == "single":
        return SingleThreadedExecutor()
    raise ValueError(f"{EXECUTOR_ENV} must be 'events' or 'single', not {kind!r}")


def run_node(factory: Callable[[], Any], args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = factory()
        executor = make_executor()
        executor.add_node(node)
        # spin_once with a timeout rather than spin(): it returns to Python regularly, so
        # signals (Ctrl-C) are handled promptly with either executor.
        while rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
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
