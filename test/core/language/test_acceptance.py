"""accept_transcript: a transcript is a correction only when it parses fully (issue 15)."""

from __future__ import annotations

import pytest

from ifagent_ros.core.language.acceptance import (
    SNAP_MAX_DISTANCE,
    SNAP_MIN_MARGIN,
    accept_transcript,
    grammar_words,
    nearest_keyword,
)
from ifagent_ros.core.language.corpus import field_matches, load_corpus, load_unrelated
from ifagent_ros.core.language.parser import parse_correction
from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.schemas import PerceivedObject

# Measured: 96.0 % of the held-out test corrections (99.0 % of dev) accepted exactly as labelled;
# the goal is 95 %.
MIN_TEST_ACCEPTANCE = 0.95
OBJECTS = [
    PerceivedObject(id="b1", label="bowl", color="red", position=(0.5, 0.1, 0.03),
                    size=(0.12, 0.12, 0.06), confidence=0.9),
    PerceivedObject(id="m1", label="mug", color="blue", position=(0.4, -0.2, 0.05),
                    size=(0.08, 0.08, 0.1), confidence=0.9),
]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_unrelated_sentence_is_refused(split: str) -> None:
    sentences = load_unrelated(split)
    assert len(sentences) >= 80
    accepted = []
    for text in sentences:
        for objects in (None, OBJECTS):
            v = accept_transcript(text, objects=objects, scene_words=("red", "bowl", "mug"))
            if v.accepted or v.correction.type != "unknown" or is_stop(text):
                accepted.append((text, v.correction.type, v.reason))
            else:
                assert v.correction.confidence == 0.0
                assert v.reason == f"heard '{text}': not a correction" == v.correction.question
    assert accepted == []


def test_the_unrelated_list_is_big_and_split() -> None:
    assert len(load_unrelated("all")) >= 150
    assert set(load_unrelated("dev")).isdisjoint(load_unrelated("test"))


@pytest.mark.parametrize("split", ["dev", "test"])
def test_corrections_are_accepted_exactly(split: str) -> None:
    rows = [u for u in load_corpus(split) if u.expected["type"] != "unknown"]
    good = []
    for u in rows:
        v = accept_transcript(u.text)
        good.append(v.accepted and field_matches(v.correction.model_dump(), u.expected)["all"])
    assert sum(good) / len(rows) >= MIN_TEST_ACCEPTANCE, [
        u.text for u, ok in zip(rows, good, strict=True) if not ok]


def test_corpus_unknowns_are_never_accepted_as_commands() -> None:
    for u in load_corpus("all"):
        if u.expected["type"] == "unknown":
            v = accept_transcript(u.text)
            assert not v.accepted and v.correction.type == "unknown", u.text


@pytest.mark.parametrize("word", ["is", "looks", "nice", "where", "like", "think", "my", "keys",
                                  "i"])
def test_words_of_talk_are_not_command_words(word: str) -> None:
    assert word not in grammar_words()


@pytest.mark.parametrize(("heard", "snapped", "kind"), [
    ("Hold.", "halt", "stop"), ("move write", "move right", "direction"),
    ("hire", "higher", "direction"), ("undue that", "undo that", "undo"),
    ("go hi", "go high", "direction"), ("clothes it", "close it", "gripper"),
    ("tilt it dawn", "tilt it down", "rotation"),
    ("rotates the wrist clockwise", "rotate the wrist cw", "rotation"),
    ("go lightly forward", "go slightly forward", "direction"),
])
def test_near_misses_snap(heard: str, snapped: str, kind: str) -> None:
    v = accept_transcript(heard)
    assert v.accepted and v.kind in ("snapped", "stop") and v.snapped_from == heard
    assert v.correction.type == kind and v.correction.text == snapped


@pytest.mark.parametrize("heard", [
    "bless you", "a bit to the table", "abject to the left", "the mug looks bus", "where is up",
    "left is nice", "banana", "go bananas", "tilt it wherever",
])
def test_far_words_and_talk_are_not_snapped(heard: str) -> None:
    v = accept_transcript(heard)
    assert not v.accepted and v.correction.type == "unknown" and v.snapped_from is None


def test_a_snap_needs_both_the_distance_and_the_margin() -> None:
    snap = nearest_keyword("hold")
    assert snap is not None and snap.to == "halt" and snap.distance <= SNAP_MAX_DISTANCE
    assert not accept_transcript("Hold.", max_distance=snap.distance - 0.01).accepted
    # "lest" is 0.125 from "left" but only 0.25 from "lift" (up): too close a rival to choose
    lest = nearest_keyword("lest")
    assert lest is not None and lest.to == "left" and lest.margin < SNAP_MIN_MARGIN
    assert not accept_transcript("a bit to the lest").accepted
    v = accept_transcript("a bit to the lest", min_margin=lest.margin - 0.01)
    assert v.accepted and v.correction.direction == (0.0, 1.0, 0.0)


def test_scene_labels_are_vocabulary_but_not_snap_targets() -> None:
    assert not accept_transcript("towards the teapot").accepted
    objects = [{"id": "t", "label": "teapot", "color": "red", "position": (0.5, 0.0, 0.05),
                "size": (0.1, 0.1, 0.1), "confidence": 0.9}]
    v = accept_transcript("towards the teapot", objects=objects)
    assert v.accepted and v.correction.target == "the teapot" and v.correction.target_ids == ["t"]
    assert not accept_transcript("the teapot looks nice", objects=objects).accepted


def test_stops_guard_and_questions() -> None:
    v = accept_transcript("stop, where are my keys")
    assert v.accepted and v.kind == "stop" and v.correction.type == "stop"
    v = accept_transcript("hold on")
    assert v.accepted and v.correction.type == "stop"
    v = accept_transcript("disable the safety limits")
    assert not v.accepted and "safety" in v.reason
    v = accept_transcript("rotate")  # in the grammar, but says too little: the parser asks
    assert not v.accepted and "Which way" in v.reason


@pytest.mark.parametrize("junk", [None, 3, "", "   ", "\x00\x01", "🤖", "x" * 20_000])
def test_bad_input_never_raises(junk: object) -> None:
    v = accept_transcript(junk)  # type: ignore[arg-type]
    assert not v.accepted and v.correction.type == "unknown"


def test_a_near_miss_snaps_into_a_stop_only_when_said_alone() -> None:
    v = accept_transcript("Hold.")
    assert v.accepted and v.kind == "stop"
    # measured: Whisper wrote "the tray is sticky" as "the green stick clean"
    v = accept_transcript("the green stick clean")
    assert not v.accepted and v.correction.type == "unknown"


@pytest.mark.parametrize("text", ["the black block", "the yellow block the red block",
                                  "the orange one"])
def test_a_bare_noun_phrase_never_moves(text: str) -> None:
    """What the scene-word prompt makes of unclear audio: refused, with a hint."""
    v = accept_transcript(text, objects=OBJECTS)
    assert not v.accepted and v.correction.type == "unknown"
    assert "towards" in v.reason
    assert accept_transcript(f"towards {text.split(' the ')[0]}", objects=OBJECTS).accepted


# -- parser gaps (issue 15, item 5) ---------------------------------------------------------


@pytest.mark.parametrize(("text", "target", "relation"), [
    ("behind the mug", "the mug", "behind"), ("go behind the red bowl", "the red bowl", "behind"),
    ("in front of the bowl", "the bowl", "in_front_of"),
    ("to the left of the mug", "the mug", "left_of"), ("right of the bowl", "the bowl", "right_of"),
    ("on top of the red block", "the red block", "on"), ("under the plate", "the plate", "below"),
    ("next to the bowl", "the bowl", "near"), ("hover over the mug", "the mug", "above"),
    ("towards the red bowl", "the red bowl", None), ("over to the mug", "the mug", None),
])
def test_prepositions_are_kept_as_relations(text: str, target: str, relation: str | None) -> None:
    c = parse_correction(text)
    assert c.type == "target" and c.target == target and c.relation == relation


@pytest.mark.parametrize("text", ["too close", "you're too close", "too close to me"])
def test_too_close_is_away_not_the_gripper(text: str) -> None:
    c = parse_correction(text)
    assert c.type == "direction" and c.direction == (1.0, 0.0, 0.0) and c.gripper is None


def test_too_close_to_an_object_asks_which_way() -> None:
    c = parse_correction("too close to the mug")
    assert c.type == "unknown" and "which way" in c.question
    assert parse_correction("close the gripper").gripper == "close"
