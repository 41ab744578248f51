"""correction_node: ``/ifagent/speech/text`` -> ``/ifagent/correction`` (and ``/ifagent/estop``).

Thin wrapper around ``core/language``:

- Stop words ("stop", "halt", "freeze", also inside a longer sentence) go straight to the latched
  ``/ifagent/estop`` (``std_msgs/Bool`` True, reliable + transient-local) by a word match with no
  model in the path, before anything else happens, whatever the transcript's confidence.
- Everything else (speech and typed text alike) goes through
  :func:`~ifagent_ros.core.language.acceptance.accept_transcript`: it becomes a ``Correction``
  (schemas.py, grounded against the newest ``/ifagent/objects`` list) only when it parses fully
  or a near miss snaps to an in-grammar sentence by a measured phone distance ("Hold." -> halt,
  which then latches the e-stop too). Anything else is refused: ``unknown``, confidence 0,
  question "heard '…': not a correction", so nothing downstream moves. Every transcript also
  gets a ``SpeechStatus`` (correction / stop / snapped / refused) on ``status_topic``. A
  low-confidence transcript becomes ``unknown`` with a question; requests to change limits or
  disable safety are refused (``unknown`` + the refusal in ``question``) and logged. Nothing here
  can command anything but the correction and e-stop topics.
- Input is a ``SpeechText`` JSON (from speech_node, backend "typed" for typed text) or, for
  convenience, plain text (treated as typed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pydantic import ValidationError
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Bool, String

from ifagent_ros.core.language.acceptance import Verdict, accept_transcript
from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.schemas import (
    Correction,
    ObjectList,
    PerceivedObject,
    SpeechStatus,
    SpeechText,
)
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config
from ifagent_ros.nodes.topics import ESTOP_QOS


@dataclass(frozen=True)
class CorrectionNodeConfig:
    """correction_node's parameters (one per field, same names)."""

    speech_topic: str = topics.SPEECH_TEXT
    objects_topic: str = topics.OBJECTS
    correction_topic: str = topics.CORRECTION
    estop_topic: str = topics.ESTOP
    status_topic: str = topics.SPEECH_STATUS  # SpeechStatus JSON: what became of each transcript
    min_confidence: float = 0.3  # below this a transcript is no command (a stop still is)
    objects_max_age_s: float = 5.0  # older object lists are not used for grounding
    max_text_chars: int = 500

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if self.max_text_chars < 1:
            raise ValueError(f"max_text_chars must be >= 1, got {self.max_text_chars}")


class CorrectionNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "correction_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        from ifagent_ros.core.language.parser import CorrectionParser

        self.config = cfg = declare_config(self, CorrectionNodeConfig)
        self._min_confidence = cfg.min_confidence
        self._objects_max_age = cfg.objects_max_age_s
        self._max_chars = cfg.max_text_chars
        self._parser = CorrectionParser()
        self._objects: list[PerceivedObject] | None = None
        self._objects_received = 0.0  # time.monotonic()
        self._previous: Correction | None = None
        self.stops_sent = 0
        self.rejected = 0  # unknown with confidence 0: garbage, refusals
        self._pub_correction = self.create_publisher(String, cfg.correction_topic, 10)
        self._pub_estop = self.create_publisher(Bool, cfg.estop_topic, ESTOP_QOS)
        self._pub_status = self.create_publisher(String, cfg.status_topic, 10)
        self.create_subscription(String, cfg.speech_topic, self._on_speech, 10)
        self.create_subscription(String, cfg.objects_topic, self._on_objects, 10)
        self.get_logger().info(f"corrections: {cfg.speech_topic} -> {cfg.correction_topic}, "
                               f"stop -> {cfg.estop_topic}")

    def _on_objects(self, msg: String) -> None:
        try:
            objects = ObjectList.model_validate_json(msg.data)
        except ValidationError as err:
            self.get_logger().warning(f"ignoring a malformed object list: {err.errors()[0]}",
                                      throttle_duration_sec=1.0)
            return
        self._objects = list(objects.objects)
        self._objects_received = time.monotonic()

    def _speech(self, data: str) -> SpeechText:
        try:
            return SpeechText.model_validate_json(data)
        except ValidationError:
            now = self.get_clock().now().nanoseconds * 1e-9
            return SpeechText(text=data, confidence=1.0, backend="typed", start=now, end=now)

    def _on_speech(self, msg: String) -> None:
        speech = self._speech(msg.data)
        text = speech.text
        # Safety first: a stop word stops the robot before parsing, whatever else was said.
        stopped = is_stop(text)
        if stopped:
            self._latch_estop(text)
        verdict: Verdict | None = None
        if len(text) > self._max_chars:
            correction = Correction(
                type="unknown", text=text[:80], confidence=0.0, stamp=speech.end,
                question=f"That was {len(text)} characters; please say one short correction.")
        elif speech.confidence < self._min_confidence and not stopped:
            correction = Correction(
                type="unknown", text=text, confidence=speech.confidence, stamp=speech.end,
                question="Sorry, I did not catch that. Could you say it again?")
        else:
            fresh = time.monotonic() - self._objects_received <= self._objects_max_age
            objects = self._objects if fresh else None
            verdict = accept_transcript(text, objects=objects, previous=self._previous,
                                        stamp=speech.end, parser=self._parser)
            correction = verdict.correction
            if verdict.snapped_from is None:
                correction = correction.model_copy(update={"text": text})
            if correction.type == "stop" and not stopped:  # a near miss snapped to "halt"
                self._latch_estop(text)
        if correction.type == "unknown" and correction.question and correction.confidence == 0.0:
            self.rejected += 1
            self.get_logger().warning(f"not a command: {text[:80]!r}: {correction.question}",
                                      throttle_duration_sec=0.5)
        if correction.type not in ("unknown", "stop"):
            self._previous = correction
        self._pub_correction.publish(String(data=correction.model_dump_json()))
        self._publish_status(speech.end, text, correction, verdict)

    def _latch_estop(self, text: str) -> None:
        self._pub_estop.publish(Bool(data=True))
        self.stops_sent += 1
        self.get_logger().warning(f"STOP heard in {text[:80]!r}: e-stop latched")

    def _publish_status(self, stamp: float, heard: str, correction: Correction,
                        verdict: Verdict | None) -> None:
        if verdict is not None:
            kind, message, snapped_from = verdict.kind, verdict.reason, verdict.snapped_from
        else:
            kind = "stop" if correction.type == "stop" else "refused"
            message, snapped_from = correction.question or "", None
        status = SpeechStatus(stamp=stamp, heard=heard[:500], verdict=kind, message=message,
                              snapped_from=snapped_from)
        self._pub_status.publish(String(data=status.model_dump_json()))

    def close(self) -> None:
        """Nothing outside ROS to release (idempotent)."""


NODE_CLASS = CorrectionNode


def main(args: list[str] | None = None) -> None:
    run_node(CorrectionNode, args)


if __name__ == "__main__":
    main()
