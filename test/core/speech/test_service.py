"""SpeechService without ROS: typed text, bad chunks, scene words, one latch per spoken stop.

The recogniser is pocketsphinx (fast to load) and the stop detector is off: what is checked
here is the service's own bookkeeping; speech_node's tests decode real speech through it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ifagent_ros.core.schemas import ObjectList, PerceivedObject, SpeechText
from ifagent_ros.core.speech.asr import AsrConfig
from ifagent_ros.core.speech.service import SpeechConfig, SpeechService, scene_words
from ifagent_ros.core.speech.sources import format_label


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str) -> None:
        self.lines.append(("info", message))

    def warning(self, message: str) -> None:
        self.lines.append(("warning", message))

    def error(self, message: str) -> None:
        self.lines.append(("error", message))


@pytest.fixture
def service() -> Iterator[Any]:
    out: dict[str, list[Any]] = {"texts": [], "latches": []}
    log = Log()
    svc = SpeechService(
        SpeechConfig(stop_always_on=False, partials=True, stop_refractory_s=0.5,
                     asr=AsrConfig(backend="pocketsphinx")),
        clock=time.monotonic, publish_text=out["texts"].append,
        latch=lambda heard, how: out["latches"].append(heard), log=log)
    svc.out, svc.log = out, log  # type: ignore[attr-defined]
    yield svc
    svc.close()


def test_typed_text_is_a_transcript_and_empty_text_is_refused(service: Any) -> None:
    service.typed("  move   left ")
    (text,) = service.out["texts"]
    assert (text.text, text.backend, text.confidence, text.in_grammar) == (
        "move left", "typed", 1.0, False)
    service.typed("   ")
    assert service.last_rejection == "ignored empty typed text"
    assert len(service.out["texts"]) == 1 and service.transcripts_published == 1


def test_a_chunk_with_a_wrong_layout_is_dropped_and_warned_once_a_second(service: Any) -> None:
    chunk = np.zeros(1024, np.int16)
    for _ in range(3):
        service.audio(chunk, [(format_label(rate=44100), 1024, 1)])
    assert service.chunks_received == 3 and service.chunks_rejected == 3
    assert "dropped /audio chunk" in service.last_rejection
    assert [level for level, _ in service.log.lines] == ["warning"]  # throttled
    service.audio(chunk, [(format_label(), 1024, 1)])
    assert service.chunks_rejected == 3


def test_scene_words_and_the_vocabulary_follow_the_objects(service: Any) -> None:
    def objects(*pairs: tuple[str, str]) -> ObjectList:
        return ObjectList(stamp=0.0, objects=[
            PerceivedObject(id=f"o{i}", color=c, label=lbl, position=(0.5, 0.0, 0.0),
                            size=(0.04, 0.04, 0.04), confidence=1.0)
            for i, (c, lbl) in enumerate(pairs)])

    assert scene_words(objects(("light blue", "mug"), ("red", "mug"))) == (
        "blue", "light", "mug", "red")
    service.objects(objects(("red", "block")))
    deadline = time.monotonic() + 5.0
    while service.vocabulary_updates < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert service.vocabulary == ("block", "red") and service.vocabulary_updates == 1


def test_a_stop_in_a_partial_latches_once_per_refractory_period(service: Any) -> None:
    stop = SpeechText(text="stop", confidence=0.9, backend="whisper", start=0.0, end=0.5)
    service._on_partial(stop)
    service._on_partial(stop)  # the same spoken stop heard again: no second latch
    service._on_partial(stop.model_copy(update={"text": "move left"}))
    assert service.out["latches"] == ["stop"] and service.stops_latched == 1
    time.sleep(0.55)
    service._on_partial(stop)
    assert service.stops_latched == 2
