"""One child process per node (`ifagent up --processes`), stopped SIGINT -> SIGTERM -> SIGKILL.

Each node runs as `python -m <module> --ros-args --params-file FILE -r __node:=NAME` in its own
process group, with ROS_DOMAIN_ID passed on; every child is reaped (no zombies).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from ifagent_ros.bringup import (
    NODE_REGISTRY,
    BringupError,
    _signals_set,
    log,
    select_nodes,
)
from ifagent_ros.params_file import read_params_file


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _child_env(domain_id: int | None) -> dict[str, str]:
    env = dict(os.environ)
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    # Children import this same ifagent_ros, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _signal(child: subprocess.Popen, signum: int, *, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(child.pid, signum)
        else:
            child.send_signal(signum)


def _stop_children(
    children: Mapping[str, subprocess.Popen], grace_s: float, hurry: threading.Event
) -> bool:
    """SIGINT, then SIGTERM to each child (as `ros2 launch` does), then SIGKILL to its whole
    process group; reap all, then kill whatever a child left behind in its group.

    True if every child ended by itself or on SIGINT/SIGTERM (no SIGKILL needed).
    """
    clean = True
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        alive = {n: c for n, c in children.items() if c.poll() is None}
        if not alive:
            break
        if signum == signal.SIGKILL:
            clean = False
            log.warning("killing %s", ", ".join(alive))
        for child in alive.values():
            _signal(child, signum, group=signum == signal.SIGKILL)
        deadline = time.monotonic() + (grace_s if signum != signal.SIGKILL else 30.0)
        while time.monotonic() < deadline and any(c.poll() is None for c in alive.values()):
            if hurry.is_set() and signum != signal.SIGKILL:
                hurry.clear()
                break
            time.sleep(0.05)
    for name, child in children.items():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)  # reap: no zombies left behind
        try:
            os.killpg(child.pid, 0)
        except (ProcessLookupError, PermissionError):
            continue
        log.warning("%s left processes behind in its group; killing them", name)
        _signal(child, signal.SIGKILL, group=True)
    return clean


def run_processes(
    params_file: str | os.PathLike,
    *,
    nodes: Sequence[str] | None = None,
    domain_id: int | None = None,
    duration: float | None = None,
    stop_event: threading.Event | None = None,
    registry: Mapping[str, str] | None = None,
    grace_s: float = 5.0,
    python: str = sys.executable,
) -> int:
    """One child process per node; returns nonzero if a child crashed or had to be killed."""
    registry = dict(NODE_REGISTRY if registry is None else registry)
    params_path = Path(params_file).resolve()
    sections, _wildcard = read_params_file(params_path)
    selected = select_nodes(sections, registry, nodes)
    for name in selected:
        try:
            found = importlib.util.find_spec(registry[name]) is not None
        except ImportError:
            found = False
        if not found:
            raise BringupError(f"{name}: module {registry[name]} not found")
    env = _child_env(domain_id)
    stop = stop_event or threading.Event()
    deadline = None if duration is None else time.monotonic() + duration
    children: dict[str, subprocess.Popen] = {}
    failed: list[str] = []
    with _signals_set(stop) as signals:
        try:
            for name in selected:
                if stop.is_set():
                    break
                cmd = [
                    python,
                    "-m",
                    registry[name],
                    "--ros-args",
                    "--params-file",
                    str(params_path),
                    "-r",
                    f"__node:={name}",
                ]
                children[name] = subprocess.Popen(cmd, env=env, start_new_session=True)
                log.info("started %s (pid %d)", name, children[name].pid)
            done: set[str] = set()
            while not stop.wait(0.1):
                for name, child in children.items():
                    rc = child.poll()
                    if rc is None or name in done:
                        continue
                    done.add(name)
                    if rc != 0:
                        log.error("%s exited with code %d; stopping the graph", name, rc)
                        failed.append(name)
                        stop.set()
                    else:
                        log.info("%s finished", name)
                if len(done) == len(children):
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            clean = _stop_children(children, grace_s, signals.hurry)
    for name, child in children.items():
        rc = child.returncode
        if name not in failed and rc not in (0, -signal.SIGINT, -signal.SIGTERM):
            log.error("%s ended with code %s", name, rc)
            failed.append(name)
    log.info("all nodes stopped")
    return 1 if failed or not clean else 0
