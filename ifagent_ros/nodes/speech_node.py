"""speech_node: ``/audio`` (+ push-to-talk on ``/joy``) -> ``/ifagent/speech/text`` (JSON), and
stop words heard at any time -> ``/ifagent/estop``.

Thin wrapper around :class:`ifagent_ros.core.speech.service.SpeechService` (recognisers, partial
decoding, the stop detector, VAD, utterance cutting, the transcription worker); its settings,
:class:`~ifagent_ros.core.speech.service.SpeechConfig`, are this node's parameters.

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

from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Joy
from std_msgs.msg import Bool, Int16MultiArray, String

from ifagent_ros.core.schemas import ObjectList, SpeechStatus, SpeechText
from ifagent_ros.core.speech.service import SpeechConfig, SpeechService
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config

# AsrConfig fields speech_node sets itself rather than as parameters.
_ASR_FIXED = ("asr.sample_rate", "asr.max_utterance_s", "asr.vocabulary")


@dataclass(frozen=True)
class SpeechTopics:
    """speech_node's topics (parameters of the same names)."""

    audio_topic: str = topics.AUDIO
    joy_topic: str = topics.JOY
    objects_topic: str = topics.OBJECTS
    typed_topic: str = topics.SPEECH_TYPED
    text_topic: str = topics.SPEECH_TEXT
    estop_topic: str = topics.ESTOP
    status_topic: str = topics.SPEECH_STATUS


class SpeechNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "speech_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.topics = t = declare_config(self, SpeechTopics)
        self.config = cfg = declare_config(self, SpeechConfig, fixed=_ASR_FIXED)
        self.mode = cfg.mode
        self._pub = self.create_publisher(String, t.text_topic, 10)
        self._pub_estop = self.create_publisher(Bool, t.estop_topic, topics.ESTOP_QOS)
        self._pub_status = self.create_publisher(String, t.status_topic, 10)
        log = self.get_logger()
        self.speech = SpeechService(cfg, clock=self._now, publish_text=self._publish_text,
                                    latch=self._latch, log=log, audio_source=t.audio_topic)
        self.backend = self.speech.backend
        self.create_subscription(Int16MultiArray, t.audio_topic, self._on_audio, 100)
        self.create_subscription(String, t.objects_topic, self._on_objects, 1)
        self.create_subscription(String, t.typed_topic, self._on_typed, 10)
        if self.mode == "push_to_talk":
            self.create_subscription(Joy, t.joy_topic, self._on_joy, 10)
        self._timer = self.create_timer(0.02, self.speech.tick)
        trigger = (f"push-to-talk button {cfg.ptt_button} on {t.joy_topic}"
                   if self.mode == "push_to_talk" else "voice activity")
        paths = self.speech.stop_paths
        stops = (f", stop words ({paths}) -> {t.estop_topic} always" if paths
                 else ", stop detector OFF")
        log.info(f"speech ({self.backend}, {trigger}): {t.audio_topic} -> {t.text_topic}{stops}")

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # ---- outputs (any thread) ----------------------------------------------------------------
    def _latch(self, heard: str, how: str) -> None:
        self._pub_estop.publish(Bool(data=True))
        self.get_logger().warning(f"STOP heard ({heard!r}, {how}): e-stop latched")
        status = SpeechStatus(stamp=self._now(), heard=heard, verdict="stop",
                              message=f"heard '{heard}': e-stop latched")
        self._pub_status.publish(String(data=status.model_dump_json()))

    def _publish_text(self, text: SpeechText) -> None:
        self._pub.publish(String(data=text.model_dump_json()))

    # ---- subscriptions (executor thread) -----------------------------------------------------
    def _on_audio(self, msg: Int16MultiArray) -> None:
        dims = [(d.label, int(d.size), int(d.stride)) for d in msg.layout.dim]
        self.speech.audio(np.asarray(msg.data, dtype=np.int16), dims)

    def _on_joy(self, msg: Joy) -> None:
        button = self.config.ptt_button
        if button >= len(msg.buttons):
            self.speech.reject(f"Joy has {len(msg.buttons)} buttons, no push-to-talk button "
                               f"{button}")
            self.speech.button(False)
        else:
            self.speech.button(bool(msg.buttons[button]))

    def _on_objects(self, msg: String) -> None:
        try:
            objects = ObjectList.model_validate_json(msg.data)
        except ValidationError as err:
            self.speech.reject(f"bad {self.topics.objects_topic} message: "
                               f"{err.errors()[0]['msg']}")
            return
        self.speech.objects(objects)

    def _on_typed(self, msg: String) -> None:
        self.speech.typed(msg.data)

    def close(self) -> None:
        """Stop the worker, the partial decoder and the stop listeners (idempotent)."""
        self.speech.close()


NODE_CLASS = SpeechNode


def main(args: list[str] | None = None) -> None:
    run_node(SpeechNode, args)


if __name__ == "__main__":
    main()
