"""Grounding: every family, ambiguity questions, references, bad input, speed."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import pytest

from ifagent_ros.core.perception.grounding import Grounder, GroundingConfig, GroundingResult
from ifagent_ros.core.perception.grounding_parser import (
    COLOR,
    LEXICON,
    NOUN,
    parse,
    tokenize,
)
from ifagent_ros.core.schemas import PerceivedObject

BLOCK = (0.04, 0.04, 0.04)


def obj(oid: str, label: str, color: str, x: float, y: float, z: float | None = None,
        size: tuple[float, float, float] = BLOCK) -> dict[str, Any]:
    return {"id": oid, "label": label, "color": color, "position": [x, y, size[2] / 2 if z is None
            else z], "size": list(size), "confidence": 0.9}


# Robot's view: left = +y, front (near the robot) = -x.
TABLE = [
    obj("red_l", "block", "red", 0.5, 0.2),
    obj("red_r", "block", "red", 0.5, -0.2),
    obj("green_blk", "block", "green", 0.65, 0.0),
    obj("plate", "plate", "white", 0.35, 0.0, size=(0.2, 0.2, 0.02)),
    obj("blue_blk", "block", "blue", 0.36, 0.01, z=0.04),  # on the plate
    obj("bowl", "bowl", "green", 0.7, 0.1, size=(0.15, 0.15, 0.06)),
    obj("mug", "mug", "yellow", 0.75, -0.3, size=(0.08, 0.08, 0.11)),
]


def ground(expr: str, objects: list[Any] = TABLE, **cfg: Any) -> GroundingResult:
    return Grounder(GroundingConfig(**cfg)).ground(expr, objects)


def ids(expr: str, objects: list[Any] = TABLE, **cfg: Any) -> list[str]:
    result = ground(expr, objects, **cfg)
    assert not result.ambiguous, (expr, result)
    return result.ids


# -- colour + noun --------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("the blue block", "blue_blk"),
    ("the blue cube", "blue_blk"),
    ("Grab the GREEN Block!!", "green_blk"),
    ("please pick up the yellow cup", "mug"),
    ("can you take the white dish?", "plate"),
    ("the yellow object", "mug"),
    ("the white thing", "plate"),
    ("green bowl", "bowl"),
    ("the mug", "mug"),
])
def test_colour_and_noun(expr: str, expected: str) -> None:
    result = ground(expr)
    assert result.ids == [expected] and not result.ambiguous and result.message is None
    assert result.family in ("colour", "noun")


def test_grey_is_gray_and_labels_are_canonicalised() -> None:
    scene = [obj("g", "cube", "grey", 0.5, 0.0), obj("c", "cup", "Red", 0.5, 0.2)]
    assert ids("the gray block", scene) == ["g"]
    assert ids("the grey cube", scene) == ["g"]
    assert ids("the red mug", scene) == ["c"]


def test_open_vocabulary_labels_and_colours_from_the_scene() -> None:
    scene = [obj("ball", "tennis ball", "yellow", 0.5, 0.0), obj("a", "apple", "beige", 0.6, 0.1)]
    assert ids("the tennis ball", scene) == ["ball"]
    assert ids("the beige apple", scene) == ["a"]
    assert ids("all apples", scene) == ["a"]
    assert ground("the apple", [obj("x", "block", "red", 0.5, 0.0)]).message  # not a word here


def test_perceived_object_models_are_accepted() -> None:
    models = [PerceivedObject.model_validate(o) for o in TABLE]
    assert ids("the blue block", models) == ["blue_blk"]


# -- size -----------------------------------------------------------------------------------------
SIZES = [
    obj("bowl_s", "bowl", "red", 0.5, 0.2, size=(0.10, 0.10, 0.05)),
    obj("bowl_l", "bowl", "blue", 0.5, -0.2, size=(0.18, 0.18, 0.07)),
    obj("blk_s", "block", "red", 0.4, 0.0, size=(0.03, 0.03, 0.03)),
    obj("blk_m", "block", "red", 0.6, 0.0, size=(0.045, 0.045, 0.045)),
    obj("blk_l", "block", "red", 0.7, 0.1, size=(0.06, 0.06, 0.06)),
    obj("mug", "mug", "green", 0.7, -0.3, size=(0.08, 0.08, 0.12)),
    obj("plate", "plate", "white", 0.35, -0.3, size=(0.22, 0.22, 0.02)),
]


@pytest.mark.parametrize("expr, expected", [
    ("the bigger bowl", "bowl_l"), ("the smaller bowl", "bowl_s"), ("the large bowl", "bowl_l"),
    ("the small bowl", "bowl_s"), ("the smallest block", "blk_s"), ("the biggest cube", "blk_l"),
    ("the largest block", "blk_l"), ("the tallest object", "mug"), ("the shortest thing", "plate"),
    ("the widest object", "plate"), ("the biggest red block", "blk_l"),
    ("the second biggest block", "blk_m"),
])
def test_size(expr: str, expected: str) -> None:
    result = ground(expr, SIZES)
    assert result.ids == [expected] and not result.ambiguous
    assert result.family in ("size", "ordinal")


def test_size_tie_is_ambiguous() -> None:
    scene = [obj("a", "block", "red", 0.5, 0.2), obj("b", "block", "blue", 0.5, -0.2)]
    result = ground("the biggest block", scene)
    assert result.ambiguous and sorted(result.ids) == ["a", "b"] and result.question


# -- space ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("the block left of the green bowl", ["red_l"]),
    ("the block to the left of the green bowl", ["red_l"]),
    ("the block closest to the yellow mug", ["red_r"]),
    ("the closest block to the mug", ["red_r"]),
    ("the block next to the mug", ["red_r"]),
    ("the block farthest from the mug", ["red_l"]),
    ("the rightmost block", ["red_r"]),
    ("the leftmost block", ["red_l"]),
    ("the block on the left", ["red_l"]),
    ("the block on the plate", ["blue_blk"]),
    ("the object on top of the plate", ["blue_blk"]),
    ("the plate under the blue block", ["plate"]),
    ("the block at the back", ["green_blk"]),
    ("the frontmost block", ["blue_blk"]),
    ("the nearest block", ["blue_blk"]),
    ("the block closest to you", ["blue_blk"]),
    ("the block behind the left red block and right of the green bowl", ["green_blk"]),
    ("the block that is right next to the green bowl", ["green_blk"]),
])
def test_space(expr: str, expected: list[str]) -> None:
    result = ground(expr)
    assert result.ids == expected and not result.ambiguous, result
    assert result.family == "space"


def test_left_right_follow_y_and_flip_swaps_only_them() -> None:
    assert ids("the rightmost block") == ["red_r"]
    assert ids("the rightmost block", flip_left_right=True) == ["red_l"]
    flipped = ground("the block right of the green bowl", flip_left_right=True)
    assert flipped.ids == ["red_l"]
    # front/back and near/far do not flip
    assert ids("the frontmost block", flip_left_right=True) == ["blue_blk"]
    assert ids("the block at the back", flip_left_right=True) == ["green_blk"]


def test_in_the_bowl_needs_the_object_inside_its_footprint_and_above() -> None:
    scene = [
        obj("bowl", "bowl", "blue", 0.6, 0.0, size=(0.16, 0.16, 0.06)),
        obj("inside", "block", "red", 0.62, 0.03, z=0.05),
        obj("beside", "block", "green", 0.6, 0.15),
        obj("under", "block", "yellow", 0.6, -0.01, z=0.0),
    ]
    assert ids("the block in the bowl", scene) == ["inside"]
    assert ids("the block inside the blue bowl", scene) == ["inside"]
    empty = ground("the block in the bowl", TABLE)
    assert empty.ids == [] and "I see no block in the bowl" in (empty.message or "")


def test_between() -> None:
    scene = [
        obj("bowl", "bowl", "blue", 0.5, 0.3, size=(0.14, 0.14, 0.06)),
        obj("plate", "plate", "white", 0.5, -0.3, size=(0.2, 0.2, 0.02)),
        obj("mid", "block", "red", 0.52, 0.02),
        obj("out", "block", "green", 0.75, 0.0),
        obj("side", "block", "yellow", 0.45, 0.45),
    ]
    assert ids("the block between the bowl and the plate", scene) == ["mid"]
    assert ids("the cube in between the plate and the blue bowl", scene) == ["mid"]


def test_missing_landmark_is_named() -> None:
    result = ground("the block left of the purple bowl")
    assert result.ids == [] and result.message == "I see no purple bowl."


def test_relation_with_several_matches_is_ambiguous() -> None:
    result = ground("the block right of the green bowl")
    assert result.ambiguous and set(result.ids) == {"red_r", "green_blk", "blue_blk"}
    assert result.question


# -- ordinals -------------------------------------------------------------------------------------
ROW = [obj("A", "block", "red", 0.4, 0.3), obj("B", "block", "red", 0.6, 0.0),
       obj("C", "block", "blue", 0.5, -0.3), obj("bowl", "bowl", "red", 0.7, 0.2,
       size=(0.14, 0.14, 0.06))]


@pytest.mark.parametrize("expr, expected", [
    ("the second block from the left", "B"), ("the first block from the right", "C"),
    ("the third block from the left", "C"), ("the 2nd cube from the right", "B"),
    ("the first block", "A"), ("the last block", "C"), ("the last block from the right", "A"),
    ("the first block from the front", "A"), ("the second block from the back", "C"),
    ("the second red block from the left", "B"), ("the second one from the left", "bowl"),
])
def test_ordinals(expr: str, expected: str) -> None:
    result = ground(expr, ROW)
    assert result.ids == [expected] and not result.ambiguous and result.family == "ordinal"


def test_ordinal_flip_and_out_of_range() -> None:
    assert ids("the first block from the left", ROW, flip_left_right=True) == ["C"]
    result = ground("the fourth block from the left", ROW)
    assert result.ids == [] and result.message == "There are only three blocks."


# -- cardinals ------------------------------------------------------------------------------------
REDS = [obj("r1", "block", "red", 0.35, 0.0), obj("r2", "block", "red", 0.6, 0.2),
        obj("r3", "block", "red", 0.75, -0.3), obj("b1", "block", "blue", 0.5, 0.0),
        obj("m1", "mug", "red", 0.45, -0.25, size=(0.08, 0.08, 0.1))]


def test_definite_cardinal_with_exactly_n_gives_all() -> None:
    assert sorted(ids("the three red blocks", REDS)) == ["r1", "r2", "r3"]
    assert ground("the three red blocks", REDS).family == "cardinal"


def test_definite_cardinal_with_more_is_ambiguous() -> None:
    result = ground("the two red blocks", REDS)
    assert result.ambiguous and sorted(result.ids) == ["r1", "r2", "r3"]
    assert result.question == "Which two red blocks? I see three."
    assert ground("both red blocks", REDS).ambiguous


def test_indefinite_cardinal_picks_the_nearest_to_the_robot() -> None:
    assert sorted(ids("two red blocks", REDS)) == ["r1", "r2"]
    assert sorted(ids("pick up 2 of the red blocks", REDS)) == ["r1", "r2"]
    assert ids("one red block", REDS) == ["r1"]
    assert ids("a red block", REDS) == ["r1"]
    assert len(ids("three objects", REDS)) == 3
    assert len(ids("any 4 things", REDS)) == 4


def test_too_few_for_a_cardinal() -> None:
    assert ground("two blue blocks", REDS).message == "There is only one blue block."
    assert ground("four red blocks", REDS).message == "There are only three red blocks."
    assert ground("both blue blocks", REDS).ids == []
    assert ground("two green blocks", REDS).message == "I see no green blocks."


# -- plurals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("all the red blocks", ["r1", "r2", "r3"]), ("all blocks", ["r1", "r2", "r3", "b1"]),
    ("every mug", ["m1"]), ("the blocks", ["r1", "r2", "r3", "b1"]), ("each cube", None),
    ("all the red things", ["r1", "r2", "r3", "m1"]), ("everything", None),
    ("the blue block and the red mug", ["b1", "m1"]),
])
def test_plurals(expr: str, expected: list[str] | None) -> None:
    result = ground(expr, REDS)
    assert not result.ambiguous and result.family == "plural"
    if expected is None:
        expected = [o["id"] for o in REDS if expr != "each cube" or o["label"] == "block"]
    assert sorted(result.ids) == sorted(expected)


def test_plural_without_matches() -> None:
    result = ground("all the purple blocks", REDS)
    assert result.ids == [] and result.message == "I see no purple blocks."


# -- references and dialogue memory -------------------------------------------------------------
def test_reference_without_history_says_so() -> None:
    for expr in ("it", "that one", "them", "the same one", "pick it up"):
        result = ground(expr)
        assert result.ids == [] and "nothing to refer to" in (result.message or ""), expr
        assert result.family == "reference"


@pytest.mark.parametrize("follow", ["it", "that one", "the same one", "pick it up again",
                                    "that block", "the same cube", "grab that one"])
def test_reference_to_the_last_object(follow: str) -> None:
    g = Grounder()
    assert g.ground("the blue block", TABLE).ids == ["blue_blk"]
    result = g.ground(follow, TABLE)
    assert result.ids == ["blue_blk"] and result.family == "reference" and not result.ambiguous


def test_reference_memory_details() -> None:
    g = Grounder()
    g.ground("all the red blocks", TABLE)
    assert sorted(g.ground("them", TABLE).ids) == ["red_l", "red_r"]
    assert g.ground("it", TABLE).ambiguous  # "it" for two remembered objects
    g.ground("the yellow mug", TABLE)
    wrong = g.ground("that bowl", TABLE)
    assert wrong.ids == [] and "not a bowl" in (wrong.message or "")
    gone = g.ground("it", [o for o in TABLE if o["id"] != "mug"])
    assert gone.ids == [] and "mug" in (gone.message or "")
    # failures and ambiguous answers do not overwrite the memory
    g.ground("the purple block", TABLE)
    g.ground("the red block", TABLE)
    assert g.ground("it", TABLE).ids == ["mug"]
    g.reset()
    assert g.ground("it", TABLE).ids == []


def test_the_other_one() -> None:
    g = Grounder()
    g.ground("the rightmost red block", TABLE)
    assert g.ground("the other red block", TABLE).ids == ["red_l"]


def test_follow_up_answers_a_clarifying_question() -> None:
    g = Grounder()
    first = g.ground("the red block", TABLE)
    assert first.ambiguous
    assert g.ground("the left one", TABLE).ids == ["red_l"]
    assert g.ground("it", TABLE).ids == ["red_l"]


# -- ambiguity questions --------------------------------------------------------------------------
def test_question_left_or_right() -> None:
    result = ground("the red block")
    assert result.ambiguous and sorted(result.ids) == ["red_l", "red_r"]
    assert result.question == "Which red block: the left or the right one?"
    assert result.message is None and result.family == "colour"


def test_question_by_colour_left_to_right() -> None:
    scene = [obj("r", "block", "red", 0.5, 0.2), obj("g", "block", "green", 0.5, 0.0),
             obj("b", "block", "blue", 0.5, -0.2)]
    result = ground("the block", scene)
    assert result.ambiguous and sorted(result.ids) == ["b", "g", "r"]
    assert result.question == "Which block: the red, the green or the blue one?"
    flipped = ground("the block", scene, flip_left_right=True)
    assert flipped.question == "Which block: the blue, the green or the red one?"


def test_question_by_label_front_back_and_size() -> None:
    mixed = ground("the green one")  # green block and green bowl
    assert mixed.question == "Which green object: the bowl or the block?"
    front_back = [obj("n", "block", "red", 0.4, 0.0), obj("f", "block", "red", 0.7, 0.01)]
    assert ground("the red block", front_back).question == \
        "Which red block: the front or the back one?"
    sizes = [obj("s", "block", "red", 0.5, 0.0), obj("l", "block", "red", 0.51, 0.005,
             size=(0.07, 0.07, 0.07))]
    assert ground("the red block", sizes).question == \
        "Which red block: the bigger or the smaller one?"
    three = [obj(f"b{i}", "block", "red", 0.5, 0.2 - 0.2 * i) for i in range(3)]
    assert ground("the block", three).question == \
        "Which red block: the left, the middle or the right one?"


# -- no match, unknown words, bad input ---------------------------------------------------------
def test_no_match_messages() -> None:
    assert ground("the purple block").message == "I see no purple block."
    assert ground("the purple one").message == "I see no purple object."
    assert ground("the cylinder").message == "I see no cylinder."
    assert ground("the purple block").ids == []


@pytest.mark.parametrize("expr, words", [
    ("the flurbish block", ["flurbish"]),
    ("le bloc rouge", ["le", "bloc", "rouge"]),
    ("prends le bol bleu", ["prends", "le", "bol", "bleu"]),
    ("der rote Würfel", ["der", "rote", "würfel"]),
    ("the red block s'il vous plait", ["sil", "vous", "plait"]),
])
def test_unknown_words_are_named_never_guessed(expr: str, words: list[str]) -> None:
    result = ground(expr)
    assert result.ids == [] and not result.ambiguous and result.family == "unknown"
    assert result.message and result.message.startswith("I don't know the word")
    for word in words:
        assert f"'{word}'" in result.message
    assert ground("the flurbish block").message == "I don't know the word 'flurbish'."


@pytest.mark.parametrize("expr", ["", "   ", "\n\t", "?!", "please"])
def test_empty_or_contentless_expressions(expr: str) -> None:
    result = ground(expr)
    assert result.ids == [] and result.message and not result.ambiguous


def test_known_words_in_a_senseless_order_are_not_guessed() -> None:
    result = ground("the red block bowl")
    assert result.ids == [] and "could not understand" in (result.message or "")


def test_empty_and_invalid_object_lists() -> None:
    assert ground("the red block", []).message == "I see no objects."
    nan = obj("n", "block", "red", math.nan, 0.0)
    broken = {"id": "x", "label": "block"}  # no colour, no position
    result = ground("the red block", [nan, broken])
    assert result.ids == [] and "2 had no valid position" in (result.message or "")


def test_nan_objects_are_skipped() -> None:
    scene = [obj("n", "block", "red", math.nan, 0.0), obj("ok", "block", "red", 0.5, 0.0),
             obj("inf", "block", "red", 0.5, math.inf), {**obj("s", "block", "red", 0.6, 0.1),
             "size": [math.nan, 0.04, 0.04]}]
    assert ids("the red block", scene) == ["ok"]
    assert ids("the leftmost block", scene) == ["ok"]
    assert ids("the block closest to the robot", scene) == ["ok"]


def test_placing_verbs_leave_the_destination_out() -> None:
    result = ground("put the blue block in the green bowl")
    assert result.ids == ["blue_blk"] and result.destination == "in the green bowl"
    assert ground("move the red block on the left to the plate").ids == ["red_l"]


def test_json_dict() -> None:
    out = ground("the red block").to_json_dict()
    assert set(out) == {"ids", "ambiguous", "question", "message"}
    assert out["ambiguous"] is True and isinstance(out["question"], str)


# -- speed ----------------------------------------------------------------------------------------
def test_200_objects_ground_fast() -> None:
    rng = random.Random(3)
    labels, colors = ("block", "bowl", "plate", "mug"), ("red", "green", "blue", "yellow", "pink")
    scene = [obj(f"o{i}", rng.choice(labels), rng.choice(colors), rng.uniform(0.3, 0.8),
                 rng.uniform(-0.4, 0.4)) for i in range(200)]
    scene.append(obj("target", "mug", "black", 0.5, 0.0))
    g = Grounder()
    exprs = ["the black mug", "the red block", "the block closest to the black mug",
             "the second blue bowl from the left", "all the pink plates", "three blocks",
             "the block between the black mug and the rightmost plate", "the biggest plate", "it"]
    for expr in exprs:
        best = min(_timed(g, expr, scene) for _ in range(3))
        assert best < 0.050, (expr, best)
    assert g.ground("the black mug", scene).ids == ["target"]


def _timed(g: Grounder, expr: str, scene: list[Any]) -> float:
    t0 = time.perf_counter()
    g.ground(expr, scene)
    return time.perf_counter() - t0


# -- the lexicon and tokenizer ------------------------------------------------------------------
def test_tokenizer() -> None:
    assert tokenize("Pick up the LEFT-most cube, please!") == \
        ["pick", "up", "the", "leftmost", "cube", "please"]
    assert tokenize("the 2nd block") == ["the", "second", "block"]
    assert tokenize("3 blocks") == ["three", "blocks"]
    assert tokenize("it's") == ["its"]


def test_lexicon_words_have_one_meaning_each() -> None:
    assert LEXICON["cube"].cat == NOUN and LEXICON["cube"].value == "block"
    assert LEXICON["grey"].cat == COLOR and LEXICON["grey"].value == "gray"
    assert LEXICON["can"].cat != NOUN  # "can you ..." is not a cylinder
    assert parse("the flurbish block").unknown == ["flurbish"]
