"""A process that ignores SIGINT and SIGTERM (only SIGKILL ends it), for escalation tests."""

from __future__ import annotations

import signal
import time


class Stubborn:  # never built in-process; here so the module has the contract's shape
    def __init__(self, **_kwargs: object) -> None:
        raise RuntimeError("stubborn runs only as a process")


NODE_CLASS = Stubborn


def main(args: list[str] | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(1.0)


if __name__ == "__main__":
    main()
