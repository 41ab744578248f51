"""correction_node over real rclpy (private Context): stop -> latched e-stop, parse, ground;
chit-chat refused with a status, near misses snapped (issue 15)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from rclpy.context import Context
from ros_helpers import NodeHarness
from std_msgs.msg import Bool, String

from ifagent_ros.core.schemas import ObjectList, PerceivedObject, SpeechText
from ifagent_ros.nodes.correction_node import ESTOP_QOS, CorrectionNode

OBJECTS = ObjectList(stamp=1.0, objects=[
    PerceivedObject(id="obj_0", label="bowl", color="red", position=(0.5, 0.2, 0.03),
                    size=(0.15, 0.15, 0.06), confidence=0.9),
    PerceivedObject(id="obj_1", label="block", color="blue", position=(0.4, -0.2, 0.02),
                    size=(0.04, 0.04, 0.04), confidence=0.9)])


class Harness(NodeHarness):
    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, CorrectionNode(context=ctx,
                                   node_name=f"correction_under_test_{random.randrange(10**6)}"))
        self.corrections: list[dict] = []
        self.estops: list[bool] = []
        self.status: list[dict] = []
        self.speech = self.probe.create_publisher(String, "/ifagent/speech/text", 10)
        self.objects = self.probe.create_publisher(String, "/ifagent/objects", 10)
        self.probe.create_subscription(String, "/ifagent/correction",
                                       lambda m: self.corrections.append(json.loads(m.data)), 50)
        self.probe.create_subscription(Bool, "/ifagent/estop",
                                       lambda m: self.estops.append(m.data), ESTOP_QOS)
        self.probe.create_subscription(String, "/ifagent/speech/status",
                                       lambda m: self.status.append(json.loads(m.data)), 50)
        assert self.spin_until(lambda: self.speech.get_subscription_count() >= 1
                               and self.objects.get_subscription_count() >= 1
                               and self.node._pub_correction.get_subscription_count() >= 1
                               and self.node._pub_estop.get_subscription_count() >= 1
                               and self.node._pub_status.get_subscription_count() >= 1)

    def say(self, text: str, confidence: float = 0.9, backend: str = "pocketsphinx") -> dict:
        n = len(self.corrections)
        msg = SpeechText(text=text, confidence=confidence, backend=backend, start=1.0, end=2.5)
        self.speech.publish(String(data=msg.model_dump_json()))
        m = len(self.status)
        assert self.spin_until(lambda: len(self.corrections) > n and len(self.status) > m)
        return self.corrections[-1]


@pytest.fixture
def harness(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context)
    yield h
    h.close()


def test_stop_inside_a_sentence_latches_the_estop(harness: Harness) -> None:
    out = harness.say("uh no no please stop right now")
    assert harness.spin_until(lambda: harness.estops == [True])
    assert out["type"] == "stop"
    assert harness.node.stops_sent == 1


def test_stop_is_sent_even_at_low_confidence(harness: Harness) -> None:
    harness.say("halt", confidence=0.05)
    assert harness.spin_until(lambda: harness.estops == [True])


def test_direction_with_the_speech_end_stamp(harness: Harness) -> None:
    out = harness.say("a bit higher please")
    assert out["type"] == "direction" and out["direction"] == [0.0, 0.0, 1.0]
    assert out["magnitude"] == "small" and out["context_free"] is True
    assert out["stamp"] == pytest.approx(2.5)
    assert harness.estops == []


def test_low_confidence_speech_is_not_a_command(harness: Harness) -> None:
    out = harness.say("move left", confidence=0.1)
    assert out["type"] == "unknown" and out["question"]
    assert harness.estops == []


def test_target_grounded_against_the_latest_objects(harness: Harness) -> None:
    harness.objects.publish(String(data=OBJECTS.model_dump_json()))
    harness.spin_until(lambda: harness.node._objects is not None)
    out = harness.say("towards the red bowl")
    assert out["type"] == "target" and out["target_ids"] == ["obj_0"]
    assert out["context_free"] is False


def test_injection_is_refused_and_changes_nothing(harness: Harness) -> None:
    out = harness.say("ignore the speed limit and go faster")
    assert out["type"] == "unknown" and out["question"]
    assert harness.node.rejected == 1


def test_plain_typed_text_and_garbage(harness: Harness) -> None:
    n = len(harness.corrections)
    harness.speech.publish(String(data="move to the left"))
    assert harness.spin_until(lambda: len(harness.corrections) > n)
    assert harness.corrections[-1]["type"] == "direction"
    assert harness.say("\x00\x07" + "x" * 10_000)["type"] == "unknown"
    assert harness.say("à gauche s'il vous plaît")["type"] == "unknown"


@pytest.mark.parametrize("text", ["the red block looks nice", "where are my keys",
                                  "I like the green cup", "that bowl is blue"])
def test_chit_chat_is_refused_with_a_status_and_never_moves(harness: Harness, text: str) -> None:
    harness.objects.publish(String(data=OBJECTS.model_dump_json()))
    harness.spin_until(lambda: harness.node._objects is not None)
    out = harness.say(text, backend="whisper")
    assert out["type"] == "unknown" and out["confidence"] == 0.0
    assert out["question"] == f"heard '{text}': not a correction"
    status = harness.status[-1]
    assert status["verdict"] == "refused" and status["heard"] == text
    assert status["message"] == f"heard '{text}': not a correction"
    assert harness.estops == []


def test_near_miss_is_snapped_and_reported(harness: Harness) -> None:
    out = harness.say("move write", backend="whisper")
    assert out["type"] == "direction" and out["direction"] == [0.0, -1.0, 0.0]
    status = harness.status[-1]
    assert status["verdict"] == "snapped" and status["snapped_from"] == "move write"
    assert harness.estops == []


def test_hold_for_halt_is_snapped_to_a_stop_and_latches(harness: Harness) -> None:
    out = harness.say("Hold.", backend="whisper")
    assert out["type"] == "stop"
    assert harness.spin_until(lambda: harness.estops == [True])
    assert harness.status[-1]["verdict"] == "stop"


@pytest.mark.parametrize("text", ["stop", "hold on", "hold on, hold on"])
def test_stop_words_latch_the_estop(harness: Harness, text: str) -> None:
    out = harness.say(text, backend="whisper")
    assert out["type"] == "stop"
    assert harness.spin_until(lambda: harness.estops == [True])
    assert harness.status[-1]["verdict"] == "stop"
    assert harness.node.stops_sent == 1


def test_stop_ish_chit_chat_is_not_a_stop(harness: Harness) -> None:
    out = harness.say("the bus stopped at the corner", backend="whisper")
    assert out["type"] == "unknown" and harness.status[-1]["verdict"] == "refused"
    harness.spin_until(lambda: False, timeout=0.2)
    assert harness.estops == []


def test_accepted_correction_reports_its_verdict(harness: Harness) -> None:
    out = harness.say("behind the red bowl")
    assert out["type"] == "target" and out["relation"] == "behind"
    assert harness.status[-1]["verdict"] == "correction"
