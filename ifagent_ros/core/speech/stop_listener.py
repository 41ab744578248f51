"""The always-on stop path: live audio -> :class:`~.stop_detector.StopDetector` -> a callback.

:class:`StopListener` runs the detector in its own thread fed by a bounded queue, so the stop
path never waits behind the recogniser (a Whisper decode holds the CPU for hundreds of ms) or
behind the ROS callback that delivered the chunk. ``push()`` never blocks and never decodes.

Bad input is handled here, not in the detector:

- a chunk that is not 1-D int16 is refused with :class:`AudioFormatError` (the caller logs it);
- a flood (more audio queued than ``max_backlog_s``) drops the *oldest* queued audio and counts
  it, so the newest speech, where a "stop" would be, is always heard; the detector is reset at
  the gap so its state never spans audio that was skipped;
- a microphone that goes quiet mid-stream needs nothing: the detector simply gets no audio.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE, AudioFormatError


@dataclass
class StopListenerConfig:
    max_backlog_s: float = 2.0  # queued audio beyond this is a flood: the oldest is dropped


@dataclass(frozen=True)
class HeardStop:
    """One detection, with what the timing needs."""

    phrase: str
    score: float
    sample: int  # index in the whole pushed stream (not the detector's, which restarts)
    pushed_at: float  # time.monotonic() when the chunk holding ``sample`` was pushed
    detected_at: float  # time.monotonic() when the detector reported it


class StopListener:
    """``push(chunk)`` from any thread; ``on_stop(HeardStop)`` is called from the worker."""

    def __init__(self, detector: Any, on_stop: Callable[[HeardStop], None],
                 config: StopListenerConfig | None = None) -> None:
        self.config = config or StopListenerConfig()
        self._detector = detector
        self._on_stop = on_stop
        self._queue: deque[tuple[int, np.ndarray, float]] = deque()  # (first index, audio, t)
        self._queued = 0
        self._lock = threading.Condition()
        self._closed = False
        self._pushed = 0  # samples pushed so far (stream index of the next one)
        self._fed = 0  # stream index of the next sample the detector gets
        self._detector_origin = 0  # stream index of the detector's sample 0
        self.dropped_samples = 0
        self.floods = 0
        self.errors = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="stop-listener", daemon=True)
        self._thread.start()

    def push(self, chunk: np.ndarray) -> int:
        """Queue a chunk of int16 16 kHz mono audio (raises AudioFormatError on bad input);
        returns how many queued samples this push dropped as a flood (0 normally)."""
        chunk = np.asarray(chunk)
        if chunk.dtype != np.int16 or chunk.ndim != 1:
            raise AudioFormatError(f"stop listener needs 1-D int16 audio, got {chunk.dtype} "
                                   f"{chunk.shape}")
        if chunk.size == 0:
            return 0
        dropped = 0
        limit = int(self.config.max_backlog_s * SAMPLE_RATE)
        with self._lock:
            self._queue.append((self._pushed, chunk, time.monotonic()))
            self._pushed += chunk.size
            self._queued += chunk.size
            if self._queued > limit:
                self.floods += 1
                while self._queued > limit and len(self._queue) > 1:
                    _, old, _ = self._queue.popleft()
                    self._queued -= old.size
                    dropped += old.size
                self.dropped_samples += dropped
            self._lock.notify()
        return dropped

    @property
    def backlog_s(self) -> float:
        with self._lock:
            return self._queued / SAMPLE_RATE

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait(timeout=0.5)
                if self._closed:
                    return
                first, chunk, pushed_at = self._queue.popleft()
                self._queued -= chunk.size
            if first != self._fed:  # audio was dropped: never let the detector span the gap
                self._detector.reset()
                self._detector_origin = first
            self._fed = first + chunk.size
            try:
                events = self._detector.push(chunk)
            except Exception as err:  # noqa: BLE001 - keep listening whatever one chunk does
                self.errors += 1
                self.last_error = repr(err)
                self._detector.reset()
                self._detector_origin = self._fed
                continue
            done = time.monotonic()
            for event in events:
                self._on_stop(HeardStop(phrase=event.phrase, score=float(event.score),
                                        sample=self._detector_origin + int(event.sample),
                                        pushed_at=pushed_at, detected_at=done))

    def close(self) -> None:
        """Stop the worker (idempotent)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)


__all__ = ["HeardStop", "StopListener", "StopListenerConfig"]
