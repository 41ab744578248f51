"""speech_node: ``/audio`` (+ push-to-talk on ``/joy``) -> ``/ifagent/speech/text`` (JSON).

Thin wrapper around :mod:`ifagent_ros.core.speech` (recogniser, VAD, utterance cutting).

- ``mode: push_to_talk``: audio is kept while button ``ptt_button`` is held; on release (plus
  ``ptt_release_delay_s`` for the last chunk to arrive) that stretch is transcribed.
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
from typing import Any

import numpy as np
from pydantic import ValidationError
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import Int16MultiArray, String

from ifagent_ros.core.schemas import ObjectList, SpeechText
from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer
from ifagent_ros.core.speech.sources import AudioFormatError, check_layout
from ifagent_ros.core.speech.utterance import AudioHistory, Utterance, is_silent
from ifagent_ros.core.speech.vad import VadConfig, VoiceActivityDetector
from ifagent_ros.nodes.node_main import run_node

MODES = ("push_to_talk", "hands_free")

PARAMETERS: dict[str, Any] = {
    "audio_topic": "/audio",
    "joy_topic": "/joy",
    "objects_topic": "/ifagent/objects",
    "typed_topic": "/ifagent/speech/typed",
    "text_topic": "/ifagent/speech/text",
    "mode": "push_to_talk",
    "ptt_button": 0,  # A on the Xbox layout (docs/spine_contract.md)
    "ptt_release_delay_s": 0.1,  # wait this long after release for the last audio chunk
    "max_utterance_s": 15.0,
    "min_utterance_s": 0.2,
    "silence_threshold_dbfs": -50.0,
    "no_audio_warning_s": 1.0,  # warn when the button is held this long with no /audio
    "asr.backend": "pocketsphinx",
    "asr.whisper_model_path": "",
    "asr.device": "cpu",
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
        self._button = int(par["ptt_button"])
        self._release_delay = float(par["ptt_release_delay_s"])
        self._no_audio_warning = float(par["no_audio_warning_s"])

        self._recognizer = make_recognizer(self._asr_config(par))
        self._vad = self._make_vad(par) if self.mode == "hands_free" else None
        # A little more than one utterance, so a VAD segment's padding is still held.
        self._history = AudioHistory(self._max_utterance + 2.0)

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: Utterance | None = None
        self._closed = False
        self._pressed_at: int | None = None  # stream index at the press; None: not held
        self._pressed_wall = 0.0
        self._release_due: float | None = None  # time.monotonic() when to cut
        self._last_audio_wall = 0.0
        self._vocab_wanted: tuple[str, ...] = ()
        self._vocab_applied: tuple[str, ...] = ()

        self.vocabulary: tuple[str, ...] = ()  # as last derived from /ifagent/objects
        self.vocabulary_updates = 0  # times set_vocabulary was called
        self.chunks_received = 0
        self.chunks_rejected = 0
        self.utterances_dropped = 0
        self.transcripts_published = 0
        self.last_rejection: str | None = None

        self._pub = self.create_publisher(String, str(par["text_topic"]), 10)
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
        self.get_logger().info(f"speech ({par['asr.backend']}, {trigger}): {par['audio_topic']}"
                               f" -> {par['text_topic']}")

    @staticmethod
    def _asr_config(par: dict[str, Any]) -> AsrConfig:
        return AsrConfig(backend=str(par["asr.backend"]),
                         whisper_model_path=str(par["asr.whisper_model_path"]),
                         device=str(par["asr.device"]))

    @staticmethod
    def _make_vad(par: dict[str, Any]) -> VoiceActivityDetector:
        return VoiceActivityDetector(VadConfig(threshold=float(par["vad.threshold"]),
                                               min_silence_ms=int(par["vad.min_silence_ms"]),
                                               min_speech_ms=int(par["vad.min_speech_ms"]),
                                               speech_pad_ms=int(par["vad.speech_pad_ms"])))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _reject(self, why: str) -> None:
        self.last_rejection = why
        self.get_logger().warning(why, throttle_duration_sec=1.0)

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
        self._last_audio_wall = time.monotonic()
        self._history.append(samples, self._now())
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
        elif not held and self._pressed_at is not None and self._release_due is None:
            self._release_due = time.monotonic() + self._release_delay

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
        utterance = self._history.slice(start, end, max_s=self._max_utterance)
        if utterance is None:
            self._reject(f"{trigger}: no audio received on {self._par['audio_topic']}")
            return
        if utterance.truncated:
            self._reject(f"{trigger}: utterance longer than max_utterance_s = "
                         f"{self._max_utterance:g} s, kept the last {self._max_utterance:g} s")
        if utterance.duration < self._min_utterance:
            self._reject(f"{trigger}: {utterance.duration:.2f} s of audio is shorter than "
                         f"min_utterance_s = {self._min_utterance:g} s, ignored")
            return
        if is_silent(utterance.audio, self._silence_dbfs):
            self._reject(f"{trigger}: silence (below {self._silence_dbfs:g} dBFS), ignored")
            return
        with self._lock:
            if self._pending is not None:
                self.utterances_dropped += 1
                self.get_logger().warning("recogniser busy: dropped the older waiting utterance",
                                          throttle_duration_sec=1.0)
            self._pending = utterance
            self._wake.notify()

    # ---- worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while (self._pending is None and self._vocab_wanted == self._vocab_applied
                       and not self._closed):
                    self._wake.wait(timeout=0.5)
                if self._closed:
                    return
                utterance, self._pending = self._pending, None
                vocab = self._vocab_wanted
            try:
                if vocab != self._vocab_applied:
                    self._recognizer.set_vocabulary(list(vocab))
                    self._vocab_applied = vocab
                    self.vocabulary_updates += 1
                    self.get_logger().info(f"vocabulary: {', '.join(vocab) or '(none)'}")
                if utterance is not None:
                    self._transcribe(utterance)
            except Exception as err:  # keep the worker alive whatever the recogniser does
                self._vocab_applied = vocab
                self.get_logger().error(f"speech recognition failed: {err!r}",
                                        throttle_duration_sec=1.0)

    def _transcribe(self, utterance: Utterance) -> None:
        result = self._recognizer.transcribe(utterance.audio, utterance.start, utterance.end)
        if not result.text.strip():
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
        """Stop the worker thread (idempotent)."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=10.0)


NODE_CLASS = SpeechNode


def main(args: list[str] | None = None) -> None:
    run_node(SpeechNode, args)


if __name__ == "__main__":
    main()
