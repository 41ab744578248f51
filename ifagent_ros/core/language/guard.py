"""The channel's guard: words may correct motion, never the safety system.

Run before any parsing. Text that asks to change or disable limits, the e-stop, the deadman or
the watchdog, or that tries to re-program the agent ("ignore previous instructions", "you are now
in developer mode") is refused: the parser answers type ``unknown``, confidence 0 and the
refusal in ``question``. The limits live in the executor's parameters, which speech never reaches;
refusing here just makes that visible to the operator.
"""

from __future__ import annotations

import re

REFUSAL = ("I can't change the safety settings or limits by voice; ask the operator in charge. "
           "I can take corrections like 'left', 'slower' or 'stop'.")

_SAFETY_NOUN = (
    r"(?:safety|safe\w*|limits?|limiters?|e ?stop|estop|emergency|stop button|stops?|"
    r"deadman|dead man|watchdog|workspace|collision\w*|guard\w*|filter|protection|"
    r"restrictions?|constraints?|brakes?|fence|boundar(?:y|ies)|clamp\w*)"
)
_DISABLE = (
    r"(?:ignore|disable|turn off|switch off|shut off|shut down|deactivate|bypass|"
    r"override|overrule|remove|lift|raise|increase|relax|loosen|drop|kill|skip|"
    r"disregard|forget|unlock|get rid of|no more|without|exceed|break|cancel|"
    r"change|reset|set|modify|double|triple)"
)
_PATTERNS = [
    # "disable safety", "turn off the stop", "ignore the speed limit", "set max velocity to 10"
    rf"\b{_DISABLE}\b(?:\s+\w+){{0,4}}?\s+{_SAFETY_NOUN}\b",
    r"\b(?:speed|velocity|torque|force|acceleration|jerk|joint)\s+limits?\b",
    r"\b(?:max|maximum|top|full|unlimited|infinite)\s+(?:speed|velocity|power|torque|force|"
    r"acceleration)\b",
    r"\bset\s+(?:the\s+)?(?:speed|velocity|acceleration|torque|force)\s+to\b",
    r"\bno\s+(?:limits?|safety|restrictions?)\b",
    r"\bunlimited\b|\bunrestricted\b|\bunsafe mode\b",
    # prompt injection / re-programming
    r"\b(?:ignore|disregard|forget)\b(?:\s+\w+){0,3}\s+(?:instructions?|rules?|prompts?|"
    r"programming|orders|guidelines)\b",
    r"\b(?:developer|debug|admin|god|maintenance|jailbreak|dan|root|unsafe)\s+mode\b",
    r"\byou\s+are\s+now\b|\bsystem\s+prompt\b|\bjailbreak\w*\b|\bsudo\b|\bpretend\s+(?:you|to)\b",
    r"\bnew\s+instructions?\s*:|\bact\s+as\b|\broleplay\b",
]
_GUARD = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_NORMALIZE = re.compile(r"[^a-z0-9]+")


def normalize_for_guard(text: str) -> str:
    """Lower-case words separated by single spaces ("E-Stop!" -> "e stop")."""
    return " ".join(_NORMALIZE.sub(" ", text.lower()).split())


def is_refused(text: str) -> bool:
    """True when ``text`` asks to change the safety system or to re-program the agent."""
    if not isinstance(text, str):
        return False
    return _GUARD.search(normalize_for_guard(text)) is not None


__all__ = ["REFUSAL", "is_refused", "normalize_for_guard"]
