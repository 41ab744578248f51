"""Local workers: N threads, each running one episode process at a time.

Threads, not processes: the work happens in the episode *processes*; a thread only waits for
its child and measures the bag afterwards. Each thread stays alive while its child runs, which
``PR_SET_PDEATHSIG`` needs (the signal fires when the *thread* that started the child exits).

The backend yields :class:`PoolEvent` s; the runner's main thread consumes them and is the only
writer of ``campaign.json``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from ifagent_ros.core.campaign.episode_job import (
    DiskFullError,
    EpisodeInterrupted,
    EpisodeJob,
    run_episode,
)
from ifagent_ros.core.campaign.types import EpisodeRecord

__all__ = ["LocalPool", "PoolEvent"]

EventKind = Literal["started", "done", "interrupted", "disk_full", "error"]


@dataclass
class PoolEvent:
    kind: EventKind
    job: EpisodeJob
    record: EpisodeRecord | None = None
    wall_s: float = 0.0
    message: str = ""


class LocalPool:
    """Runs ``jobs`` on ``workers`` threads. :meth:`stop_launching` lets running episodes
    finish; setting ``stop`` (the runner's interrupt) also kills the running ones."""

    def __init__(self, jobs: Sequence[EpisodeJob], workers: int,
                 stop: threading.Event | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._jobs = deque(jobs)
        self._lock = threading.Lock()
        self._events: queue.Queue[PoolEvent | None] = queue.Queue()
        self._no_more = threading.Event()
        self.stop = stop or threading.Event()
        n = min(workers, len(self._jobs)) or 0
        self._threads = [threading.Thread(target=self._work, name=f"campaign-worker-{k}",
                                          daemon=True) for k in range(n)]

    def stop_launching(self) -> None:
        self._no_more.set()

    def _next(self) -> EpisodeJob | None:
        with self._lock:
            if self._no_more.is_set() or self.stop.is_set() or not self._jobs:
                return None
            return self._jobs.popleft()

    def _work(self) -> None:
        try:
            while (job := self._next()) is not None:
                self._events.put(PoolEvent("started", job))
                t0 = time.monotonic()
                try:
                    record = run_episode(job, stop=self.stop)
                except EpisodeInterrupted:
                    self._events.put(PoolEvent("interrupted", job))
                except DiskFullError as exc:
                    self._no_more.set()
                    self._events.put(PoolEvent("disk_full", job, message=str(exc)))
                except Exception as exc:  # noqa: BLE001 - reported by the runner, which stops
                    self._no_more.set()
                    self._events.put(PoolEvent("error", job,
                                               message=f"{type(exc).__name__}: {exc}"))
                else:
                    self._events.put(PoolEvent("done", job, record, time.monotonic() - t0))
        finally:
            self._events.put(None)  # this thread is done

    def events(self) -> Iterator[PoolEvent]:
        """Starts the threads; yields events until every thread has ended. Waits in short
        slices so Ctrl-C reaches the main thread promptly."""
        for thread in self._threads:
            thread.start()
        alive = len(self._threads)
        while alive:
            try:
                event = self._events.get(timeout=0.2)
            except queue.Empty:
                continue
            if event is None:
                alive -= 1
            else:
                yield event

    def drain(self) -> list[PoolEvent]:
        """Events left in the queue (after :meth:`join`), e.g. episodes that finished while the
        runner was stopping: their episode.json exists and belongs in campaign.json."""
        out = []
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return out
            if event is not None:
                out.append(event)

    def join(self, timeout_s: float = 30.0) -> None:
        """After :attr:`stop` is set: wait for the threads (each kills its child first)."""
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
