"""The correction parser: operator text -> :class:`~ifagent_ros.core.schemas.Correction`.

Rules only (no model in the path; well under a millisecond per utterance). In order:

1. control characters become spaces; :mod:`guard` refuses requests to change the safety system
   (type ``unknown``, confidence 0, the refusal in ``question``; never any other type);
2. :func:`stop_words.is_stop` -> ``stop`` (any stop word anywhere, whatever else is said);
3. text longer than ``MAX_CHARS`` (500) -> ``unknown`` with a question; filler ("uh", "could you
   maybe", "please") and repeated words are dropped;
4. ``undo`` ("undo", "go back to what I said before"), ``reset`` ("start over");
5. ``instruction``: a task verb with an object noun ("put the red block in the bowl");
6. ``speed``: slower 0.5, a bit slower 0.75, much slower 0.25; faster 2.0, a bit faster 1.5,
   much faster 4.0 (the executor's velocity limits bound the result whatever the factor);
7. ``gripper``: open ("let go", "release", "drop it") / close ("grab it", "grip");
8. ``rotation`` about a unit axis in ``base_link``: twist left / counter-clockwise +z, twist
   right / clockwise -z, tilt down / forward +y, tilt up / back -y, tilt left -x, tilt right +x;
9. ``target``: a preposition or verb followed by a noun phrase ("towards the red bowl", "go to the
   mug"); ``target`` is the phrase, grounded by the :class:`Grounder` when objects are given;
   ``relation`` keeps what the preposition says about it (lexicon.RELATIONS: "behind the mug"
   -> behind, "on top of the block" -> on, "to the left of the bowl" -> left_of; None for
   "to"/"towards", the object itself). "too close to the mug" asks which way (unknown);
   "too close" alone is "away" (+x: closer is toward the operator, -x);
10. ``direction``: forward/away/farther +x, back/closer/toward me -x, left +y, right -y,
    up/higher/raise +z, down/lower -z; several add up and are normalized. Self-repair ("left,
    no, right"), negation ("not left, right") and "too" ("too high" = down) are understood;
11. "the other way" / "opposite" flips the ``previous`` direction or rotation (without one:
    ``unknown`` with a question);
12. anything else: ``unknown``, confidence 0, a question with examples.

Magnitude: "a little / a bit / slightly / tiny" small, "a lot / much / way / far" large, else
medium. ``context_free`` is false only for ``target`` and ``instruction``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from ifagent_ros.core.language import lexicon as lx
from ifagent_ros.core.language.guard import REFUSAL, is_refused
from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.perception.grounding import Grounder
from ifagent_ros.core.perception.grounding_parser import LEXICON
from ifagent_ros.core.schemas import Correction, PerceivedObject

MAX_CHARS = 500  # longer text is not parsed (only checked for refusals and stop words)
SCAN_CHARS = 10_000  # the guard and the stop check look this far into longer text
CONFIDENCE = 0.9  # a rule matched
EXAMPLES = "Say e.g. 'left', 'a bit higher', 'towards the red bowl'."
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_COLORS = frozenset(k for k, v in LEXICON.items() if v.cat == "color")
_PRONOUNS = frozenset(("it", "that", "them", "this", "those", "these"))
Magnitude = Literal["small", "medium", "large"]


def clean_text(text: object) -> str:
    """``text`` with control/invisible characters as spaces, at most ``SCAN_CHARS`` long."""
    if not isinstance(text, str):
        return ""
    return _CONTROL.sub(" ", text[:SCAN_CHARS])


def normalize(text: str) -> list[str]:
    """Lower-case word tokens, rewrites applied, filler and immediate repeats dropped."""
    s = _NON_WORD.sub(" ", text.lower().replace("\u2019", "").replace("'", ""))
    for pattern, repl in lx.REWRITES:
        s = pattern.sub(repl, s)
    s = lx.FILLER_PHRASES.sub(" ", s)
    tokens: list[str] = []
    for tok in s.split():
        if tok not in lx.FILLER_WORDS and (not tokens or tokens[-1] != tok):
            tokens.append(tok)
    return tokens


def magnitude_of(s: str) -> Magnitude:
    """small / large from modifiers in the normalized text ``s``; small wins ties."""
    if lx.SMALL.search(s):
        return "small"
    return "large" if lx.LARGE.search(s) else "medium"


def _unit(v: Sequence[float]) -> tuple[float, float, float] | None:
    norm = math.sqrt(sum(c * c for c in v))
    if norm < 1e-9:
        return None
    return (round(v[0] / norm, 6) + 0.0, round(v[1] / norm, 6) + 0.0, round(v[2] / norm, 6) + 0.0)


def _segments(tokens: list[str]) -> list[list[str]]:
    """Tokens split at self-repair words ("left, no, right" -> [left], [right])."""
    segs: list[list[str]] = [[]]
    for tok in tokens:
        if tok in lx.REPAIR_WORDS:
            segs.append([])
        else:
            segs[-1].append(tok)
    return [s for s in segs if s]


def _sum_axes(seg: list[str], table: dict[str, lx.Vec]) -> tuple[list[float], bool]:
    """Sum of the axes named in ``seg`` (negated words skipped, "too X" reversed) and whether
    any axis word occurred at all."""
    total = [0.0, 0.0, 0.0]
    negated = inverted = named = False
    for tok in seg:
        if tok in lx.NEGATORS:
            negated = True
        elif tok == "too":
            inverted = True
        elif tok in table:
            named = True
            if negated:
                negated = False
                continue
            sign = -1.0 if inverted else 1.0
            inverted = False
            total = [t + sign * c for t, c in zip(total, table[tok], strict=True)]
    return total, named


def _last_named(tokens: list[str], table: dict[str, lx.Vec]) -> tuple[list[float], bool]:
    """The axes of the last self-repair segment that names any (see :func:`_sum_axes`)."""
    for seg in reversed(_segments(tokens)):
        total, named = _sum_axes(seg, table)
        if named:
            return total, True
    return [0.0, 0.0, 0.0], False


class CorrectionParser:
    """Parses operator corrections; holds a :class:`Grounder` (it remembers what "it" was)."""

    def __init__(self, grounder: Grounder | None = None) -> None:
        self.grounder = grounder or Grounder()

    def parse(
        self,
        text: str,
        objects: Sequence[PerceivedObject | dict[str, Any]] | None = None,
        previous: Correction | None = None,
        stamp: float = 0.0,
    ) -> Correction:
        """The correction ``text`` asks for (never raises; see the module docstring).

        ``objects``: the scene, to ground targets (None: not grounded). ``previous``: the last
        correction, for "the other way"."""
        raw = clean_text(text)
        shown = raw.strip()[:MAX_CHARS]

        def make(kind: str, confidence: float = CONFIDENCE, **fields: Any) -> Correction:
            if kind in ("target", "instruction"):
                fields.setdefault("context_free", False)
            return Correction(stamp=stamp, text=shown, type=kind, confidence=confidence,
                              **fields)

        if is_refused(raw):
            return make("unknown", 0.0, question=REFUSAL)
        if is_stop(raw):
            return make("stop", 1.0)
        if len(raw.strip()) > MAX_CHARS:
            return make(
                "unknown",
                0.0,
                question=f"That is too long ({len(raw.strip())} "
                f"characters; at most {MAX_CHARS}). Say one short correction. {EXAMPLES}",
            )
        tokens = normalize(raw)
        s = " ".join(tokens)
        if not tokens:
            return make("unknown", 0.0, question=self._sorry(shown))
        if lx.UNDO.search(s):
            return make("undo")
        if lx.RESET.search(s):
            return make("reset")
        labels = self._label_tokens(objects)
        if self._is_instruction(tokens, labels):
            return make("instruction")
        has_direction = any(t in lx.DIRECTION_WORDS for t in tokens)
        speed = self._speed(s, has_direction)
        if speed is not None:
            return make("speed", speed_factor=speed, magnitude=magnitude_of(s))
        gripper = self._gripper(s)
        if gripper is not None:
            return make("gripper", gripper=gripper)
        magnitude = magnitude_of(s)
        rotation = self._rotation(tokens)
        if rotation is not None:
            if isinstance(rotation, str):
                return make("unknown", 0.0, question=rotation)
            return make("rotation", rotation=rotation, magnitude=magnitude)
        too_close = self._too_close(tokens, labels)
        if too_close is not None:
            return make("unknown", 0.0, question=f"Too close to {too_close}: which way should I "
                        "move away? Say e.g. 'back', 'up' or 'left'.")
        found = self._target(tokens, labels)
        if found is not None:
            target, relation = found
            return self._grounded(make("target", target=target, relation=relation), target,
                                  objects)
        total, named = _last_named(tokens, lx.DIRECTION_WORDS)
        if not named and any(t in lx.WEAK_FORWARD for t in tokens):
            total, named = list(lx.PX), True
        direction = _unit(total)
        if direction is not None:
            return make("direction", direction=direction, magnitude=magnitude)
        if "otherway" in tokens:
            return self._other_way(previous, make, magnitude)
        if named:
            return make("unknown", 0.0, question="Which way, then? Say e.g. 'left', 'right', "
                        "'up', 'down', 'forward' or 'back'.")
        return make("unknown", 0.0, question=self._sorry(shown))

    # -- the rules ---------------------------------------------------------------------------

    @staticmethod
    def _sorry(shown: str) -> str:
        snippet = " ".join(shown.split())
        snippet = snippet if len(snippet) <= 40 else snippet[:37] + "..."
        return f"Sorry, I did not understand '{snippet}'. {EXAMPLES}"

    @staticmethod
    def _label_tokens(objects: Sequence[Any] | None) -> frozenset[str]:
        """Words of the scene's object labels (open-vocabulary nouns the lexicon lacks)."""
        words: set[str] = set()
        for obj in objects or ():
            label = obj.get("label") if isinstance(obj, dict) else getattr(obj, "label", None)
            if isinstance(label, str):
                words.update(_NON_WORD.sub(" ", label.lower()).split())
        return frozenset(words)

    @staticmethod
    def _is_instruction(tokens: list[str], labels: frozenset[str]) -> bool:
        nouns = lx.NOUNS | labels
        for i, tok in enumerate(tokens):
            if tok not in lx.TASK_VERBS:
                continue
            rest = tokens[i + 1 :]
            if rest and rest[0] == "up":  # "pick up the block"
                rest = rest[1:]
            if tok in lx.OBJECT_FIRST_VERBS and not (
                rest and (rest[0] in lx.DETERMINERS or rest[0] in _COLORS or rest[0] in nouns)
            ):
                continue
            if any(t in nouns and t != "one" for t in rest):
                return True
        return False

    @staticmethod
    def _speed(s: str, has_direction: bool) -> float | None:
        if has_direction and not lx.SPEED_EXPLICIT.search(s):
            return None
        if lx.TOO_SLOW.search(s):
            base = 2.0
        elif lx.TOO_FAST.search(s) or lx.SLOWER.search(s):
            base = 0.5
        elif lx.FASTER.search(s):
            base = 2.0
        else:
            return None
        magnitude = magnitude_of(s)
        if magnitude == "small":
            return 0.75 if base < 1.0 else 1.5
        if magnitude == "large":
            return 0.25 if base < 1.0 else 4.0
        return base

    @staticmethod
    def _gripper(s: str) -> Literal["open", "close"] | None:
        """The last gripper verb said ("open, no, close it" -> close)."""
        opened = [m.start() for m in lx.GRIPPER_OPEN.finditer(s)]
        closed = [m.start() for m in lx.GRIPPER_CLOSE.finditer(s)]
        if not opened and not closed:
            return None
        return "open" if max(opened, default=-1) > max(closed, default=-1) else "close"

    @staticmethod
    def _rotation(tokens: list[str]) -> tuple[float, float, float] | str | None:
        """The rotation axis, a question when a rotation verb has no direction, else None."""
        twist = any(t in lx.TWIST_VERBS for t in tokens)
        tilt = any(t in lx.TILT_VERBS for t in tokens)
        if not (twist or tilt or "cw" in tokens or "ccw" in tokens):
            return None
        table = lx.TILT_AXIS if tilt and not twist else lx.TWIST_AXIS
        if tilt and twist:  # the verb said last decides ("turn, no, tilt it left")
            last = max(i for i, t in enumerate(tokens) if t in lx.TWIST_VERBS | lx.TILT_VERBS)
            table = lx.TILT_AXIS if tokens[last] in lx.TILT_VERBS else lx.TWIST_AXIS
        total, named = _last_named(tokens, table)
        axis = _unit(total)
        if axis is not None:
            return axis
        if "otherway" in tokens or any(t in lx.NOUNS for t in tokens):
            return None  # "rotate the other way" / "turn towards the mug": handled later
        if tilt and not twist:
            return "Which way should I tilt: up, down, left or right?"
        return "Which way should I turn: clockwise (right) or counter-clockwise (left)?"

    @staticmethod
    def _too_close(tokens: list[str], labels: frozenset[str]) -> str | None:
        """The object in "too close to the mug" (a direction away from it is not known)."""
        for i in range(len(tokens) - 2):
            if tokens[i] == "too" and tokens[i + 1] in ("close", "near"):
                rest = tokens[i + 2 :]
                while rest and rest[0] in ("to", "by"):
                    rest = rest[1:]
                if any(t in lx.NOUNS | labels for t in rest):
                    return " ".join(rest)
        return None

    @staticmethod
    def _relation(lead: list[str], phrase: list[str]) -> tuple[list[str], str | None]:
        """The relation said before a target noun phrase (``lead``: the preposition run) and the
        phrase without a leading "the left of" ("to the left of the mug" -> left_of, the mug)."""
        if (len(phrase) > 2 and phrase[0] in lx.DETERMINERS and phrase[1] in
                ("left", "right", "front", "back") and phrase[2] == "of"):
            rest = phrase[3:]
            if any(t in lx.NOUNS or t in _PRONOUNS for t in rest) or rest[:1] == ["the"]:
                side = {"left": "left_of", "right": "right_of", "front": "in_front_of",
                        "back": "behind"}[phrase[1]]
                return rest, side
        if len(lead) >= 2 and lead[-1] == "of" and lead[-2] in ("left", "right"):
            return phrase, f"{lead[-2]}_of"
        relation = None
        for i, word in enumerate(lead):
            if word == "over" and i + 1 < len(lead) and lead[i + 1] in lx.TARGET_PREPS:
                continue  # "over to the mug", "over by the plate"
            if word in lx.RELATIONS:
                relation = lx.RELATIONS[word]
            elif word in ("to", "towards", "toward", "at", "reach", "approach", "for", "find",
                          "aim") and relation != "near":
                relation = None
        return phrase, relation

    @staticmethod
    def _target(tokens: list[str], labels: frozenset[str]) -> tuple[str, str | None] | None:
        """The noun phrase after a target preposition/verb (and the relation the prepositions
        name), or a bare noun phrase."""
        nouns = lx.NOUNS | labels
        for seg in reversed(_segments(tokens)):
            if not any(t in nouns for t in seg) and not any(t in _PRONOUNS for t in seg):
                continue
            for i, tok in enumerate(seg):
                if tok not in lx.TARGET_PREPS:
                    continue
                start = max(0, i - 2) if i >= 1 and seg[i - 1] in ("left", "right") else i
                phrase = seg[i + 1 :]
                while phrase and phrase[0] in lx.TARGET_LEAD:
                    phrase = phrase[1:]
                lead = seg[start : len(seg) - len(phrase)]
                phrase, relation = CorrectionParser._relation(lead, phrase)
                for j, word in enumerate(phrase):
                    if word in lx.TARGET_END or (
                        word == "and" and j + 1 < len(phrase) and phrase[j + 1] not in
                        lx.DETERMINERS and phrase[j + 1] not in _COLORS):
                        phrase = phrase[:j]
                        break
                if any(t in nouns for t in phrase) or (len(phrase) == 1 and phrase[0] in
                                                       _PRONOUNS):
                    return " ".join(phrase), relation
            if (seg[0] in lx.DETERMINERS or seg[0] in _COLORS) and any(t in nouns for t in seg):
                return " ".join(seg), None
        return None

    def _grounded(self, correction: Correction, target: str, objects: Sequence[Any] | None
                  ) -> Correction:
        """``correction`` with ``target_ids`` (and a question when ambiguous or not found)."""
        if objects is None:
            return correction
        try:
            result = self.grounder.ground(target, list(objects))
        except Exception as exc:  # noqa: BLE001 - a grounding bug must not silence the operator
            return correction.model_copy(update={"confidence": 0.3,
                                                 "question": f"I could not find '{target}' "
                                                 f"({type(exc).__name__})."})
        update: dict[str, Any] = {"target_ids": list(result.ids)}
        if result.ambiguous:
            update.update(confidence=0.5, question=result.question)
        elif not result.ids:
            update.update(
                confidence=0.3, question=result.message or f"I can't see '{target}'. Which object?"
            )
        return correction.model_copy(update=update)

    @staticmethod
    def _other_way(previous: Correction | None, make: Any, magnitude: Magnitude) -> Correction:
        if previous is not None and previous.type == "direction" and previous.direction:
            flipped = _unit([-c for c in previous.direction])
            return make("direction", direction=flipped, magnitude=magnitude)
        if previous is not None and previous.type == "rotation" and previous.rotation:
            flipped = _unit([-c for c in previous.rotation])
            return make("rotation", rotation=flipped, magnitude=magnitude)
        return make("unknown", 0.0, question="Which way is the other way? I have no previous "
                    "direction to reverse; say e.g. 'left' or 'up'.")


_DEFAULT: CorrectionParser | None = None


def parse_correction(
    text: str,
    objects: Sequence[PerceivedObject | dict[str, Any]] | None = None,
    previous: Correction | None = None,
    stamp: float = 0.0,
) -> Correction:
    """:meth:`CorrectionParser.parse` with a module-wide parser."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = CorrectionParser()
    return _DEFAULT.parse(text, objects=objects, previous=previous, stamp=stamp)


__all__ = ["MAX_CHARS", "CorrectionParser", "clean_text", "magnitude_of", "normalize",
           "parse_correction"]
