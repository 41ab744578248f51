"""Audio sources for ``/audio``: the chunk format, WAV replay and the microphone, ROS-free.

The ``/audio`` convention (``std_msgs/Int16MultiArray``, as ros2_whisper's audio_listener):
``data`` holds one chunk of 16 kHz mono int16 samples; ``layout.dim`` has one dimension with
``size`` = number of samples, ``stride`` = 1 and a ``label`` that states the format,
``"audio;rate=16000;channels=1"`` (:func:`format_label`). A consumer checks it with
:func:`check_layout`: a message without dimensions, or labelled just ``"audio"`` (ros2_whisper),
is taken to be 16 kHz mono; a label that names another rate or channel count, or a size that
differs from the data, is rejected.

- :class:`WavReplay` replays a WAV file in real time: chunk *k* is due once ``(k + 1)`` chunk
  periods have passed since the start (when a microphone would have delivered it).
- :class:`MicrophoneSource` wraps a ``sounddevice.InputStream`` (PortAudio): blocks arrive on
  PortAudio's thread into a bounded queue, the caller drains it with :meth:`read`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE, AudioFormatError, read_wav

__all__ = [
    "CHANNELS",
    "SAMPLE_RATE",
    "AudioDeviceError",
    "AudioFormatError",
    "MicrophoneSource",
    "WavReplay",
    "check_layout",
    "format_label",
    "parse_label",
    "read_wav_16k_mono",
    "resolve_device",
]

CHANNELS = 1
LABEL_PREFIX = "audio"


class AudioDeviceError(RuntimeError):
    """The input device cannot be found or opened."""


# ---- the /audio message convention ---------------------------------------------------------
def format_label(rate: int = SAMPLE_RATE, channels: int = CHANNELS) -> str:
    """The ``layout.dim[0].label`` that states the chunk format."""
    return f"{LABEL_PREFIX};rate={rate};channels={channels}"


def parse_label(label: str) -> dict[str, int]:
    """``"audio;rate=16000;channels=1"`` -> ``{"rate": 16000, "channels": 1}``; ``"audio"``: {}."""
    fields: dict[str, int] = {}
    for part in label.split(";")[1:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise AudioFormatError(f"audio layout label {label!r}: {part!r} is not key=value")
        try:
            fields[key.strip()] = int(value)
        except ValueError:
            raise AudioFormatError(
                f"audio layout label {label!r}: {key}={value!r} is not an integer"
            ) from None
    return fields


def check_layout(
    dims: Sequence[tuple[str, int, int]],
    n_samples: int,
    rate: int = SAMPLE_RATE,
    channels: int = CHANNELS,
) -> None:
    """Raise :class:`AudioFormatError` unless a chunk's layout says ``rate`` Hz, ``channels``.

    ``dims`` are ``(label, size, stride)`` of ``layout.dim``. No dimension at all is accepted
    (the convention is then assumed), as is ros2_whisper's bare ``"audio"`` label.
    """
    if n_samples == 0:
        raise AudioFormatError("empty audio chunk")
    if not dims:
        return
    if len(dims) != 1:
        raise AudioFormatError(f"audio chunk has {len(dims)} layout dimensions, expected 1 (mono)")
    label, size, _stride = dims[0]
    fields = parse_label(label)
    got_rate = fields.get("rate", rate)
    got_channels = fields.get("channels", channels)
    if got_rate != rate:
        raise AudioFormatError(f"audio chunk is {got_rate} Hz, expected {rate} Hz")
    if got_channels != channels:
        raise AudioFormatError(f"audio chunk has {got_channels} channels, expected {channels}")
    if size not in (0, n_samples):
        raise AudioFormatError(f"audio layout says {size} samples but the chunk holds {n_samples}")


# ---- WAV files -------------------------------------------------------------------------------
def read_wav_16k_mono(path: str | Path) -> np.ndarray:
    """Samples of a 16 kHz mono 16-bit PCM WAV file as int16; a clear error otherwise
    (:class:`FileNotFoundError`, :class:`AudioFormatError` saying what the file is)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"WAV file not found: {path}")
    return read_wav(path).samples


class WavReplay:
    """Cuts samples into fixed chunks and releases them at the real-time rate.

    With ``loop``, the file repeats forever with ``loop_silence_s`` of silence between repeats
    (so a voice-activity detector sees separate utterances); without, the last chunk may be
    shorter and :attr:`finished` turns true after it.
    """

    def __init__(
        self,
        samples: np.ndarray,
        chunk_size: int,
        *,
        loop: bool = False,
        loop_silence_s: float = 1.0,
        rate: int = SAMPLE_RATE,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        if samples.size == 0:
            raise AudioFormatError("nothing to replay: no samples")
        if loop and loop_silence_s > 0.0:
            samples = np.concatenate([samples, np.zeros(int(loop_silence_s * rate), np.int16)])
        self._samples = samples
        self.chunk_size = int(chunk_size)
        self.loop = loop
        self.rate = rate
        self.chunks_released = 0

    @property
    def chunk_period(self) -> float:
        """Seconds of audio in one chunk."""
        return self.chunk_size / self.rate

    @property
    def total_chunks(self) -> int | None:
        """Chunks in one pass (None when looping: endless)."""
        return None if self.loop else -(-self._samples.size // self.chunk_size)

    @property
    def finished(self) -> bool:
        total = self.total_chunks
        return total is not None and self.chunks_released >= total

    def chunk(self, k: int) -> np.ndarray:
        """Chunk number ``k`` (0-based) of the stream."""
        start = k * self.chunk_size
        if self.loop:
            idx = np.arange(start, start + self.chunk_size) % self._samples.size
            return self._samples[idx]
        return self._samples[start : start + self.chunk_size].copy()

    def due(self, elapsed_s: float) -> list[np.ndarray]:
        """The chunks whose audio has fully "happened" ``elapsed_s`` after the start.

        After a stall every overdue chunk is returned at once, as a microphone's buffer would.
        """
        target = int(max(elapsed_s, 0.0) / self.chunk_period + 1e-9)
        total = self.total_chunks
        if total is not None:
            target = min(target, total)
        out = [self.chunk(k) for k in range(self.chunks_released, target)]
        self.chunks_released = max(self.chunks_released, target)
        return out


# ---- microphone ------------------------------------------------------------------------------
def resolve_device(spec: str | int, devices: Sequence[Mapping[str, Any]]) -> int | None:
    """An input device index from ``spec``: "" -> None (PortAudio's default), an index (int or
    digits) or a case-insensitive substring of the device name (first match wins).

    ``devices`` is ``sounddevice.query_devices()``. Raises :class:`AudioDeviceError` naming the
    input devices there are.
    """
    inputs = [(i, d) for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]
    listing = ", ".join(f"{i}: {d['name']!r}" for i, d in inputs) or "none"
    text = str(spec).strip()
    if text == "":
        if not inputs:
            raise AudioDeviceError("no audio input device found")
        return None
    if text.lstrip("-").isdigit():
        index = int(text)
        if any(i == index for i, _ in inputs):
            return index
        raise AudioDeviceError(
            f"audio device {index} is not an input device (input devices: {listing})"
        )
    for i, d in inputs:
        if text.lower() in str(d["name"]).lower():
            return i
    raise AudioDeviceError(f"no input device name contains {text!r} (input devices: {listing})")


class MicrophoneSource:
    """16 kHz mono int16 blocks of ``chunk_size`` samples from a PortAudio input device.

    PortAudio calls back on its own thread; blocks go into a queue of ``max_chunks`` (the oldest
    are dropped, and counted, if nobody reads). Raises :class:`AudioDeviceError` when the device
    cannot be found or opened (PortAudio missing, busy, no 16 kHz mono support).
    """

    def __init__(
        self, device: str | int = "", chunk_size: int = 1024, max_chunks: int = 64
    ) -> None:
        try:
            import sounddevice as sd
        except OSError as err:  # the PortAudio library itself is missing
            raise AudioDeviceError(
                f"PortAudio is not available ({err}); install libportaudio2"
            ) from None
        self._lock = threading.Lock()
        self._queue: deque[np.ndarray] = deque(maxlen=max_chunks)
        self.dropped = 0
        self.overflows = 0
        self.device = resolve_device(device, sd.query_devices())
        try:
            self._stream = sd.InputStream(
                samplerate=SAMPLE_RATE,
                channels=CHANNELS,
                dtype="int16",
                blocksize=chunk_size,
                device=self.device,
                callback=self._callback,
            )
            self._stream.start()
        except Exception as err:  # noqa: BLE001 - PortAudioError, ValueError
            raise AudioDeviceError(
                f"cannot open audio input device {device!r} at {SAMPLE_RATE} Hz mono int16: {err}"
            ) from None
        self.name = str(sd.query_devices(self._stream.device)["name"])

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        with self._lock:
            if status:
                self.overflows += 1
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(indata[:, 0].copy())

    def read(self) -> list[np.ndarray]:
        """Every block captured since the last call, oldest first."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
        return out

    def close(self) -> None:
        """Stop and close the stream (idempotent)."""
        stream, self._stream = getattr(self, "_stream", None), None
        if stream is not None:
            stream.stop()
            stream.close()
