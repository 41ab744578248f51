"""The labelled corpus is valid, big enough, split both ways, and the parser meets the goal."""

from collections import Counter

from ifagent_ros.core.language.corpus import load_corpus
from ifagent_ros.core.language.evaluate import evaluate_parser

TYPES = {"direction", "rotation", "target", "speed", "gripper", "stop", "undo", "reset",
         "instruction", "unknown"}


def test_corpus_is_valid_and_big_enough():
    rows = load_corpus("all")  # validates every label against the Correction schema
    assert len(rows) >= 400
    assert {r.split for r in rows} == {"dev", "test"}
    texts = Counter(r.text for r in rows)
    assert not [t for t, n in texts.items() if n > 1]


def test_every_type_in_both_splits_about_half_each():
    for split in ("dev", "test"):
        rows = load_corpus(split)
        assert {r.expected["type"] for r in rows} == TYPES
        assert 0.4 <= len(rows) / len(load_corpus("all")) <= 0.6


def test_held_out_accuracy_of_the_rule_parser():
    fig = evaluate_parser("test", baseline=False, repeats=1)
    assert fig["parser_accuracy_all"] >= 0.95, fig["parser_errors"]
    assert fig["n_test"] >= 200
