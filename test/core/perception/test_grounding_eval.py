"""Grounding evaluation: generated scenes and expressions, their answers, the accuracy figure."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from ifagent_ros.core.perception import grounding_eval as ge
from ifagent_ros.core.perception.grounding import Grounder, GroundingConfig


def block(oid: str, x: float, y: float, color: str = "red", label: str = "block",
          size: float = 0.04) -> dict[str, Any]:
    return {"id": oid, "label": label, "color": color, "position": [x, y, size / 2],
            "size": [size, size, size], "confidence": 1.0}


def generated(gen: Any, scene: list[dict[str, Any]], tries: int = 200,
              flip: bool = False) -> list[ge.Step]:
    """Every step ``gen`` makes on (a copy of) ``scene`` over many seeds."""
    steps = []
    for seed in range(tries):
        g = ge._Gen(random.Random(seed), [dict(o) for o in scene], flip)
        if gen(g):
            steps.extend(g.steps)
    return steps


def test_scenes_are_seeded_and_on_the_table() -> None:
    a = ge.random_scene(random.Random(4))
    assert a == ge.random_scene(random.Random(4))
    for seed in range(50):
        scene = ge.random_scene(random.Random(seed))
        assert 1 <= len(scene) <= 10 and len({o["id"] for o in scene}) == len(scene)
        for o in scene:
            x, y, _ = o["position"]
            assert 0.3 <= x <= 0.8 and -0.4 <= y <= 0.4
            assert o["label"] in ge.LABELS and o["color"] in ge.COLORS
    sizes = [len(ge.random_scene(random.Random(s))) for s in range(200)]
    assert min(sizes) == 3 and max(sizes) == 10


def test_every_family_is_generated_with_several_phrasings() -> None:
    cases = ge.generate_cases(300, seed=7)
    assert cases == ge.generate_cases(300, seed=7)  # deterministic
    by_family: dict[str, set[str]] = {}
    for case in cases:
        by_family.setdefault(case.family, set()).add(" / ".join(s.expression for s in case.steps))
    assert set(by_family) == set(ge.FAMILIES)
    for family, expressions in by_family.items():
        assert len(expressions) >= 15, family
    assert all(len(c.steps) == 2 for c in cases if c.family == "reference"
               and c.steps[-1].mode != "empty")


def test_the_generator_never_asks_the_grounder(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*_: Any, **__: Any) -> None:
        raise AssertionError("the generator consulted the grounder")

    monkeypatch.setattr(Grounder, "ground", forbidden)
    monkeypatch.setattr(Grounder, "__init__", forbidden)
    assert len(ge.generate_cases(100, seed=3)) == 100


# -- answers on hand-checked scenes -------------------------------------------------------------
# Three blocks: left to right A, B, C; front (small x) to back A, C, B; B is the biggest.
ROW = [block("A", 0.40, 0.30, "red"), block("B", 0.70, 0.00, "green", size=0.06),
       block("C", 0.55, -0.30, "blue")]
LEFT_TO_RIGHT, FRONT_TO_BACK = ["A", "B", "C"], ["A", "C", "B"]
ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}


@pytest.mark.parametrize("flip", [False, True])
def test_ordinal_answers(flip: bool) -> None:
    steps = generated(ge.gen_ordinal, ROW, flip=flip)
    assert len(steps) > 50
    for step in steps:
        m = re.search(r"the (\w+) (?:block|cube|one)(?: from the (\w+))?$", step.expression)
        assert m, step.expression
        order = {None: LEFT_TO_RIGHT, "left": LEFT_TO_RIGHT, "right": LEFT_TO_RIGHT[::-1],
                 "front": FRONT_TO_BACK, "back": FRONT_TO_BACK[::-1]}[m.group(2)]
        if flip and m.group(2) in (None, "left", "right"):
            order = order[::-1]
        k = 3 if m.group(1) == "last" else ORDINAL[m.group(1)]
        assert step.expected == {order[k - 1]}, step.expression


def test_colour_size_and_extreme_answers() -> None:
    for step in generated(ge.gen_colour, ROW, tries=30):
        colour = next(c for c in ("red", "green", "blue") if c in step.expression)
        assert step.expected == {{"red": "A", "green": "B", "blue": "C"}[colour]}
    for step in generated(ge.gen_size, ROW):
        big = any(w in step.expression for w in ("big", "large", "tall"))
        assert step.expected == ({"B"} if big else {"A", "C"} & step.expected), step.expression
        assert len(step.expected) == 1
    extremes = {"leftmost": "A", "left-most": "A", "on the left": "A", "rightmost": "C",
                "on the right": "C", "to the right": "C", "frontmost": "A", "at the front": "A",
                "in the front": "A", "at the back": "B", "backmost": "B", "rearmost": "B",
                "closest to you": "A", "nearest": "A"}
    steps = generated(ge._space_extreme, ROW)
    assert steps
    for step in steps:
        expected = next(v for k, v in extremes.items() if k in step.expression)
        assert step.expected == {expected}, step.expression


def test_relation_answers() -> None:
    # P (white plate) at y 0.05, x 0.55: left of it is only A; behind/in front of it ties with C.
    scene = [*ROW, {"id": "P", "label": "plate", "color": "white", "position": [0.55, 0.05, 0.01],
                    "size": [0.16, 0.16, 0.02], "confidence": 1.0}]
    by_hand = {("block", "left", "white"): "A", ("block", "behind", "blue"): "B",
               ("block", "front", "blue"): "A", ("block", "left", "green"): "A",
               ("block", "right", "green"): "C"}
    steps = generated(ge._space_direction, scene, tries=600)
    seen = set()
    for step in steps:
        m = re.search(r"the (\w+) (?:that is )?(?:to the |on the |in )?(left|right|behind|front)"
                      r" (?:of )?the (\w+) ", step.expression)
        assert m, step.expression
        noun = {"cube": "block", "dish": "plate"}.get(m.group(1), m.group(1))
        key = (noun, m.group(2), m.group(3))
        assert step.expected == {"P" if noun == "plate" else by_hand[key]}, step.expression
        seen.add(key)
    assert {k for k in seen if k[0] == "block"} == set(by_hand)
    on_steps = generated(ge._space_on, scene, tries=100)
    assert on_steps and all(len(s.expected) == 1 and "white" in s.expression for s in on_steps)


def test_cardinal_plural_and_ambiguous_answers() -> None:
    scene = [block("r1", 0.35, 0.0), block("r2", 0.6, 0.2), block("r3", 0.75, -0.3),
             block("b1", 0.5, 0.3, "blue")]
    for step in generated(ge.gen_cardinal, scene):
        reds = {"r1", "r2", "r3"}
        group = reds if "red" in step.expression else reds | {"b1"}
        if "blue" in step.expression:
            group = {"b1"}
        if step.mode == "subset":
            assert step.expected == group and 1 <= step.k <= len(group)
        elif step.mode == "empty":
            assert step.expected == frozenset()
        else:
            assert step.expected == group
    for step in generated(ge.gen_plural, scene, tries=50):
        if "red" in step.expression:
            assert step.expected == {"r1", "r2", "r3"}
    for step in generated(ge.gen_ambiguous, scene, tries=50):
        expected = {"r1", "r2", "r3"} if "red" in step.expression else {"r1", "r2", "r3", "b1"}
        assert step.ambiguous and step.expected == expected, step.expression


def test_no_match_and_unknown_words_expect_nothing() -> None:
    for gen in (ge.gen_no_match, ge.gen_unknown_words):
        steps = generated(gen, ROW, tries=60)
        assert steps and all(s.mode == "empty" and not s.expected for s in steps)


def test_check_step_rules() -> None:
    class R:
        def __init__(self, ids: list[str], amb: bool = False, q: str | None = None,
                     msg: str | None = None) -> None:
            self.ids, self.ambiguous, self.question, self.message = ids, amb, q, msg

    exact = ge.Step("x", frozenset({"a"}))
    assert ge.check_step(exact, R(["a"])) and not ge.check_step(exact, R(["a", "b"]))
    assert not ge.check_step(exact, R(["a"], amb=True, q="?"))
    amb = ge.Step("x", frozenset({"a", "b"}), ambiguous=True)
    assert ge.check_step(amb, R(["b", "a"], True, "Which?"))
    assert not ge.check_step(amb, R(["b", "a"], True, None))
    sub = ge.Step("x", frozenset({"a", "b", "c"}), mode="subset", k=2)
    assert ge.check_step(sub, R(["c", "a"])) and not ge.check_step(sub, R(["a"]))
    assert not ge.check_step(sub, R(["a", "d"]))
    empty = ge.Step("x", frozenset(), mode="empty")
    assert ge.check_step(empty, R([], msg="no")) and not ge.check_step(empty, R([]))


# -- the figure -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed, flip", [(0, False), (1, True)])
def test_accuracy_on_600_expressions(seed: int, flip: bool) -> None:
    report = ge.evaluate(600, seed=seed, config=GroundingConfig(flip_left_right=flip))
    assert report["n_expressions"] == 600
    assert report["accuracy"] >= 0.95, report["failures"][:3]
    for family, row in report["families"].items():
        assert row["total"] == 60 and row["accuracy"] >= 0.95, (family, row)
        assert report[f"grounding_accuracy_{family}"] == row["accuracy"]
    assert report["grounding_accuracy"] == report["accuracy"]


def test_evaluate_reports_failures() -> None:
    class Contrary(Grounder):
        def ground(self, expression: str, objects: Any) -> Any:
            result = super().ground(expression, objects)
            result.ids = result.ids[::-1][:1]  # keep only one id: plurals and ambiguities fail
            return result

    original = ge.Grounder
    try:
        ge.Grounder = Contrary  # type: ignore[misc]
        report = ge.evaluate(60, seed=2)
    finally:
        ge.Grounder = original  # type: ignore[misc]
    assert report["families"]["plural"]["accuracy"] < 1.0
    assert report["families"]["ambiguous"]["accuracy"] == 0.0
    assert report["failures"] and {"expression", "expected", "got"} <= set(report["failures"][0])
