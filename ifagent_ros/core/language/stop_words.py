"""Stop detection with no model in the path: ``is_stop(text) -> bool``.

Safety first: any standalone stop word anywhere in the text is a stop, whatever surrounds it.
"don't stop", "non-stop" and "stop ignoring me" are stops too: a false stop costs a second, a
missed one can cost a collision. Words are matched as whole tokens, so "stopwatch", "halter" or
"antifreeze" are not stops.

Stop words (issue 15): stop, stopping, halt, freeze, e-stop / estop, emergency, abort, whoa /
woah, and the phrase "hold on". Only the forms an operator shouts: past tenses and third
persons ("the bus stopped", "it halted", "it froze", "the lake is frozen", "the music stops")
describe something else and are not stops, now that a free-form recogniser writes down chit-chat
word for word. "stopping" stays (an operator may call "stopping!"): recall first.
"""

from __future__ import annotations

import re

STOP_WORDS = frozenset((
    "stop", "stopping", "halt", "freeze", "estop", "emergency", "abort", "whoa", "woah",
))
STOP_PHRASES = (("hold", "on"),)  # consecutive tokens
MAX_CHARS = 10_000  # longer text is only scanned this far (a stop word is usually early)

# "e-stop", "e stop", "e.stop" -> "estop" before splitting on non-letters.
_E_STOP = re.compile(r"\be[\s.\-_]*stop", re.IGNORECASE)
_NON_LETTERS = re.compile(r"[^a-z]+")


def stop_tokens(text: str) -> list[str]:
    """Lower-case letter-only tokens of ``text`` ("E-Stop!" -> ["estop"])."""
    if not isinstance(text, str):
        return []
    text = _E_STOP.sub("estop", text[:MAX_CHARS].lower())
    return [t for t in _NON_LETTERS.split(text) if t]


def is_stop(text: str) -> bool:
    """True when ``text`` holds any stop word as a standalone token, or a stop phrase
    ("hold on"), never raises."""
    tokens = stop_tokens(text)
    if any(t in STOP_WORDS for t in tokens):
        return True
    return any(tuple(tokens[i : i + len(p)]) == p for p in STOP_PHRASES
               for i in range(len(tokens) - len(p) + 1))


__all__ = ["STOP_PHRASES", "STOP_WORDS", "is_stop", "stop_tokens"]
