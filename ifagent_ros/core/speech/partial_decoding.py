"""Push-to-talk decoding that is mostly done by the time the button is released.

While the button is held, :class:`PushToTalkDecoder` buffers the audio and a worker thread
decodes the growing buffer (a *partial*) whenever the speaker has paused: the buffer holds
speech, its last ``end_margin_s`` are quiet, the speech has grown since the input of the last
partial, and at least ``min_new_s`` of audio arrived since the last partial started. A partial
taken while someone is still talking could never be reused, so none is started then.

At release, the end of speech in the whole buffer is found by energy (:func:`~.asr.speech_frames`).
When the last partial's input reaches ``end_margin_s`` past it, nothing was said after that
partial and its transcript is returned at once; otherwise the full buffer is decoded once more
(after waiting for a partial still in flight: the recogniser runs one decode at a time).
``last_release`` says which happened and how long it took (the benchmark reads it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import FRAMES_PER_S, Recognizer, speech_frames
from ifagent_ros.core.speech.audio import MAX_UTTERANCE_S, SAMPLE_RATE, AudioFormatError

_log = logging.getLogger(__name__)

_HOP = SAMPLE_RATE // FRAMES_PER_S


@dataclass(frozen=True)
class Partial:
    """One decode of the buffer while the button was held."""

    text: SpeechText
    first: int  # stream index (samples since press, counting dropped ones) of its first sample
    end: int  # stream index just past its last sample
    seconds: float  # decode time


@dataclass(frozen=True)
class ReleaseReport:
    """What :meth:`PushToTalkDecoder.release` did."""

    outcome: str  # "reused" (a partial covered the speech), "decoded", "no speech", "no audio"
    audio_s: float  # buffered audio at release
    speech_end_s: float  # end of speech in the buffer (0 when none)
    partials: int  # partials decoded while held
    wait_s: float  # waiting for a partial in flight
    decode_s: float  # the final decode (0 when reused)
    latency_s: float  # release() call to return


def speech_end(audio: np.ndarray, min_frames: int = 5) -> int | None:
    """Sample index just past the last loud 10 ms frame, or None with fewer than ``min_frames``."""
    loud = speech_frames(audio)
    if int(loud.sum()) < min_frames:
        return None
    return (int(np.flatnonzero(loud)[-1]) + 1) * _HOP


class PushToTalkDecoder:
    """Partial decoding while push-to-talk is held; see the module docstring."""

    def __init__(
        self,
        recognizer: Recognizer,
        *,
        min_new_s: float = 0.3,
        end_margin_s: float = 0.15,
        max_utterance_s: float = MAX_UTTERANCE_S,
        partials: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        on_partial: Callable[[SpeechText], None] | None = None,
    ) -> None:
        self.recognizer = recognizer
        self.on_partial = on_partial  # called (worker thread) with each partial's transcript
        self.min_new = int(min_new_s * SAMPLE_RATE)
        self.margin = int(end_margin_s * SAMPLE_RATE)
        self.max_samples = int(max_utterance_s * SAMPLE_RATE)
        self.partials_enabled = partials
        self._clock = clock
        self._cond = threading.Condition()
        self._decode_lock = threading.Lock()  # one recogniser call at a time
        self._chunks: list[np.ndarray] = []
        self._first = 0  # stream index of the buffer's first sample (older ones dropped)
        self._end = 0  # stream index just past the buffer's last sample
        self._held = False
        self._busy = False  # a partial is being decoded
        self._closed = False
        self._press_stamp = 0.0
        self._generation = 0  # bumped by press: a partial of an older press is discarded
        self._last_start = -(10**12)  # stream index at which the last partial's input ended
        self._partial: Partial | None = None
        self._count = 0
        self.last_release: ReleaseReport | None = None
        self._worker = threading.Thread(target=self._run, name="ptt-decoder", daemon=True)
        self._worker.start()

    # ---- producer side (never waits on decoding)
    def press(self, stamp: float) -> None:
        """Start a new utterance (anything buffered before is dropped)."""
        with self._cond:
            self._chunks, self._first, self._end = [], 0, 0
            self._held, self._press_stamp = True, stamp
            self._generation += 1
            self._partial, self._count, self._last_start = None, 0, -(10**12)
            self._cond.notify_all()

    def feed(self, chunk: np.ndarray) -> None:
        """Append int16 mono samples (any length) while the button is held; ignored otherwise.
        The buffer keeps the newest ``max_utterance_s``."""
        chunk = np.asarray(chunk)
        if chunk.ndim == 2 and chunk.shape[1] == 1:
            chunk = chunk[:, 0]
        if chunk.ndim != 1:
            raise AudioFormatError(f"audio chunk has shape {chunk.shape}; expected mono (n,)")
        if chunk.dtype != np.int16:
            raise AudioFormatError(f"audio chunk dtype is {chunk.dtype}; expected int16 PCM")
        if chunk.size == 0:
            return
        with self._cond:
            if not self._held or self._closed:
                return
            self._chunks.append(chunk.copy())
            self._end += chunk.size
            if self._end - self._first > self.max_samples:
                self._trim()
            self._cond.notify_all()

    def _trim(self) -> None:
        """Drop the oldest samples beyond ``max_samples`` (caller holds the lock)."""
        audio = np.concatenate(self._chunks)[-self.max_samples :]
        self._first = self._end - audio.size
        self._chunks = [audio]

    def _snapshot(self) -> tuple[np.ndarray, int, int]:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        audio = self._chunks[0] if self._chunks else np.zeros(0, np.int16)
        return audio, self._first, self._end

    # ---- worker: partials
    def _wants_partial(self, audio: np.ndarray, first: int, end: int) -> bool:
        if end - self._last_start < self.min_new or audio.size < self.margin:
            return False
        stop = speech_end(audio)
        if stop is None or audio.size - stop < self.margin:
            return False  # no speech yet, or still talking
        last = self._partial
        return last is None or last.first != first or last.end < first + stop + self.margin

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._held:
                    self._cond.wait()
                if self._closed:
                    return
                audio, first, end = self._snapshot()
                generation = self._generation
                if not self.partials_enabled or not self._wants_partial(audio, first, end):
                    self._cond.wait(timeout=0.05)
                    continue
                self._busy, self._last_start = True, end
                stamp = self._press_stamp
            try:
                with self._decode_lock:
                    t0 = self._clock()
                    text = self.recognizer.transcribe(audio.copy(), stamp, stamp)
                    seconds = self._clock() - t0
            except Exception:  # noqa: BLE001 - a failed partial must not kill the worker
                _log.exception("partial decode failed")
                text, seconds = None, 0.0
            with self._cond:
                self._busy = False
                current = text is not None and generation == self._generation
                if current:
                    self._partial = Partial(text, first, end, seconds)
                    self._count += 1
                self._cond.notify_all()
            if current and self.on_partial is not None and text.text.strip():
                try:  # e.g. a stop word heard while the button is still held
                    self.on_partial(text)
                except Exception:  # noqa: BLE001 - a failing listener must not kill the worker
                    _log.exception("on_partial failed")

    # ---- release
    def release(self, stamp: float) -> SpeechText | None:
        """The transcript of everything since :meth:`press`, or None when there was no speech
        (no loud frames, or the recogniser heard none)."""
        t0 = self._clock()
        with self._cond:
            self._held = False
            audio, first, end = self._snapshot()
            press = self._press_stamp
            self._cond.notify_all()
        if audio.size == 0:
            return self._report(None, "no audio", 0, 0.0, 0.0, 0.0, t0)
        stop = speech_end(audio)
        if stop is None:
            return self._report(None, "no speech", audio.size, 0.0, 0.0, 0.0, t0)
        with self._cond:
            t_wait = self._clock()
            while self._busy:
                self._cond.wait()
            wait = self._clock() - t_wait
            partial = self._partial
        if partial is not None and partial.first == first and partial.end >= first + stop + min(
            self.margin, audio.size - stop
        ):
            text = partial.text.model_copy(update={"start": press, "end": stamp})
            return self._report(text, "reused", audio.size, stop / SAMPLE_RATE, wait, 0.0, t0)
        with self._decode_lock:
            t_dec = self._clock()
            text = self.recognizer.transcribe(audio, press, stamp)
            decode = self._clock() - t_dec
        return self._report(text, "decoded", audio.size, stop / SAMPLE_RATE, wait, decode, t0)

    def _report(self, text: SpeechText | None, outcome: str, samples: int, stop_s: float,
                wait: float, decode: float, t0: float) -> SpeechText | None:
        self.last_release = ReleaseReport(
            outcome=outcome, audio_s=samples / SAMPLE_RATE, speech_end_s=stop_s,
            partials=self._count, wait_s=wait, decode_s=decode, latency_s=self._clock() - t0,
        )
        if text is None or not text.text.strip():
            return None
        return text

    def cancel(self) -> None:
        """Drop the utterance without decoding it (the caller refused the audio: silence, a tap
        too short to hold a word). A partial still in flight is discarded when it ends."""
        with self._cond:
            self._held = False
            self._generation += 1
            self._chunks, self._first, self._end = [], 0, 0
            self._partial = None
            self._cond.notify_all()

    @property
    def held(self) -> bool:
        return self._held

    def close(self) -> None:
        """Stop the worker (waits for a partial in flight)."""
        with self._cond:
            self._closed = True
            self._held = False
            self._cond.notify_all()
        self._worker.join()


__all__ = ["Partial", "PushToTalkDecoder", "ReleaseReport", "speech_end"]
