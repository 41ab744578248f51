"""The speech front end behind ``speech_node``, ROS-free: audio chunks, push-to-talk presses,
typed text and scene words in; transcripts and stop latches out (see ``nodes/speech_node.py``
for the behaviour, and :class:`SpeechConfig` for the settings, which are its parameters).

:class:`SpeechService` owns the recogniser, the stop paths (keyphrase :class:`StopListener` and
Whisper segments), the push-to-talk partial decoder or the VAD, the audio history that
utterances are cut from, and the transcription worker thread with its one-utterance slot. The
caller converts messages and publishes what the callbacks hand it:

- ``publish_text(SpeechText)``: a transcript (recognised or typed);
- ``latch(heard, how)``: a stop word was heard, at most once per ``stop_refractory_s``;
- ``log``: ``info``/``warning``/``error`` lines (repeating warnings are throttled here).

Counters (chunks, rejections, drops, latches, reused partials) are attributes, for tests and
status.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.schemas import ObjectList, SpeechText
from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer_with_fallback
from ifagent_ros.core.speech.audio import clipped_fraction
from ifagent_ros.core.speech.sources import AudioFormatError, check_layout
from ifagent_ros.core.speech.stop_listener import HeardStop, StopListener, StopListenerConfig
from ifagent_ros.core.speech.utterance import AudioHistory, Utterance, is_silent
from ifagent_ros.core.speech.vad import VadConfig, VoiceActivityDetector

__all__ = ["SpeechConfig", "SpeechLog", "SpeechService", "scene_words"]

THROTTLE_S = 1.0  # a repeating warning is logged at most this often (per kind)


@dataclass(frozen=True)
class SpeechConfig:
    """speech_node's settings (each field is a parameter of the same name; ``asr.*``, ``vad.*``)."""

    mode: Literal["push_to_talk", "hands_free"] = "push_to_talk"
    ptt_button: int = 0  # A on the Xbox layout (docs/spine_contract.md)
    ptt_release_delay_s: float = 0.1  # wait this long after release for the last audio chunk
    max_utterance_s: float = 15.0
    min_utterance_s: float = 0.2
    silence_threshold_dbfs: float = -50.0
    max_clipped_fraction: float = 0.01  # more clipped samples: a distorted utterance, ignored
    no_audio_warning_s: float = 1.0  # warn when the button is held this long with no audio
    stop_always_on: bool = True  # the stop detector hears every chunk, push-to-talk or not
    stop_max_backlog_s: float = 2.0  # stop-detector queue beyond this: a flood, oldest dropped
    stop_segments: bool = True  # a second, precise stop path: voiced segments through Whisper
    stop_refractory_s: float = 1.0  # one latch (and one status) per spoken stop, either path
    partials: bool = True  # decode while push-to-talk is held (push_to_talk mode)
    partial_min_new_s: float = 0.3  # new audio that starts another partial decode
    asr: AsrConfig = field(default_factory=AsrConfig)
    vad: VadConfig = field(default_factory=lambda: VadConfig(min_speech_ms=250,
                                                             speech_pad_ms=100))


class SpeechLog(Protocol):
    def info(self, message: str) -> Any: ...
    def warning(self, message: str) -> Any: ...
    def error(self, message: str) -> Any: ...


def scene_words(objects: ObjectList) -> tuple[str, ...]:
    """The recogniser's vocabulary for a scene: every colour and label word, sorted."""
    return tuple(sorted({w for o in objects.objects for w in (*o.color.split(),
                                                               *o.label.split())}))


class SpeechService:
    def __init__(self, config: SpeechConfig, *, clock: Callable[[], float],
                 publish_text: Callable[[SpeechText], None],
                 latch: Callable[[str, str], None], log: SpeechLog,
                 audio_source: str = "the audio topic") -> None:
        self.config = cfg = config
        self.mode = cfg.mode
        self._clock, self._publish_text, self._on_latch = clock, publish_text, latch
        self._log, self._audio_source = log, audio_source
        self._last_logged: dict[str, float] = {}
        self._recognizer = make_recognizer_with_fallback(cfg.asr, log=log.error)
        self.backend = type(self._recognizer).__name__
        self._vad = VoiceActivityDetector(cfg.vad) if self.mode == "hands_free" else None
        # A little more than one utterance, so a VAD segment's padding is still held.
        self._history = AudioHistory(cfg.max_utterance_s + 2.0)
        self._partials = self._make_partials() if self.mode == "push_to_talk" else None

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: tuple[Utterance, bool] | None = None  # (audio, use the partials)
        self._closed = False
        self.pressed_at: int | None = None  # stream index at the press; None: not held
        self._pressed_wall = 0.0
        self._release_due: float | None = None  # time.monotonic() when to cut
        self._released_wall = 0.0  # time.monotonic() of the last release (latency log)
        self._last_audio_wall = 0.0
        self._vocab_wanted: tuple[str, ...] = ()
        self._vocab_applied: tuple[str, ...] = ()
        self._latch_lock = threading.Lock()
        self._last_latch = -1e9  # time.monotonic() of the last latch

        self.vocabulary: tuple[str, ...] = ()  # as last derived from the scene's objects
        self.vocabulary_updates = 0  # times set_vocabulary was called
        self.chunks_received = 0
        self.chunks_rejected = 0
        self.utterances_dropped = 0
        self.transcripts_published = 0
        self.stops_latched = 0
        self.partials_reused = 0
        self.last_release_latency_s: float | None = None
        self.last_rejection: str | None = None

        self._stop = self._make_stop_listener() if cfg.stop_always_on else None
        self._stop_segments = (self._make_segment_listener()
                               if cfg.stop_always_on and cfg.stop_segments else None)
        self._worker = threading.Thread(target=self._run, name="speech-asr", daemon=True)
        self._worker.start()

    # ---- construction ------------------------------------------------------------------------
    def _make_partials(self) -> Any:
        if not self.config.partials:
            return None
        from ifagent_ros.core.speech.partial_decoding import PushToTalkDecoder

        return PushToTalkDecoder(self._recognizer, min_new_s=self.config.partial_min_new_s,
                                 max_utterance_s=self.config.max_utterance_s,
                                 on_partial=self._on_partial)

    def _make_stop_listener(self) -> StopListener:
        from ifagent_ros.core.speech.stop_detector import StopDetector

        return StopListener(StopDetector(), self._on_stop,
                            StopListenerConfig(max_backlog_s=self.config.stop_max_backlog_s))

    def _make_segment_listener(self) -> StopListener | None:
        from ifagent_ros.core.speech.stop_segments import SegmentStopConfig, SegmentStopSpotter

        asr = self.config.asr
        segments = SegmentStopConfig()
        segments.asr = replace(segments.asr, model=asr.model, device=asr.device,
                               threads=asr.threads)
        try:
            spotter = SegmentStopSpotter(segments)
        except Exception as err:  # noqa: BLE001 - the keyphrase path still runs without it
            self._log.error(f"segment stop path off (Whisper did not load: {err}); "
                            f"the keyphrase stop detector still runs")
            return None
        # a Whisper decode of one segment takes 0.3-1.2 s on 2 busy cores: give it more room
        backlog = max(self.config.stop_max_backlog_s, 5.0)
        return StopListener(spotter, self._on_stop, StopListenerConfig(max_backlog_s=backlog))

    @property
    def stop_paths(self) -> str:
        """What hears stop words, for the start-up line ("" when the detector is off)."""
        if self._stop is None:
            return ""
        return "keyphrases" + (" + Whisper segments" if self._stop_segments is not None else "")

    def _throttled(self, kind: str, level: str, message: str) -> None:
        now = time.monotonic()
        if now - self._last_logged.get(kind, -1e9) >= THROTTLE_S:
            self._last_logged[kind] = now
            getattr(self._log, level)(message)

    def reject(self, why: str) -> None:
        """Bad input or an utterance not worth decoding: remembered and logged (throttled)."""
        self.last_rejection = why
        self._throttled("reject", "warning", why)

    # ---- the stop paths (stop-listener and partial-decoder threads) ------------------------
    def _on_stop(self, heard: HeardStop) -> None:
        lag_ms = (time.monotonic() - heard.pushed_at) * 1000.0
        self._latch(heard.phrase, f"score {heard.score:.0f}, {lag_ms:.0f} ms after its audio "
                                  f"arrived")

    def _on_partial(self, text: SpeechText) -> None:
        """A partial transcript while the button is still held: a stop word latches now."""
        if is_stop(text.text):
            self._latch(text.text, "in a partial transcript, push-to-talk still held")

    def _latch(self, heard: str, how: str) -> None:
        if self._closed:
            return
        with self._latch_lock:  # both stop paths may hear the same word: latch once
            now = time.monotonic()
            if now - self._last_latch < self.config.stop_refractory_s:
                return
            self._last_latch = now
        self.stops_latched += 1
        self._on_latch(heard, how)

    # ---- inputs (the caller's thread: bookkeeping only) ------------------------------------
    def audio(self, samples: np.ndarray, dims: Sequence[tuple[str, int, int]]) -> None:
        """One ``/audio`` chunk with its layout ``(label, size, stride)`` per dimension."""
        self.chunks_received += 1
        try:
            check_layout(list(dims), samples.size)
        except AudioFormatError as err:
            self.chunks_rejected += 1
            self.reject(f"dropped /audio chunk: {err}")
            return
        for listener in (self._stop, self._stop_segments):  # first: stops never wait
            if listener is None:
                continue
            if listener.push(samples):  # this chunk overflowed its queue: a flood
                self.reject(f"audio flood: a stop path is {listener.backlog_s:.1f} s "
                            f"behind, dropped {listener.dropped_samples} samples (oldest)")
        self._last_audio_wall = time.monotonic()
        self._history.append(samples, self._clock())
        if self._partials is not None and self.pressed_at is not None:
            self._partials.feed(samples)
        if self._vad is not None:
            for seg in self._vad.push(samples):
                self._cut(seg.start, seg.end, "voice activity")

    def button(self, held: bool) -> None:
        """The push-to-talk button's state, as each gamepad message reports it."""
        if held and self.pressed_at is None:
            if self._release_due is not None:  # pressed again before the last cut: cut now
                self._finish_release()
            self.pressed_at = self._history.end_index
            self._pressed_wall = time.monotonic()
            if self._partials is not None:
                self._partials.press(self._clock())
        elif not held and self.pressed_at is not None and self._release_due is None:
            self._released_wall = time.monotonic()
            self._release_due = self._released_wall + self.config.ptt_release_delay_s

    def objects(self, objects: ObjectList) -> None:
        """The scene's objects: the recogniser's vocabulary follows their words."""
        words = scene_words(objects)
        if words != self.vocabulary:
            self.vocabulary = words
            with self._lock:
                self._vocab_wanted = words
                self._wake.notify()

    def typed(self, text: str) -> None:
        """Typed text: a transcript of its own (backend ``typed``, confidence 1)."""
        text = " ".join(text.split())
        if not text:
            self.reject("ignored empty typed text")
            return
        now = self._clock()
        self._publish(SpeechText(text=text, confidence=1.0, backend="typed", start=now, end=now,
                                 in_grammar=False))

    # ---- push-to-talk timing (the caller's timer) --------------------------------------------
    def tick(self) -> None:
        now = time.monotonic()
        if self._release_due is not None and now >= self._release_due:
            self._finish_release()
        elif (self.pressed_at is not None and self._release_due is None
              and now - max(self._pressed_wall, self._last_audio_wall)
              > self.config.no_audio_warning_s):
            self.reject(f"push-to-talk held but no audio on {self._audio_source}")

    def _finish_release(self) -> None:
        start, self.pressed_at, self._release_due = self.pressed_at, None, None
        if start is not None:
            self._cut(start, None, "push-to-talk")

    def _cut(self, start: int, end: int | None, trigger: str) -> None:
        """Check the stretch ``[start, end)`` and hand it to the worker (or refuse it)."""
        limit = self.config.max_utterance_s
        partial = self._partials is not None and trigger == "push-to-talk"
        utterance = self._history.slice(start, end, max_s=limit)
        why = self._bad_utterance(utterance, trigger)
        if why is not None:
            self.reject(why)
            if partial:
                self._partials.cancel()
            return
        assert utterance is not None
        if utterance.truncated:
            self.reject(f"{trigger}: utterance longer than max_utterance_s = {limit:g} s, "
                        f"kept the last {limit:g} s")
        with self._lock:
            if self._pending is not None:
                self.utterances_dropped += 1
                self._throttled("busy", "warning",
                                "recogniser busy: dropped the older waiting utterance")
            self._pending = (utterance, partial)
            self._wake.notify()

    def _bad_utterance(self, utterance: Utterance | None, trigger: str) -> str | None:
        """Why this stretch must not reach the recogniser (None: it may)."""
        cfg = self.config
        if utterance is None:
            return f"{trigger}: no audio received on {self._audio_source}"
        if utterance.duration < cfg.min_utterance_s:
            return (f"{trigger}: {utterance.duration:.2f} s of audio is shorter than "
                    f"min_utterance_s = {cfg.min_utterance_s:g} s, ignored")
        if is_silent(utterance.audio, cfg.silence_threshold_dbfs):
            return f"{trigger}: silence (below {cfg.silence_threshold_dbfs:g} dBFS), ignored"
        clipped = clipped_fraction(utterance.audio)
        if clipped > cfg.max_clipped_fraction:
            return (f"{trigger}: {clipped:.1%} of the samples are clipped (input gain too high; "
                    f"max_clipped_fraction = {cfg.max_clipped_fraction:g}), ignored")
        return None

    # ---- worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while (self._pending is None and self._vocab_wanted == self._vocab_applied
                       and not self._closed):
                    self._wake.wait(timeout=0.5)
                if self._closed:
                    return
                pending, self._pending = self._pending, None
                vocab = self._vocab_wanted
            try:
                if vocab != self._vocab_applied:
                    self._recognizer.set_vocabulary(list(vocab))
                    self._vocab_applied = vocab
                    self.vocabulary_updates += 1
                    self._log.info(f"vocabulary: {', '.join(vocab) or '(none)'}")
                if pending is not None:
                    self._transcribe(*pending)
            except Exception as err:  # noqa: BLE001 - the worker outlives the recogniser
                self._vocab_applied = vocab
                self._throttled("failed", "error", f"speech recognition failed: {err!r}")

    def _transcribe(self, utterance: Utterance, partial: bool) -> None:
        if partial:  # the partial decoder holds the same audio and may already have the words
            result = self._partials.release(utterance.end)
            report = self._partials.last_release
            if result is not None and report is not None and report.outcome == "reused":
                self.partials_reused += 1
            if result is not None:
                result = result.model_copy(update={"start": utterance.start,
                                                   "end": utterance.end})
            self.last_release_latency_s = time.monotonic() - self._released_wall
        else:
            result = self._recognizer.transcribe(utterance.audio, utterance.start, utterance.end)
        if result is None or not result.text.strip():
            self._throttled("no words", "info",
                            f"no words recognised in {utterance.duration:.1f} s of audio")
            return
        self._publish(result)

    def _publish(self, text: SpeechText) -> None:
        if self._closed:
            return
        self._publish_text(text)
        self.transcripts_published += 1
        self._log.info(f"heard ({text.backend}, {text.confidence:.2f}): {text.text!r}")

    def close(self) -> None:
        """Stop the worker, the partial decoder and the stop listeners (idempotent)."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        for listener in (self._stop, self._stop_segments):
            if listener is not None:
                listener.close()
        if self._partials is not None:
            self._partials.close()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=10.0)
