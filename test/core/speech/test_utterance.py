"""core/speech/utterance.py: cutting stamped utterances out of a chunked stream."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.speech.utterance import AudioHistory, is_silent, rms_dbfs

RATE = 16000


def feed(history: AudioHistory, n_chunks: int, size: int = 1600, t0: float = 100.0) -> None:
    for k in range(n_chunks):
        chunk = np.arange(k * size, (k + 1) * size) % 30000
        history.append(chunk.astype(np.int16), t0 + (k + 1) * size / RATE)


def test_slice_returns_the_samples_and_their_stamps() -> None:
    history = AudioHistory(max_s=10.0)
    feed(history, 5)  # 0.5 s arriving at 100.1 .. 100.5
    u = history.slice(1600, 4800)
    assert u is not None and not u.truncated
    assert np.array_equal(u.audio, np.arange(1600, 4800).astype(np.int16))
    assert u.start == pytest.approx(100.1)
    assert u.end == pytest.approx(100.3)
    assert u.duration == pytest.approx(0.2)
    whole = history.slice(0)
    assert whole is not None and whole.audio.size == 8000 and whole.end == pytest.approx(100.5)


def test_a_too_long_stretch_keeps_the_newest_part() -> None:
    history = AudioHistory(max_s=0.3)
    feed(history, 10)  # 1 s into a 0.3 s history
    u = history.slice(0)
    assert u is not None and u.truncated
    assert u.audio.size == int(0.3 * RATE)
    assert np.array_equal(u.audio, (np.arange(16000 - 4800, 16000) % 30000).astype(np.int16))
    assert u.end == pytest.approx(101.0)
    short = history.slice(0, max_s=0.1)
    assert short is not None and short.truncated and short.audio.size == 1600
    assert np.array_equal(short.audio, u.audio[-1600:])


def test_nothing_held_gives_none() -> None:
    history = AudioHistory(max_s=1.0)
    assert history.slice(0) is None
    feed(history, 2)
    assert history.slice(history.end_index) is None  # pressed now, released before any audio


def test_silence_gate() -> None:
    assert is_silent(np.zeros(1600, np.int16))
    assert rms_dbfs(np.zeros(0, np.int16)) == float("-inf")
    tone = (3000 * np.sin(np.arange(1600) * 0.3)).astype(np.int16)
    assert not is_silent(tone)
    assert rms_dbfs(tone) == pytest.approx(20 * np.log10(3000 / np.sqrt(2) / 32768), abs=0.2)
