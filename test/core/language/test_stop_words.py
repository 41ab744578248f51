"""is_stop: any standalone stop word is a stop; no model in the path; "hold on" is one, the
past tenses of chit-chat ("the bus stopped", "it froze") are not (issue 15)."""

import pytest

from ifagent_ros.core.language.stop_words import is_stop


@pytest.mark.parametrize("text", [
    "stop", "STOP!", "Stop.", "halt", "freeze", "please stop", "stop moving now",
    "uh, could you stop please", "no no no stop", "okay halt right there", "everybody freeze",
    "e-stop", "E stop", "estop", "emergency", "emergency stop", "abort", "whoa", "stopping",
    "don't stop", "non-stop", "stop ignoring me", "left, stop", "\x00stop\x01",
    "stop " + "x " * 3000,
])
def test_stop_words_anywhere(text):
    assert is_stop(text)


@pytest.mark.parametrize("text", [
    "", "   ", "left", "a bit higher", "stopwatch", "antifreeze", "halter",
    "towards the red bowl", "slower", "à gauche", "\x00\x01",
])
def test_not_stop(text):
    assert not is_stop(text)


@pytest.mark.parametrize("junk", [None, 3, 1.5, float("nan"), b"stop", ["stop"]])
def test_non_strings_never_raise(junk):
    assert is_stop(junk) is False


@pytest.mark.parametrize(("text", "stop"), [
    ("hold on", True), ("hold on!", True), ("whoa", True), ("abort", True), ("e-stop", True),
    ("the bus stopped at the corner", False), ("it froze", False), ("frozen", False),
    ("the car halted", False), ("hold it", False), ("household", False),
])
def test_hold_on_and_narrowed_forms(text: str, stop: bool) -> None:
    assert is_stop(text) is stop
