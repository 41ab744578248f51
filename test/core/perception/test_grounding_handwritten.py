"""Grounding on hand-written phrasings with hand-worked answers (independent of the generator).

Scene (base_link, seen from the robot: left = +y, farther = +x):
  a red block 4 cm at (0.45, 0.20)      b red block 6 cm at (0.55, -0.10)
  c blue block at (0.40, -0.25)         d green bowl at (0.60, 0.10)
  e white plate at (0.35, 0.05)         f yellow block on the plate
  g orange mug (the tallest) at (0.70, -0.30)
"""

from __future__ import annotations

import pytest

from ifagent_ros.core.perception.grounding import Grounder, GroundingConfig
from ifagent_ros.core.schemas import PerceivedObject


def _obj(oid: str, label: str, color: str, pos: tuple, size: tuple) -> PerceivedObject:
    return PerceivedObject(id=oid, label=label, color=color, position=pos, size=size,
                           confidence=0.9)


SCENE = [
    _obj("a", "block", "red", (0.45, 0.20, 0.02), (0.04, 0.04, 0.04)),
    _obj("b", "block", "red", (0.55, -0.10, 0.03), (0.06, 0.06, 0.06)),
    _obj("c", "block", "blue", (0.40, -0.25, 0.02), (0.04, 0.04, 0.04)),
    _obj("d", "bowl", "green", (0.60, 0.10, 0.03), (0.15, 0.15, 0.06)),
    _obj("e", "plate", "white", (0.35, 0.05, 0.01), (0.18, 0.18, 0.02)),
    _obj("f", "block", "yellow", (0.35, 0.05, 0.04), (0.04, 0.04, 0.04)),
    _obj("g", "mug", "orange", (0.70, -0.30, 0.045), (0.10, 0.08, 0.09)),
]

CASES = [
    ("the blue cube", ["c"]),
    ("could you pick up the big red block please", ["b"]),
    ("the smaller red block", ["a"]),
    ("grab the block on the plate", ["f"]),
    ("the block sitting on the plate", ["f"]),
    ("the leftmost block", ["a"]),
    ("the block furthest to the right", ["c"]),
    ("the cup", ["g"]),
    ("uh, the bowl", ["d"]),
    ("the red block near the bowl", ["a"]),
    ("all the blocks", ["a", "b", "c", "f"]),
    ("the dish", ["e"]),
    ("the yellow one", ["f"]),
    ("the second block from the left", ["f"]),
    ("the block closest to the mug", ["b"]),
    ("two red blocks", ["a", "b"]),
    ("the tallest object", ["g"]),
    ("the farthest block", ["b"]),
    ("the green bowl", ["d"]),
    ("THE ORANGE MUG!", ["g"]),
    ("the block most to the right", ["c"]),
    ("the block on the far left", ["a"]),
    ("the red block farthest from the plate", ["b"]),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_handwritten_expression(expression: str, expected: list[str]) -> None:
    result = Grounder().ground(expression, SCENE)
    assert sorted(result.ids) == expected, (result.message, result.question)
    assert not result.ambiguous


def test_handwritten_ambiguous_and_missing() -> None:
    g = Grounder()
    red = g.ground("the red one", SCENE)
    assert red.ambiguous and sorted(red.ids) == ["a", "b"] and red.question
    purple = g.ground("the purple block", SCENE)
    assert purple.ids == [] and "purple" in (purple.message or "")


def test_handwritten_flip_for_an_operator_facing_the_robot() -> None:
    flipped = Grounder(GroundingConfig(flip_left_right=True))
    assert flipped.ground("the leftmost block", SCENE).ids == ["c"]
    assert flipped.ground("the block furthest to the right", SCENE).ids == ["a"]


def test_handwritten_dialogue() -> None:
    g = Grounder()
    assert g.ground("the blue block", SCENE).ids == ["c"]
    assert g.ground("put it in the bowl", SCENE).ids == ["c"]
