"""StopListener: the queueing around the stop detector (flood, gaps, errors, threading).

The detector here is a scripted stand-in that fires at chosen stream positions: what is tested
is the listener's bookkeeping, not recognition (test_stop_detector.py decodes real speech).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from ifagent_ros.core.speech.audio import AudioFormatError
from ifagent_ros.core.speech.stop_listener import HeardStop, StopListener, StopListenerConfig


class ScriptedDetector:
    """Fires once when its own sample count passes each of ``fire_at``; can be slowed down."""

    def __init__(self, fire_at: tuple[int, ...] = (), delay_s: float = 0.0,
                 fail_on_call: int | None = None) -> None:
        self.fire_at, self.delay_s, self.fail_on_call = list(fire_at), delay_s, fail_on_call
        self.seen = 0
        self.calls = 0
        self.resets = 0

    def push(self, chunk: np.ndarray) -> list:
        from ifagent_ros.core.speech.stop_detector import StopEvent

        self.calls += 1
        if self.fail_on_call == self.calls:
            raise RuntimeError("decoder broke")
        time.sleep(self.delay_s)
        start, self.seen = self.seen, self.seen + chunk.size
        hits = [s for s in self.fire_at if start <= s < self.seen]
        return [StopEvent(phrase="stop", sample=s, score=1.0) for s in hits]

    def reset(self) -> None:
        self.resets += 1
        self.seen = 0


def wait_for(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


def test_detection_reports_stream_index_and_times() -> None:
    heard: list[HeardStop] = []
    listener = StopListener(ScriptedDetector(fire_at=(2500,)), heard.append)
    try:
        for _ in range(4):
            listener.push(np.zeros(1000, np.int16))
        assert wait_for(lambda: len(heard) == 1)
        assert heard[0].sample == 2500 and heard[0].phrase == "stop"
        assert heard[0].detected_at >= heard[0].pushed_at
    finally:
        listener.close()


def test_bad_chunks_are_refused() -> None:
    listener = StopListener(ScriptedDetector(), lambda e: None)
    try:
        with pytest.raises(AudioFormatError, match="int16"):
            listener.push(np.zeros(10, np.float32))
        with pytest.raises(AudioFormatError, match="1-D"):
            listener.push(np.zeros((10, 2), np.int16))
        listener.push(np.zeros(0, np.int16))  # empty: ignored
    finally:
        listener.close()


def test_flood_drops_oldest_and_resets_detector_at_the_gap() -> None:
    gate = threading.Event()
    detector = ScriptedDetector()
    original = detector.push

    def slow_push(chunk: np.ndarray) -> list:
        gate.wait(5.0)
        return original(chunk)

    detector.push = slow_push  # type: ignore[method-assign]
    listener = StopListener(detector, lambda e: None, StopListenerConfig(max_backlog_s=0.5))
    try:
        dropped = [listener.push(np.zeros(1600, np.int16))  # 4 s while the detector is stuck
                   for _ in range(40)]
        assert listener.floods > 0
        assert dropped[0] == 0 and sum(dropped) == listener.dropped_samples  # push says so
        assert listener.backlog_s <= 0.5 + 0.1 + 1e-9
        assert listener.dropped_samples >= 40 * 1600 - 16000
        gate.set()
        assert wait_for(lambda: listener.backlog_s == 0.0)
        assert detector.resets >= 1  # the skipped audio never joins the audio around it
    finally:
        gate.set()
        listener.close()


def test_sample_index_stays_in_stream_time_after_a_gap() -> None:
    """A stop heard after dropped audio is dated in stream samples, not the detector's."""
    gate = threading.Event()
    heard: list[HeardStop] = []
    detector = ScriptedDetector(fire_at=(100,))
    original = detector.push
    inside = threading.Event()

    def slow_push(chunk: np.ndarray) -> list:
        inside.set()
        gate.wait(5.0)
        return original(chunk)

    detector.push = slow_push  # type: ignore[method-assign]
    listener = StopListener(detector, heard.append, StopListenerConfig(max_backlog_s=0.2))
    try:
        listener.push(np.zeros(1600, np.int16))
        assert inside.wait(5.0)  # the worker holds chunk 0
        for _ in range(9):
            listener.push(np.zeros(1600, np.int16))
        gate.set()
        assert wait_for(lambda: len(heard) == 2)
        # the worker already held chunk 0 (it fires at 100); later chunks were dropped, and after
        # the reset the detector fires 100 samples into the first chunk it got after the gap
        assert heard[0].sample == 100
        assert heard[1].sample > 1600 and heard[1].sample % 1600 == 100
    finally:
        gate.set()
        listener.close()


def test_detector_error_is_counted_and_listening_goes_on() -> None:
    heard: list[HeardStop] = []
    detector = ScriptedDetector(fire_at=(5000,), fail_on_call=1)
    listener = StopListener(detector, heard.append)
    try:
        for _ in range(4):
            listener.push(np.zeros(2000, np.int16))
        assert wait_for(lambda: len(heard) == 1)
        assert listener.errors == 1 and "decoder broke" in (listener.last_error or "")
        # after the failed first chunk the detector restarted at stream index 2000
        assert heard[0].sample == 2000 + 5000
    finally:
        listener.close()


def test_close_is_idempotent_and_prompt() -> None:
    listener = StopListener(ScriptedDetector(), lambda e: None)
    t0 = time.monotonic()
    listener.close()
    listener.close()
    assert time.monotonic() - t0 < 2.0
