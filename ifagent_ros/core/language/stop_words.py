"""Stop detection with no model in the path: ``is_stop(text) -> bool``.

Safety first: any standalone stop word anywhere in the text is a stop, whatever surrounds it.
"don't stop", "non-stop" and "stop ignoring me" are stops too: a false stop costs a second, a
missed one can cost a collision. Words are matched as whole tokens, so "stopwatch", "halter" or
"antifreeze" are not stops. Stop words: stop (stops, stopped, stopping), halt, freeze, e-stop /
estop, emergency, abort, whoa.
"""

from __future__ import annotations

import re

STOP_WORDS = frozenset((
    "stop", "stops", "stopped", "stopping", "halt", "halts", "halted", "halting",
    "freeze", "freezes", "frozen", "estop", "emergency", "abort", "whoa", "woah",
))  # fmt: skip
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
    """True when ``text`` holds any stop word as a standalone token (never raises)."""
    return any(t in STOP_WORDS for t in stop_tokens(text))


__all__ = ["STOP_WORDS", "is_stop", "stop_tokens"]
