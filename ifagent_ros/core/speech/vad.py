"""Streaming voice activity detection (silero-vad) for hands-free mode.

:class:`VoiceActivityDetector` takes int16 16 kHz audio in chunks of any length, runs silero-vad
on 512-sample frames, and returns each speech segment once it has ended, with sample indices
counted from the first sample pushed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE

FRAME = 512  # silero-vad's frame at 16 kHz


@dataclass(frozen=True)
class Segment:
    """One completed speech segment: samples ``[start, end)`` of the pushed stream."""

    start: int
    end: int

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / SAMPLE_RATE


@dataclass
class VadConfig:
    threshold: float = 0.5  # speech probability to open a segment
    min_silence_ms: int = 300  # silence that closes a segment
    speech_pad_ms: int = 30  # padding added on both sides
    min_speech_ms: int = 150  # shorter segments are dropped (clicks, breaths)


class VoiceActivityDetector:
    """``push(chunk) -> [Segment, ...]`` over a stream of int16 mono 16 kHz audio."""

    def __init__(self, config: VadConfig | None = None) -> None:
        import torch
        from silero_vad import VADIterator, load_silero_vad

        self.config = config or VadConfig()
        self._torch = torch
        self._iterator = VADIterator(
            load_silero_vad(), threshold=self.config.threshold, sampling_rate=SAMPLE_RATE,
            min_silence_duration_ms=self.config.min_silence_ms,
            speech_pad_ms=self.config.speech_pad_ms,
        )
        self._pending = np.zeros(0, dtype=np.int16)
        self._consumed = 0  # samples already given to silero
        self._start: int | None = None

    @property
    def in_speech(self) -> bool:
        """True while a segment is open."""
        return self._start is not None

    def reset(self) -> None:
        """Forget the stream (the next push starts at sample 0)."""
        self._iterator.reset_states()
        self._pending = np.zeros(0, dtype=np.int16)
        self._consumed, self._start = 0, None

    def push(self, chunk: np.ndarray) -> list[Segment]:
        """Feed int16 samples; the segments that ended within them."""
        chunk = np.asarray(chunk)
        if chunk.dtype != np.int16 or chunk.ndim != 1:
            raise ValueError(f"VAD needs 1-D int16 audio, got {chunk.dtype} {chunk.shape}")
        self._pending = np.concatenate([self._pending, chunk])
        done: list[Segment] = []
        while self._pending.shape[0] >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            tensor = self._torch.from_numpy(frame.astype(np.float32) / 32768.0)
            event = self._iterator(tensor, return_seconds=False)
            self._consumed += FRAME
            if event and "start" in event:
                self._start = int(event["start"])
            if event and "end" in event and self._start is not None:
                segment = Segment(self._start, int(event["end"]))
                self._start = None
                if segment.duration_s * 1000 >= self.config.min_speech_ms:
                    done.append(segment)
        return done

    def flush(self) -> list[Segment]:
        """Close an open segment at the end of the stream."""
        if self._start is None:
            return []
        segment = Segment(self._start, self._consumed)
        self.reset()
        return [segment] if segment.duration_s * 1000 >= self.config.min_speech_ms else []


__all__ = ["FRAME", "Segment", "VadConfig", "VoiceActivityDetector"]
