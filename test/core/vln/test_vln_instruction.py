"""Instruction decomposition into ordered sub-goals, and the landmark lexicon."""

import pytest

from ifagent_ros.core.vln.instruction import InstructionParser, parse_instruction
from ifagent_ros.core.vln.lexicon import Lexicon, learn_associations


def steps(text: str) -> list[tuple[str, str | None]]:
    return [(g.action, g.target) for g in parse_instruction(text).subgoals]


@pytest.mark.parametrize(("text", "expected"), [
    ("Exit the bedroom, turn right at the stairs and wait by the fridge in the kitchen.",
     [("exit", "bedroom"), ("go_to", "stairs"), ("turn_right", None),
      ("stop_at", "refrigerator")]),
    ("Walk down the stairs and make a left past the couch. Stop next to the dining table.",
     [("go_down", "stairs"), ("turn_left", None), ("go_past", "couch"), ("stop_at", "table")]),
    ("Turn around and go through the doorway. Walk down the hallway and enter the bathroom. "
     "Wait by the sink.",
     [("turn_around", None), ("go_through", "door"), ("go_through", "hallway"),
      ("go_into", "bathroom"), ("stop_at", "sink")]),
    ("Go up the stairs and turn left. Walk past the piano and stop in front of the fireplace.",
     [("go_up", "stairs"), ("turn_left", None), ("go_past", "piano"),
      ("stop_at", "fireplace")]),
    ("Walk out of the office and go down the steps. Turn left after the bench and wait.",
     [("exit", "office"), ("go_down", "stairs"), ("go_past", "bench"), ("turn_left", None),
      ("stop_at", "bench")]),
    ("leave the bathroom then go downstairs and stop on the landing",
     [("exit", "bathroom"), ("go_down", "stairs"), ("stop_at", "stairs")]),
    ("With the desk behind you, walk into the hallway and turn right.",
     [("go_into", "hallway"), ("turn_right", None), ("stop_at", "hallway")]),
    ("Walk passed the sofas and wait at the top of the staircase.",
     [("go_past", "couch"), ("stop_at", "stairs")]),
])
def test_real_style_instructions(text, expected):
    assert steps(text) == expected


def test_sides_and_turns_are_told_apart():
    goals = parse_instruction("Walk forward until you reach the couch on your right then stop."
                              ).subgoals
    assert [g.action for g in goals] == ["forward", "go_to", "stop_at"]
    assert goals[1].side == "right"  # "on your right" qualifies the couch, it is no turn
    turns = [g.action for g in parse_instruction("Take a sharp left, then veer right.").subgoals]
    assert turns[:2] == ["turn_left", "turn_right"]


def test_go_down_the_hall_is_not_stairs():
    assert steps("Go down the hall to the bedroom.")[0] == ("go_through", "hallway")
    assert steps("Go down the stairs.")[0] == ("go_down", "stairs")


def test_every_plan_ends_with_a_stop_that_inherits_the_last_target():
    assert steps("Enter the kitchen and wait.") == [("go_into", "kitchen"), ("stop_at", "kitchen")]
    assert steps("Turn left.") == [("turn_left", None), ("stop_at", None)]


def test_bad_input():
    for text in ("", "   ", "...", "\n\n"):
        parsed = parse_instruction(text)
        assert [g.action for g in parsed.subgoals] == ["stop_at"]
        assert parsed.subgoals[0].target is None
    unknown = parse_instruction("Walk into the zorblax and wait near the flumph.")
    assert unknown.landmarks == () and set(unknown.unknown_nouns) == {"zorblax", "flumph"}
    with pytest.raises(TypeError):
        parse_instruction(None)  # type: ignore[arg-type]
    long = parse_instruction("walk past the couch " * 2000)  # clipped, still parsed
    assert len(long.text) <= 2000 and long.subgoals[-1].action == "stop_at"


def test_lexicon_matches_categories_by_synonym_and_head_noun():
    lex = Lexicon(associations={})
    assert lex.match("couch", "sofa") == 1.0
    assert lex.match("counter", "kitchen counter") == 1.0
    assert lex.match("table", "glass table") == pytest.approx(0.8)  # head noun
    assert lex.match("kitchen", "refrigerator") > 0 and lex.match("kitchen", "bed") == 0
    assert lex.match("bed", "bedside lamp") == 0
    assert lex.kind_of("kitchen") == "room" and lex.kind_of("stairs") == "landmark"
    assert lex.kind_of("zorblax") is None


def test_learned_associations_come_from_cooccurrence():
    # "pantry" is a kitchen word: categories on pantry paths count for "kitchen"
    data = [("walk into the pantry", [{"oven"}, {"shelf"}], f"b{k % 6}") for k in range(20)]
    data += [("walk to the bed", [{"bed"}, {"lamp"}], f"b{k % 6}") for k in range(60)]
    data += [("go past the lamp", [{"lamp"}], f"b{k % 6}") for k in range(20)]
    data += [("go into the kitchen", [{"toaster"}], "only-one-building") for _ in range(20)]
    assoc = learn_associations(data, Lexicon(associations={}), min_count=10)
    assert "toaster" not in assoc["kitchen"]  # seen in one building only: not learned
    assert "oven" in assoc["kitchen"] and "lamp" not in assoc.get("kitchen", {})
    lex = Lexicon(associations=assoc)
    assert 0 < lex.match("kitchen", "shelf") <= lex.learned_weight


def test_default_lexicon_loads_shipped_associations():
    parser = InstructionParser()
    assert parser.lexicon.associations, "r2r_associations.json missing or empty"
    assert all(0 < s <= 1 for cats in parser.lexicon.associations.values()
               for s in cats.values())
