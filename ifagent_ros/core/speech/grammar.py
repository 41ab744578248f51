"""JSGF grammar for spoken corrections, with the live scene vocabulary.

:func:`build_jsgf` writes the correction command phrases (directions and their combinations,
magnitudes, stop words, speed, undo, gripper, rotations, "towards the <colour> <object>",
"go to the <object>") plus the colours and labels of the current objects. Only words that the
pocketsphinx dictionary knows may appear in a grammar: pass ``known_words`` (a predicate such as
``lambda w: decoder.lookup_word(w) is not None``) and unknown scene words are dropped with a
warning; the fixed command words are all in the CMU dictionary.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence

_log = logging.getLogger(__name__)

STOP_WORDS: tuple[str, ...] = ("stop", "halt", "freeze")
DIRECTIONS: tuple[str, ...] = (
    "left", "right", "up", "down", "forward", "forwards", "backward", "backwards", "back",
    "closer", "away",
)
MAGNITUDES: tuple[str, ...] = ("a bit", "a little", "a little bit", "slightly", "a lot", "much")
DEFAULT_COLOURS: tuple[str, ...] = ("red", "green", "blue", "yellow")
DEFAULT_OBJECTS: tuple[str, ...] = ("block", "cube", "mug", "bowl")

_WORD = re.compile(r"^[a-z][a-z']*$")


def _alternatives(phrases: Iterable[str]) -> str:
    return "(" + " | ".join(phrases) + ")"


def split_vocabulary(words: Iterable[str]) -> list[str]:
    """Lower-cased single words from scene labels ("red block", "coffee_mug" -> red, block,
    coffee, mug), deduplicated, in first-seen order; anything not a plain word is dropped."""
    out: list[str] = []
    for entry in words:
        for word in re.split(r"[\s_\-]+", str(entry).lower().strip()):
            if word and _WORD.match(word) and word not in out:
                out.append(word)
    return out


def filter_known(
    words: Sequence[str], known_words: Callable[[str], bool] | None
) -> tuple[list[str], list[str]]:
    """(kept, dropped): words the dictionary knows, and those it does not."""
    if known_words is None:
        return list(words), []
    kept = [w for w in words if known_words(w)]
    return kept, [w for w in words if w not in kept]


def build_jsgf(
    vocabulary: Sequence[str] = (),
    *,
    known_words: Callable[[str], bool] | None = None,
    name: str = "correction",
) -> str:
    """A JSGF grammar (a string) accepting the correction commands about the given scene words.

    ``vocabulary`` holds object labels and colours (as ``/ifagent/objects`` carries them); words
    that ``known_words`` rejects are left out with a warning. With no scene words, a default set
    of colours and objects keeps the object rules non-empty.
    """
    scene = split_vocabulary(vocabulary)
    scene, dropped = filter_known(scene, known_words)
    if dropped:
        _log.warning("words not in the recogniser's dictionary, left out: %s", ", ".join(dropped))
    colours = [w for w in scene if w in _COLOUR_WORDS] or list(DEFAULT_COLOURS)
    objects = [w for w in scene if w not in _COLOUR_WORDS] or list(DEFAULT_OBJECTS)
    rules = {
        "stop": _alternatives(STOP_WORDS),
        "direction": _alternatives(DIRECTIONS),
        "magnitude": _alternatives(MAGNITUDES),
        "colour": _alternatives(colours),
        "object": _alternatives(objects),
        "directions": "<direction> [and <direction>]",
        "move": "[move | go] <directions> [<magnitude>]",
        "rotate": "(twist | rotate | turn) (left | right) [<magnitude>] "
        "| tilt (up | down | left | right) [<magnitude>]",
        "target": "(towards | toward | to) the [<colour>] <object> | go to the [<colour>] <object>",
        "speed": "(slower | faster | slow down | speed up) [please]",
        "gripper": "(open | close) the gripper | let go | grab it",
        "negation": "no [not that] | not there",
        "undo": "undo [that] | start over",
        "body": "<stop> [<stop>] | <negation> | <move> | <rotate> | <target> | <speed> "
        "| <gripper> | <undo> | <negation> <move>",
    }
    # "please" on one side only, and no magnitude before a direction: every optional word gives
    # unrelated speech more ways to be force-fitted (measured with `ifagent bench language`)
    top = "public <command> = [please] <body> | <body> please;"
    lines = ["#JSGF V1.0;", f"grammar {name};", top]
    lines += [f"<{rule}> = {body};" for rule, body in rules.items()]
    return "\n".join(lines) + "\n"


def grammar_words(jsgf: str) -> set[str]:
    """Every terminal word in a grammar written by :func:`build_jsgf`."""
    body = "\n".join(line.split("=", 1)[1] for line in jsgf.splitlines() if "=" in line)
    body = re.sub(r"<[^>]*>|/[0-9.]+/", " ", body)
    return {w for w in re.findall(r"[a-z][a-z']*", body)}


_COLOUR_WORDS = frozenset(
    "red green blue yellow orange purple pink black white grey gray brown cyan magenta".split()
)

__all__ = [
    "DEFAULT_COLOURS", "DEFAULT_OBJECTS", "DIRECTIONS", "MAGNITUDES", "STOP_WORDS",
    "build_jsgf", "filter_known", "grammar_words", "split_vocabulary",
]
