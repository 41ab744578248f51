"""speech_node: ``/audio`` (+ push-to-talk on ``/joy``) -> ``/ifagent/speech/text`` (JSON), and
stop words heard at any time -> ``/ifagent/estop``.

Thin wrapper around :mod:`ifagent_ros.core.speech` (recognisers, partial decoding, the stop
detector, VAD, utterance cutting).

- The recogniser is ``asr.backend`` (default ``whisper``: Whisper base through CTranslate2, with
  ``asr.model``, ``asr.device``, ``asr.threads``). A Whisper that cannot load (weights missing
  or corrupt, runtime missing) is logged once, naming the package to install, and pocketsphinx
  takes over; the node stays up.
- Stop words never wait (``stop_always_on``, default true): every accepted ``/audio`` chunk also
  goes to two stop paths, each in its own thread, push-to-talk held or not: pocketsphinx
  keyphrase spotting (fast, ~35 ms after the word) and, with ``stop_segments``, short voiced
  segments decoded by Whisper with a stop-word prompt (precise, slower). Either latches
  ``/ifagent/estop`` (std_msgs/Bool True, reliable + transient-local) at once, with no parser in
  the path, once per ``stop_refractory_s``, and says so on ``status_topic``. A stop word in a
  partial transcript while push-to-talk is held latches too.
- ``mode: push_to_talk``: audio is kept while button ``ptt_button`` is held. With ``partials``
  (default) the recogniser decodes the growing buffer while the button is held; on release (plus
  ``ptt_release_delay_s`` for the last chunk to arrive) the last partial is published when it
  covers all the speech, else the whole stretch is decoded once more.
  ``mode: hands_free``: a voice-activity detector cuts the stream into utterances.
- Utterances longer than ``max_utterance_s`` keep their newest ``max_utterance_s`` (logged).
- Transcription runs in a worker thread fed by a one-utterance slot: an utterance that arrives
  while the worker is busy waits in the slot, and a newer one replaces it (dropped, logged), so
  nothing queues without bound and the executor never blocks on the recogniser.
- ``/ifagent/objects`` sets the recogniser's vocabulary (object colours and labels), only when
  that vocabulary changes; the worker applies it before its next transcription.
- ``/ifagent/speech/typed`` (``std_msgs/String``) is passed through as ``SpeechText`` with
  backend ``typed``, confidence 1, ``in_grammar`` false (typed text is free-form).
- ``SpeechText.start``/``end`` are the node clock's stamps of the utterance's first and last
  sample, dated from each chunk's arrival (``/audio`` carries no header).

Bad input never produces a transcript: chunks that are empty or whose layout says another rate
or channel count are dropped (throttled warning); an utterance that is silent (RMS below
``silence_threshold_dbfs``), shorter than ``min_utterance_s`` or without any audio (button held
with no ``/audio``) is logged and not transcribed; an empty transcript is not published.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import ValidationError
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import Bool, Int16MultiArray, String

from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.schemas import ObjectList, SpeechStatus, SpeechText
from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer_with_fallback
from ifagent_ros.core.speech.audio import clipped_fraction
from ifagent_ros.core.speech.sources import AudioFormatError, check_layout
from ifagent_ros.core.speech.stop_listener import HeardStop, StopListener, StopListenerConfig
from ifagent_ros.core.speech.utterance import AudioHistory, Utterance, is_silent
from ifagent_ros.core.speech.vad import VadConfig, VoiceActivityDetector
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node

MODES = ("push_to_talk", "hands_free")

PARAMETERS: dict[str, Any] = {
    "audio_topic": topics.AUDIO,
    "joy_topic": "/joy",
    "objects_topic": topics.OBJECTS,
    "typed_topic": topics.SPEECH_TYPED,
    "text_topic": topics.SPEECH_TEXT,
    "estop_topic": topics.ESTOP,
    "status_topic": topics.SPEECH_STATUS,
    "mode": "push_to_talk",
    "ptt_button": 0,  # A on the Xbox layout (docs/spine_contract.md)
    "ptt_release_delay_s": 0.1,  # wait this long after release for the last audio chunk
    "max_utterance_s": 15.0,
    "min_utterance_s": 0.2,
    "silence_threshold_dbfs": -50.0,
    "max_clipped_fraction": 0.01,  # more clipped samples: a distorted utterance, not decoded
    "no_audio_warning_s": 1.0,  # warn when the button is held this long with no /audio
    "stop_always_on": True,  # the stop detector hears every chunk, push-to-talk or not
    "stop_max_backlog_s": 2.0,  # stop-detector queue beyond this: a flood, the oldest dropped
    # a second, precise stop path: short voiced segments decoded by Whisper (stop_segments.py)
    "stop_segments": True,
    "stop_refractory_s": 1.0,  # one latch (and one status) per spoken stop, whichever path
    "partials": True,  # decode while push-to-talk is held (push_to_talk mode)
    "partial_min_new_s": 0.3,  # new audio that starts another partial decode
    "asr.backend": "whisper",
    "asr.model": "base",
    "asr.device": "auto",
    "asr.threads": 2,
    "vad.threshold": 0.5,
    "vad.min_silence_ms": 300,
    "vad.min_speech_ms": 250,
    "vad.speech_pad_ms": 100,
}


class SpeechNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "speech_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        dyn = ParameterDescriptor(dynamic_typing=True)
        par = {name: self.declare_parameter(name, default, dyn).value
               for name, default in PARAMETERS.items()}
        self._par = par
        self.mode = str(par["mode"])
        if self.mode not in MODES:
            raise ValueError(f"parameter mode must be one of {MODES}, got {self.mode!r}")
        self._max_utterance = float(par["max_utterance_s"])
        self._min_utterance = float(par["min_utterance_s"])
        self._silence_dbfs = float(par["silence_threshold_dbfs"])
        self._max_clipped = float(par["max_clipped_fraction"])
        self._button = int(par["ptt_button"])
        self._release_delay = float(par["ptt_release_delay_s"])
        self._no_audio_warning = float(par["no_audio_warning_s"])

        self._recognizer = make_recognizer_with_fallback(
            self._asr_config(par), log=self.get_logger().error)
        self.backend = type(self._recognizer).__name__
        self._vad = self._make_vad(par) if self.mode == "hands_free" else None
        # A little more than one utterance, so a VAD segment's padding is still held.
        self._history = AudioHistory(self._max_utterance + 2.0)
        self._partials = self._make_partials(par) if self.mode == "push_to_talk" else None

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: tuple[Utterance, bool] | None = None  # (audio, use the partials)
        self._closed = False
        self._pressed_at: int | None = None  # stream index at the press; None: not held
        self._pressed_wall = 0.0
        self._release_due: float | None = None  # time.monotonic() when to cut
        self._released_wall = 0.0  # time.monotonic() of the last release (latency log)
        self._last_audio_wall = 0.0
        self._vocab_wanted: tuple[str, ...] = ()
        self._vocab_applied: tuple[str, ...] = ()

        self.vocabulary: tuple[str, ...] = ()  # as last derived from /ifagent/objects
        self.vocabulary_updates = 0  # times set_vocabulary was called
        self.chunks_received = 0
        self.chunks_rejected = 0
        self.utterances_dropped = 0
        self.transcripts_published = 0
        self.stops_latched = 0
        self.partials_reused = 0
        self.last_release_latency_s: float | None = None
        self.last_rejection: str | None = None

        self._pub = self.create_publisher(String, str(par["text_topic"]), 10)
        self._pub_estop = self.create_publisher(Bool, str(par["estop_topic"]), topics.ESTOP_QOS)
        self._pub_status = self.create_publisher(String, str(par["status_topic"]), 10)
        self._latch_lock = threading.Lock()
        self._last_latch = -1e9  # time.monotonic() of the last latch
        self._refractory = float(par["stop_refractory_s"])
        self._stop = self._make_stop_listener(par) if par["stop_always_on"] else None
        self._stop_segments = (self._make_segment_listener(par)
                               if par["stop_always_on"] and par["stop_segments"] else None)
        self.create_subscription(Int16MultiArray, str(par["audio_topic"]), self._on_audio, 100)
        self.create_subscription(String, str(par["objects_topic"]), self._on_objects, 1)
        self.create_subscription(String, str(par["typed_topic"]), self._on_typed, 10)
        if self.mode == "push_to_talk":
            self.create_subscription(Joy, str(par["joy_topic"]), self._on_joy, 10)
        self._timer = self.create_timer(0.02, self._tick)
        self._worker = threading.Thread(target=self._run, name="speech-asr", daemon=True)
        self._worker.start()
        trigger = (f"push-to-talk button {self._button} on {par['joy_topic']}"
                   if self.mode == "push_to_talk" else "voice activity")
        paths = " + Whisper segments" if self._stop_segments is not None else ""
        stops = (f", stop words (keyphrases{paths}) -> {par['estop_topic']} always"
                 if self._stop is not None else ", stop detector OFF")
        self.get_logger().info(f"speech ({self.backend}, {trigger}): {par['audio_topic']}"
                               f" -> {par['text_topic']}{stops}")

    @staticmethod
    def _asr_config(par: dict[str, Any]) -> AsrConfig:
        return AsrConfig(backend=str(par["asr.backend"]), model=str(par["asr.model"]),
                         device=str(par["asr.device"]), threads=int(par["asr.threads"]))

    @staticmethod
    def _make_vad(par: dict[str, Any]) -> VoiceActivityDetector:
        return VoiceActivityDetector(VadConfig(threshold=float(par["vad.threshold"]),
                                               min_silence_ms=int(par["vad.min_silence_ms"]),
                                               min_speech_ms=int(par["vad.min_speech_ms"]),
                                               speech_pad_ms=int(par["vad.speech_pad_ms"])))

    def _make_partials(self, par: dict[str, Any]) -> Any:
        if not par["partials"]:
            return None
        from ifagent_ros.core.speech.partial_decoding import PushToTalkDecoder

        return PushToTalkDecoder(self._recognizer, min_new_s=float(par["partial_min_new_s"]),
                                 max_utterance_s=self._max_utterance,
                                 on_partial=self._on_partial)

    def _make_stop_listener(self, par: dict[str, Any]) -> StopListener:
        from ifagent_ros.core.speech.stop_detector import StopDetector

        return StopListener(StopDetector(), self._on_stop,
                            StopListenerConfig(max_backlog_s=float(par["stop_max_backlog_s"])))

    def _make_segment_listener(self, par: dict[str, Any]) -> StopListener | None:
        from ifagent_ros.core.speech.stop_segments import SegmentStopConfig, SegmentStopSpotter

        config = SegmentStopConfig()
        config.asr = replace(config.asr, model=str(par["asr.model"]),
                             device=str(par["asr.device"]), threads=int(par["asr.threads"]))
        try:
            spotter = SegmentStopSpotter(config)
        except Exception as err:  # noqa: BLE001 - the keyphrase path still runs without it
            self.get_logger().error(f"segment stop path off (Whisper did not load: {err}); "
                                    f"the keyphrase stop detector still runs")
            return None
        # a Whisper decode of one segment takes 0.3-1.2 s on 2 busy cores: give it more room
        backlog = max(float(par["stop_max_backlog_s"]), 5.0)
        return StopListener(spotter, self._on_stop, StopListenerConfig(max_backlog_s=backlog))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _reject(self, why: str) -> None:
        self.last_rejection = why
        self.get_logger().warning(why, throttle_duration_sec=1.0)

    # ---- the stop paths (stop-listener and partial-decoder threads) -------------------------
    def _on_stop(self, heard: HeardStop) -> None:
        lag_ms = (time.monotonic() - heard.pushed_at) * 1000.0
        self._latch(heard.phrase, f"score {heard.score:.0f}, {lag_ms:.0f} ms after its audio "
                                  f"arrived")  # fmt: skip

    def _on_partial(self, text: SpeechText) -> None:
        """A partial transcript while the button is still held: a stop word latches now."""
        if is_stop(text.text):
            self._latch(text.text, "in a partial transcript, push-to-talk still held")

    def _latch(self, heard: str, how: str) -> None:
        if self._closed:
            return
        with self._latch_lock:  # both stop paths may hear the same word: latch once
            now = time.monotonic()
            if now - self._last_latch < self._refractory:
                return
            self._last_latch = now
        self._pub_estop.publish(Bool(data=True))
        self.stops_latched += 1
        self.get_logger().warning(f"STOP heard ({heard!r}, {how}): e-stop latched")
        status = SpeechStatus(stamp=self._now(), heard=heard, verdict="stop",
                              message=f"heard '{heard}': e-stop latched")
        self._pub_status.publish(String(data=status.model_dump_json()))

    # ---- subscriptions (executor thread: bookkeeping only) ---------------------------------
    def _on_audio(self, msg: Int16MultiArray) -> None:
        self.chunks_received += 1
        samples = np.asarray(msg.data, dtype=np.int16)
        dims = [(d.label, int(d.size), int(d.stride)) for d in msg.layout.dim]
        try:
            check_layout(dims, samples.size)
        except AudioFormatError as err:
            self.chunks_rejected += 1
            self._reject(f"dropped /audio chunk: {err}")
            return
        for listener in (self._stop, self._stop_segments):  # first: stops never wait
            if listener is None:
                continue
            if listener.push(samples):  # this chunk overflowed its queue: a flood
                self._reject(f"audio flood: a stop path is {listener.backlog_s:.1f} s "
                             f"behind, dropped {listener.dropped_samples} samples (oldest)")
        self._last_audio_wall = time.monotonic()
        self._history.append(samples, self._now())
        if self._partials is not None and self._pressed_at is not None:
            self._partials.feed(samples)
        if self._vad is not None:
            for seg in self._vad.push(samples):
                self._cut(seg.start, seg.end, "voice activity")

    def _on_joy(self, msg: Joy) -> None:
        if self._button >= len(msg.buttons):
            self._reject(f"Joy has {len(msg.buttons)} buttons, no push-to-talk button "
                         f"{self._button}")
            held = False
        else:
            held = bool(msg.buttons[self._button])
        if held and self._pressed_at is None:
            if self._release_due is not None:  # pressed again before the last cut: cut now
                self._finish_release()
            self._pressed_at = self._history.end_index
            self._pressed_wall = time.monotonic()
            if self._partials is not None:
                self._partials.press(self._now())
        elif not held and self._pressed_at is not None and self._release_due is None:
            self._released_wall = time.monotonic()
            self._release_due = self._released_wall + self._release_delay

    def _on_objects(self, msg: String) -> None:
        try:
            objects = ObjectList.model_validate_json(msg.data)
        except ValidationError as err:
            self._reject(f"bad {self._par['objects_topic']} message: {err.errors()[0]['msg']}")
            return
        words = tuple(sorted({w for o in objects.objects for w in (*o.color.split(),
                                                                     *o.label.split())}))
        if words != self.vocabulary:
            self.vocabulary = words
            with self._lock:
                self._vocab_wanted = words
                self._wake.notify()

    def _on_typed(self, msg: String) -> None:
        text = " ".join(msg.data.split())
        if not text:
            self._reject("ignored empty typed text")
            return
        now = self._now()
        self._publish(SpeechText(text=text, confidence=1.0, backend="typed", start=now, end=now,
                                 in_grammar=False))

    # ---- push-to-talk timing (timer) -------------------------------------------------------
    def _tick(self) -> None:
        now = time.monotonic()
        if self._release_due is not None and now >= self._release_due:
            self._finish_release()
        elif (self._pressed_at is not None and self._release_due is None
              and now - max(self._pressed_wall, self._last_audio_wall) > self._no_audio_warning):
            self._reject(f"push-to-talk held but no audio on {self._par['audio_topic']}")

    def _finish_release(self) -> None:
        start, self._pressed_at, self._release_due = self._pressed_at, None, None
        if start is not None:
            self._cut(start, None, "push-to-talk")

    def _cut(self, start: int, end: int | None, trigger: str) -> None:
        """Check the stretch ``[start, end)`` and hand it to the worker (or refuse it)."""
        partial = self._partials is not None and trigger == "push-to-talk"
        utterance = self._history.slice(start, end, max_s=self._max_utterance)
        why = self._bad_utterance(utterance, trigger)
        if why is not None:
            self._reject(why)
            if partial:
                self._partials.cancel()
            return
        assert utterance is not None
        if utterance.truncated:
            self._reject(f"{trigger}: utterance longer than max_utterance_s = "
                         f"{self._max_utterance:g} s, kept the last {self._max_utterance:g} s")
        with self._lock:
            if self._pending is not None:
                self.utterances_dropped += 1
                self.get_logger().warning("recogniser busy: dropped the older waiting utterance",
                                          throttle_duration_sec=1.0)
            self._pending = (utterance, partial)
            self._wake.notify()

    def _bad_utterance(self, utterance: Utterance | None, trigger: str) -> str | None:
        """Why this stretch must not reach the recogniser (None: it may)."""
        if utterance is None:
            return f"{trigger}: no audio received on {self._par['audio_topic']}"
        if utterance.duration < self._min_utterance:
            return (f"{trigger}: {utterance.duration:.2f} s of audio is shorter than "
                    f"min_utterance_s = {self._min_utterance:g} s, ignored")
        if is_silent(utterance.audio, self._silence_dbfs):
            return f"{trigger}: silence (below {self._silence_dbfs:g} dBFS), ignored"
        clipped = clipped_fraction(utterance.audio)
        if clipped > self._max_clipped:
            return (f"{trigger}: {clipped:.1%} of the samples are clipped (input gain too high; "
                    f"max_clipped_fraction = {self._max_clipped:g}), ignored")
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
                    self.get_logger().info(f"vocabulary: {', '.join(vocab) or '(none)'}")
                if pending is not None:
                    self._transcribe(*pending)
            except Exception as err:  # keep the worker alive whatever the recogniser does
                self._vocab_applied = vocab
                self.get_logger().error(f"speech recognition failed: {err!r}",
                                        throttle_duration_sec=1.0)

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
            self.get_logger().info(f"no words recognised in {utterance.duration:.1f} s of audio",
                                   throttle_duration_sec=1.0)
            return
        self._publish(result)

    def _publish(self, text: SpeechText) -> None:
        if self._closed:
            return
        self._pub.publish(String(data=text.model_dump_json()))
        self.transcripts_published += 1
        self.get_logger().info(f"heard ({text.backend}, {text.confidence:.2f}): {text.text!r}")

    def close(self) -> None:
        """Stop the worker, the partial decoder and the stop listener (idempotent)."""
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


NODE_CLASS = SpeechNode


def main(args: list[str] | None = None) -> None:
    run_node(SpeechNode, args)


if __name__ == "__main__":
    main()
