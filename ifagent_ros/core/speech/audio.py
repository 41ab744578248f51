"""Audio validation and WAV helpers: everything downstream sees int16 mono 16 kHz numpy arrays.

Resampling is never silent: :func:`read_wav` refuses another rate unless ``resample=True``.
Utterances longer than :data:`MAX_UTTERANCE_S` are truncated (with a warning) rather than
rejected: a stuck push-to-talk button must not make the robot deaf, and the command words of a
correction are at its start.
"""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
MAX_UTTERANCE_S = 30.0  # longer audio is cut to this length (see truncate_utterance)
CLIP_LEVEL = 32_000  # |sample| at or above this counts as clipped
CLIP_FRACTION = 0.001  # more clipped samples than this fraction: the input gain is too high

_log = logging.getLogger(__name__)


class AudioFormatError(ValueError):
    """Audio that is not int16 mono at the expected sample rate (the message says what is)."""


def validate_audio(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``audio`` as a contiguous 1-D int16 array, or :class:`AudioFormatError`.

    Accepts shape ``(n,)`` or ``(n, 1)``; anything with more channels, another dtype, a rate other
    than 16 kHz, or no samples is refused with a message naming the problem.
    """
    if sample_rate != SAMPLE_RATE:
        raise AudioFormatError(
            f"sample rate is {sample_rate} Hz; speech recognition needs {SAMPLE_RATE} Hz mono "
            f"(resample first, e.g. `sox in.wav -r {SAMPLE_RATE} -c 1 -b 16 out.wav`)"
        )
    audio = np.asarray(audio)
    if audio.ndim == 2 and audio.shape[1] == 1:
        audio = audio[:, 0]
    if audio.ndim != 1:
        channels = audio.shape[1] if audio.ndim == 2 else "?"
        raise AudioFormatError(
            f"audio has shape {audio.shape} ({channels} channels); expected mono, shape (n,)"
        )
    if audio.dtype != np.int16:
        raise AudioFormatError(f"audio dtype is {audio.dtype}; expected int16 PCM")
    if audio.size == 0:
        raise AudioFormatError("audio is empty (0 samples)")
    return np.ascontiguousarray(audio)


def clipped_fraction(audio: np.ndarray) -> float:
    """Fraction of samples at or beyond :data:`CLIP_LEVEL` (full scale)."""
    if audio.size == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(audio.astype(np.int32)) >= CLIP_LEVEL) / audio.size)


def is_clipped(audio: np.ndarray, max_fraction: float = CLIP_FRACTION) -> bool:
    """True when more than ``max_fraction`` of the samples are clipped (input gain too high)."""
    return clipped_fraction(audio) > max_fraction


def truncate_utterance(
    audio: np.ndarray, max_seconds: float = MAX_UTTERANCE_S, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """The first ``max_seconds`` of ``audio``; logs a warning when it cuts anything."""
    limit = int(max_seconds * sample_rate)
    if audio.shape[0] <= limit:
        return audio
    _log.warning(
        "utterance of %.1f s is longer than %.1f s: only the first %.1f s are recognised",
        audio.shape[0] / sample_rate, max_seconds, max_seconds,
    )
    return audio[:limit]


def resample_linear(audio: np.ndarray, from_rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Linear-interpolation resampling of int16 audio (adequate for speech at 16 kHz; for better
    quality resample offline with sox)."""
    if from_rate == to_rate:
        return audio
    n_out = int(round(audio.shape[0] * to_rate / from_rate))
    t_out = np.arange(n_out) * (from_rate / to_rate)
    out = np.interp(t_out, np.arange(audio.shape[0]), audio.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class WavAudio:
    """Validated samples from a WAV file."""

    samples: np.ndarray  # int16 mono at SAMPLE_RATE
    sample_rate: int
    resampled_from: int | None = None  # the file's rate when resample=True changed it

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


def read_wav(path: str | Path, *, resample: bool = False) -> WavAudio:
    """Read a 16-bit PCM WAV file as validated int16 mono 16 kHz audio.

    A rate other than 16 kHz is refused (:class:`AudioFormatError`) unless ``resample`` is true;
    more than one channel is always refused, since mixing channels silently could cancel speech.
    """
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width = wav.getnchannels(), wav.getsampwidth()
            rate, frames = wav.getframerate(), wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a PCM WAV file ({exc})") from None
    if width != 2:
        raise AudioFormatError(f"{path}: {8 * width}-bit samples; expected 16-bit PCM")
    if channels != 1:
        raise AudioFormatError(f"{path}: {channels} channels; expected mono")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    resampled_from = None
    if rate != SAMPLE_RATE:
        if not resample:
            raise AudioFormatError(
                f"{path}: sample rate is {rate} Hz; expected {SAMPLE_RATE} Hz "
                f"(pass resample=True, or `sox {path.name} -r {SAMPLE_RATE} out.wav`)"
            )
        samples, resampled_from = resample_linear(samples, rate), rate
    return WavAudio(validate_audio(samples), SAMPLE_RATE, resampled_from)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write int16 mono audio as a 16-bit PCM WAV file."""
    audio = validate_audio(audio, sample_rate)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(audio.astype("<i2").tobytes())


__all__ = [
    "CLIP_LEVEL", "MAX_UTTERANCE_S", "SAMPLE_RATE", "AudioFormatError", "WavAudio",
    "clipped_fraction", "is_clipped", "read_wav", "resample_linear", "truncate_utterance",
    "validate_audio", "write_wav",
]
