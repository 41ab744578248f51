"""Camera rendering in a child process, so physics keeps real time while a frame is drawn.

TinyRenderer holds the GIL for the whole ``getCameraImage`` call (~0.1-0.2 s at 640x480), so a
thread does not help. The child owns a second, never-stepped copy of the world: each request
carries a ``WorldState`` snapshot, the child teleports its copy there and renders. Frames are
pixel-identical to rendering in-process at the same state.

The child is ``python -m ifagent_ros.sim.render_worker <fd>`` talking over a socketpair, not a
multiprocessing "spawn" child: spawn re-imports the parent's ``__main__``, which breaks any
unguarded script, and fork is unsafe in a process that already runs DDS threads.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from ifagent_ros.sim.camera import CameraConfig, CameraFrame
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim, WorldState


def _serve(conn: Connection) -> None:
    try:
        config: TabletopConfig = conn.recv()
        sim = TabletopSim(config)
    except Exception as err:  # noqa: BLE001 - parent renders in-process
        conn.send(("error", f"render worker could not build the world: {err!r}"))
        return
    try:
        while True:
            try:
                request = conn.recv()
            except EOFError:
                break  # parent went away
            if request is None:
                break
            state, camera = request
            try:
                sim.apply_snapshot(state)
                frame = sim.render_camera(camera)
                frame.stamp = state.time
                conn.send(("frame", frame))
            except Exception as err:  # noqa: BLE001 - reported to the parent
                conn.send(("error", f"render failed: {err!r}"))
    finally:
        sim.close()


class RenderWorker:
    """One render request in flight at a time: ``submit`` then ``poll`` (or blocking ``render``)."""

    def __init__(self, sim: TabletopSim) -> None:
        # The child rebuilds the same world: the resolved scene and the same seed.
        config = replace(sim.config, scene=sim.scene)
        parent_sock, child_sock = socket.socketpair()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # works from a checkout too
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        fd = child_sock.fileno()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ifagent_ros.sim.render_worker", str(fd)],
            pass_fds=(fd,), env=env, stdin=subprocess.DEVNULL)
        child_sock.close()
        self._conn = Connection(parent_sock.detach())
        self._conn.send(config)
        self._busy = False
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def alive(self) -> bool:
        return not self._closed and self._proc.poll() is None

    def submit(self, state: WorldState, camera: CameraConfig) -> bool:
        """Queue a render of ``state``; False if one is already in flight."""
        if self._busy or self._closed:
            return False
        self._conn.send((state, camera))
        self._busy = True
        return True

    def poll(self, timeout: float = 0.0) -> CameraFrame | None:
        """The finished frame, or None if it is not ready; RuntimeError if the worker failed."""
        if not self._busy:
            return None
        try:
            if not self._conn.poll(timeout):
                if self._proc.poll() is not None:
                    raise RuntimeError("render worker exited")
                return None
            kind, payload = self._conn.recv()
        except (EOFError, OSError) as err:
            self._busy = False
            raise RuntimeError(f"render worker connection lost: {err!r}") from None
        self._busy = False
        if kind == "error":
            raise RuntimeError(str(payload))
        frame: CameraFrame = payload
        return frame

    def render(self, state: WorldState, camera: CameraConfig,
               timeout: float = 60.0) -> CameraFrame:
        """Blocking convenience: submit and wait (tests, scripts)."""
        if not self.submit(state, camera):
            raise RuntimeError("a render is already in flight")
        frame = self.poll(timeout)
        if frame is None:
            raise TimeoutError(f"no frame from the render worker within {timeout} s")
        return frame

    def close(self) -> None:
        """Stop the child process; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._conn.send(None)
        except (OSError, ValueError):
            pass
        try:
            self._proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=2.0)
        self._conn.close()


if __name__ == "__main__":
    import signal

    # The parent node owns shutdown: a terminal Ctrl-C reaches the whole process group, and the
    # worker must not die with a traceback before the parent closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _serve(Connection(int(sys.argv[1])))
