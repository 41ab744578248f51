"""JSGF generation for the correction grammar."""

import os

import pytest

from ifagent_ros.core.speech.grammar import build_jsgf, grammar_words, split_vocabulary

pocketsphinx = pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def decoder():
    model = os.path.join(pocketsphinx.get_model_path(), "en-us")
    return pocketsphinx.Decoder(hmm=os.path.join(model, "en-us"), lm=None, loglevel="FATAL",
                                dict=os.path.join(model, "cmudict-en-us.dict"))


def test_grammar_is_valid_for_pocketsphinx_and_uses_only_known_words(decoder):
    jsgf = build_jsgf(
        ["red block", "green mug"], known_words=lambda w: bool(decoder.lookup_word(w))
    )
    decoder.add_jsgf_string("test", jsgf)  # raises on a syntax error or unknown word
    assert all(decoder.lookup_word(w) for w in grammar_words(jsgf))


def test_grammar_has_commands_and_scene_words():
    words = grammar_words(build_jsgf(["purple teapot"]))
    for word in (
        "stop",
        "halt",
        "freeze",
        "slower",
        "undo",
        "gripper",
        "twist",
        "tilt",
        "slightly",
        "towards",
        "purple",
        "teapot",
    ):
        assert word in words


def test_unknown_words_are_dropped_with_a_warning(caplog, decoder):
    jsgf = build_jsgf(["zorblex block"], known_words=lambda w: bool(decoder.lookup_word(w)))
    assert "zorblex" not in grammar_words(jsgf) and "block" in grammar_words(jsgf)
    assert "zorblex" in caplog.text


def test_split_vocabulary():
    assert split_vocabulary(["Red block", "coffee_mug", "red", "x2!"]) == [
        "red",
        "block",
        "coffee",
        "mug",
    ]
