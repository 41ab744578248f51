"""Cutting utterances out of a chunked audio stream, ROS-free (used by ``speech_node``).

:class:`AudioHistory` keeps the last ``max_s`` seconds of a stream with the time each chunk
arrived, so a push-to-talk press/release or a VAD segment (absolute sample indices) becomes an
:class:`Utterance` with audio and start/end stamps. :func:`is_silent` is the energy gate that
keeps pure silence (or a muted microphone) away from the recogniser, which would otherwise
happily "hear" a grammar word in it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ifagent_ros.core.speech.sources import SAMPLE_RATE


@dataclass(frozen=True)
class Utterance:
    """A stretch of audio to transcribe: int16 mono samples and their start/end stamps."""

    audio: np.ndarray
    start: float  # seconds: stamp of the first sample
    end: float  # seconds: stamp just after the last sample
    truncated: bool = False  # the asked-for stretch was longer than the history: oldest cut

    @property
    def duration(self) -> float:
        return self.audio.size / SAMPLE_RATE


class AudioHistory:
    """The most recent ``max_s`` seconds of a stream, addressed by absolute sample index.

    Index 0 is the first sample ever appended. Each chunk is stamped with its arrival time, taken
    as the time of its last sample; earlier samples are dated backwards at ``rate``. An utterance
    ends at its newest sample's stamp and starts its duration earlier.
    """

    def __init__(self, max_s: float, rate: int = SAMPLE_RATE) -> None:
        if max_s <= 0.0:
            raise ValueError(f"history length must be positive, got {max_s}")
        self.rate = rate
        self.max_samples = int(round(max_s * rate))
        self._chunks: deque[tuple[int, np.ndarray, float]] = deque()  # (first index, audio, end)
        self._held = 0
        self.end_index = 0  # index one past the newest sample

    @property
    def start_index(self) -> int:
        """Index of the oldest sample still held."""
        return self.end_index - self._held

    def append(self, samples: np.ndarray, arrival: float) -> int:
        """Add a chunk that arrived at ``arrival`` seconds; returns its first sample's index."""
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        first = self.end_index
        self._chunks.append((first, samples, float(arrival)))
        self._held += samples.size
        self.end_index += samples.size
        # Drop whole chunks beyond the limit; slice() clips to max_samples exactly.
        while self._chunks and self._held - self._chunks[0][1].size >= self.max_samples:
            self._held -= self._chunks.popleft()[1].size
        return first

    def time_of(self, index: int) -> float:
        """Stamp of sample ``index`` (clamped to the samples held; 0.0 when empty)."""
        if not self._chunks:
            return 0.0
        for first, audio, end in self._chunks:
            if index < first + audio.size:
                return end - (first + audio.size - index) / self.rate
        first, audio, end = self._chunks[-1]
        return end + (index - first - audio.size) / self.rate

    def slice(
        self, start: int, end: int | None = None, max_s: float | None = None
    ) -> Utterance | None:
        """Samples ``[start, end)`` (end defaults to now), at most the newest ``max_s`` seconds
        (default: all the history holds); ``truncated`` says when older samples were cut.

        None when nothing of it is held (no audio arrived, or all of it was dropped).
        """
        end = self.end_index if end is None else min(end, self.end_index)
        limit = (
            self.max_samples
            if max_s is None
            else min(self.max_samples, int(round(max_s * self.rate)))
        )
        lo = max(start, self.start_index, end - limit)
        if end <= lo:
            return None
        parts = []
        for first, audio, _ in self._chunks:
            a, b = max(lo, first), min(end, first + audio.size)
            if a < b:
                parts.append(audio[a - first : b - first])
        audio = np.concatenate(parts)
        # Dated back from the newest sample's chunk, so start..end spans exactly the audio even
        # when chunks arrived in a burst (a replay, a stalled subscriber).
        stop = self.time_of(end - 1) + 1.0 / self.rate
        return Utterance(
            audio=audio, start=stop - audio.size / self.rate, end=stop, truncated=lo > start
        )

    def clear(self) -> None:
        self._chunks.clear()
        self._held = 0


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level in dB relative to int16 full scale (-inf for digital silence)."""
    if audio.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(audio.astype(np.float64)))))
    return 20.0 * np.log10(rms / 32768.0) if rms > 0.0 else float("-inf")


def is_silent(audio: np.ndarray, threshold_dbfs: float = -50.0) -> bool:
    """True when the whole stretch is quieter than ``threshold_dbfs`` (RMS)."""
    return rms_dbfs(audio) < threshold_dbfs
