"""Grounding referring expressions ("the second red block from the left") in a list of objects.

:mod:`grounding_parser` turns words into noun phrases; this module gives them their meaning over
:class:`~ifagent_ros.core.schemas.PerceivedObject` lists. No rclpy, no pybullet.

Semantics (all positions in ``base_link`` as the robot sees the table; the robot base is at the
origin):

* colour + noun filter; "object"/"thing"/"one" match any label.
* size superlatives rank by volume ``dx*dy*dz`` ("big", "bigger", "biggest", "large", "small"), by
  height ``dz`` ("tall", "short") or by ``max(dx, dy)`` ("wide", "narrow"); "the bigger bowl" and
  "the biggest bowl" both mean the extreme one.
* space: left = +y, right = -y (swapped when ``flip_left_right``: an operator facing the robot),
  front = -x, back/behind = +x, top = +z. "nearest"/"closest" without a landmark: nearest to the
  robot base. Relations: "left of X" (y beyond X's), "in front of"/"behind", "on"/"in"/"above" X
  (centre inside X's footprint and higher), "below"/"under" X, "between X and Y" (projects inside
  the segment XY, within 0.4 |XY| of it), "closest to"/"next to"/"farthest from" X (distance).
* ordinals rank the same way: "from the left" (default when no direction is given), "from the
  right", "from the front", ...; "last" is the other end.
* cardinals: "the N X" with exactly N matches -> all; with more -> ambiguous; "N X" (indefinite)
  -> the N matches nearest the robot base; fewer than N -> nothing, and a message.
* plurals ("all the red blocks", "every bowl", "the blocks") -> every match.
* references ("it", "that one", "that block", "the same one", "them") -> the object(s) grounded
  last; "the other one" -> not those.
* a singular phrase with several matches -> ``ambiguous`` with every candidate and a question;
  "a block" / "any block" picks the one nearest the robot base instead.
* unknown words are named in ``message`` and nothing is guessed.

After an ambiguous answer, a follow-up without a noun ("the left one", "the red one") is read
among the previous candidates first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ifagent_ros.core.perception.grounding_parser import (
    LEXICON,
    NOUN,
    NounPhrase,
    Relation,
    parse,
    scene_lexicon,
)
from ifagent_ros.core.schemas import PerceivedObject

POSITION_TIE_M = 0.01  # two positions/distances closer than this rank as a tie
SIZE_TIE_RATIO = 0.05  # two sizes within 5 % rank as a tie
ON_MARGIN_M = 0.01  # "on X": the centre may overhang X's footprint by this much
BETWEEN_WIDTH = 0.4  # "between X and Y": at most this fraction of |XY| off the segment
SPACE_SUPERLATIVES = frozenset(("left", "right", "front", "back", "near", "far", "top", "bottom",
                                "middle"))
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth")


@dataclass
class GroundingConfig:
    """``flip_left_right``: "left"/"right" from an operator facing the robot (y is mirrored)."""

    flip_left_right: bool = False


@dataclass
class GroundingResult:
    """``ids``: the objects meant (all candidates when ``ambiguous``; empty when nothing
    matched, then ``message`` says why). ``question`` asks the user to disambiguate. ``family``:
    which kind of expression parsed (colour, size, space, ordinal, cardinal, reference, plural,
    noun, unknown, empty, unparsed). ``destination``: the "in the bowl" of "put ... in the bowl"."""

    ids: list[str]
    ambiguous: bool = False
    question: str | None = None
    message: str | None = None
    family: str = "noun"
    destination: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "ambiguous": self.ambiguous, "question": self.question,
                "message": self.message}


@dataclass(frozen=True, slots=True)
class _Obj:
    id: str
    label: str  # canonical: "cube" -> "block"; open-vocabulary labels as tokens joined by "_"
    color: str
    x: float
    y: float
    z: float
    dx: float
    dy: float
    dz: float

    @property
    def volume(self) -> float:
        return self.dx * self.dy * self.dz

    @property
    def range(self) -> float:
        return math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)


@dataclass
class _Outcome:
    objs: list[_Obj]
    ambiguous: bool = False
    question: str | None = None
    message: str | None = None


def _fail(message: str) -> _Outcome:
    return _Outcome([], message=message)


def _canonical_label(label: str) -> str:
    word = "_".join(label.lower().split())
    lex = LEXICON.get(word)
    if lex is not None and lex.cat == NOUN:
        return str(lex.value) if lex.value else "other"
    return word


def _to_obj(obj: PerceivedObject | Mapping[str, Any]) -> _Obj | None:
    """The object's fields, or None when it is malformed or not finite (then it is skipped)."""
    try:
        if isinstance(obj, Mapping):
            oid, label, color = obj["id"], obj["label"], obj["color"]
            position, size = obj["position"], obj.get("size", (0.0, 0.0, 0.0))
        else:
            oid, label, color, position, size = obj.id, obj.label, obj.color, obj.position, obj.size
        x, y, z = (float(v) for v in position)
        dx, dy, dz = (abs(float(v)) for v in size)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not all(math.isfinite(v) for v in (x, y, z, dx, dy, dz)):
        return None
    color = str(color).lower().strip()
    color = {"grey": "gray", "violet": "purple"}.get(color, color)
    return _Obj(str(oid), _canonical_label(str(label)), color, x, y, z, dx, dy, dz)


def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _number(n: int) -> str:
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


class Grounder:
    """Grounds expressions one after another, remembering what it grounded for "it"/"them"."""

    def __init__(self, config: GroundingConfig | None = None) -> None:
        self.config = config or GroundingConfig()
        self._last: list[str] = []  # ids of the last unambiguous answer
        self._pending: list[str] = []  # candidates of the last ambiguous answer

    @property
    def last_ids(self) -> list[str]:
        return list(self._last)

    def reset(self) -> None:
        self._last, self._pending = [], []

    # -- entry point ---------------------------------------------------------------------------
    def ground(
        self, expression: str, objects: Sequence[PerceivedObject | Mapping[str, Any]]
    ) -> GroundingResult:
        """The objects ``expression`` refers to among ``objects`` (see the module docstring)."""
        if not isinstance(expression, str) or not expression.strip():
            return GroundingResult([], message="The expression is empty: say which object you "
                                   "mean.", family="empty")
        scene: dict[str, _Obj] = {}
        skipped = 0
        for raw in objects or ():
            obj = _to_obj(raw)
            if obj is None:
                skipped += 1
            elif obj.id not in scene:
                scene[obj.id] = obj
        extra = scene_lexicon({o.label for o in scene.values()}, {o.color for o in scene.values()})
        parsed = parse(expression, extra)
        if parsed.unknown:
            words = [f"'{w}'" for w in parsed.unknown]
            noun = "word" if len(words) == 1 else "words"
            return GroundingResult([], message=f"I don't know the {noun} {_or_list(words)}."
                                   .replace(" or ", " and "), family="unknown")
        if parsed.error:
            return GroundingResult([], message=parsed.error, family="unparsed")
        family = _family(parsed.phrases)
        if not scene:
            why = f" ({skipped} had no valid position or size)" if skipped else ""
            return GroundingResult([], message=f"I see no objects{why}.", family=family)
        outcome = self._combine([self._resolve(np, scene) for np in parsed.phrases])
        result = GroundingResult(
            [o.id for o in outcome.objs], outcome.ambiguous, outcome.question,
            outcome.message, family, parsed.destination,
        )
        if result.ambiguous:
            self._pending = list(result.ids)
        elif result.ids:
            self._last, self._pending = list(result.ids), []
        return result

    @staticmethod
    def _combine(outcomes: list[_Outcome]) -> _Outcome:
        """"the red block and the blue bowl": every phrase must ground; the answer is the union."""
        for out in outcomes:
            if not out.objs or out.ambiguous:
                return out
        objs = list({o.id: o for out in outcomes for o in out.objs}.values())
        return _Outcome(objs)

    # -- one noun phrase -----------------------------------------------------------------------
    def _resolve(self, np: NounPhrase, scene: dict[str, _Obj]) -> _Outcome:
        pool, failure = self._pool(np, scene)
        if failure is not None:
            return failure
        cands = [o for o in pool if self._matches(o, np)]
        if not cands:
            if np.reference:
                return _fail(f"What I referred to last is not {_a(_head(np))}.")
            return _fail(f"I see no {_head(np, plural=np.is_plural)}.")
        landmark_question: str | None = None
        for rel in np.relations:
            if rel.kind in ("closest_to", "farthest_from"):
                continue
            cands, failure, question = self._filter_relation(rel, cands, scene)
            landmark_question = landmark_question or question
            if failure is not None:
                return failure
            if not cands:
                return _fail(f"I see no {_describe(np)}.")
        ranking = self._ranking(np, scene)
        if isinstance(ranking, _Outcome):
            return ranking
        out = self._select(np, cands, ranking)
        if out.ambiguous and landmark_question:
            out.question = landmark_question
        return out

    def _pool(self, np: NounPhrase, scene: dict[str, _Obj]) -> tuple[list[_Obj], _Outcome | None]:
        """Where to look: the remembered objects for a reference, else the scene (or, right after
        an ambiguous answer and for a phrase without a noun, the previous candidates)."""
        if np.reference:
            if not self._last:
                return [], _fail("There is nothing to refer to yet: tell me which object you mean.")
            remembered = [scene[i] for i in self._last if i in scene]
            if not remembered:
                gone = ", ".join(self._last)
                return [], _fail(f"I no longer see what I referred to before ({gone}).")
            return remembered, None
        everything = list(scene.values())
        if np.other and self._last:
            return [o for o in everything if o.id not in self._last], None
        if self._pending and np.generic and not np.relations:
            pending = [scene[i] for i in self._pending if i in scene]
            if any(self._matches(o, np) for o in pending):
                return pending, None
        return everything, None

    @staticmethod
    def _matches(obj: _Obj, np: NounPhrase) -> bool:
        if np.label is not None and obj.label != np.label:
            return False
        return all(obj.color == c for c in np.colors)

    # -- relations -----------------------------------------------------------------------------
    def _landmarks(
        self, np: NounPhrase, scene: dict[str, _Obj]
    ) -> tuple[list[_Obj], _Outcome | None, str | None]:
        """The objects a landmark phrase names; several when it is ambiguous (then any of them
        may serve, and its question is kept in case the target stays ambiguous too)."""
        out = self._resolve(np, scene)
        if not out.objs:
            return [], out, None
        return out.objs, None, out.question if out.ambiguous else None

    def _filter_relation(
        self, rel: Relation, cands: list[_Obj], scene: dict[str, _Obj]
    ) -> tuple[list[_Obj], _Outcome | None, str | None]:
        groups: list[list[_Obj]] = []
        question = None
        for lm_np in rel.landmarks:
            objs, failure, q = self._landmarks(lm_np, scene)
            if failure is not None:
                return [], failure, None
            groups.append(objs)
            question = question or q
        test = self._relation_test(rel.kind)
        if rel.kind == "between" and len(groups[0]) * len(groups[1]) > 64:
            return cands, None, question  # too many readings to try: ask about the landmarks
        if rel.kind == "between":
            keep = [t for t in cands if any(
                _between(t, a, b) for a in groups[0] for b in groups[1] if a.id != b.id
            ) and all(t.id != o.id for g in groups for o in g)]
        else:
            keep = [t for t in cands if any(t.id != lm.id and test(t, lm) for lm in groups[0])]
        return keep, None, question

    def _relation_test(self, kind: str) -> Callable[[_Obj, _Obj], bool]:
        side = -1.0 if self.config.flip_left_right else 1.0
        tests: dict[str, Callable[[_Obj, _Obj], bool]] = {
            "left_of": lambda t, lm: side * (t.y - lm.y) > 0.0,
            "right_of": lambda t, lm: side * (t.y - lm.y) < 0.0,
            "front_of": lambda t, lm: t.x < lm.x,
            "behind": lambda t, lm: t.x > lm.x,
            "on": _on,
            "below": lambda t, lm: _on(lm, t),
            "between": lambda t, lm: False,
        }
        return tests[kind]

    # -- ranking: superlatives, ordinals, closest/farthest -------------------------------------
    def _key(self, name: str) -> tuple[Callable[[_Obj], float], bool]:
        """(key, relative): objects rank by decreasing key; ``relative``: ties by ratio."""
        side = -1.0 if self.config.flip_left_right else 1.0
        keys: dict[str, tuple[Callable[[_Obj], float], bool]] = {
            "biggest": (lambda o: o.volume, True),
            "smallest": (lambda o: -o.volume, True),
            "tallest": (lambda o: o.dz, True),
            "shortest": (lambda o: -o.dz, True),
            "widest": (lambda o: max(o.dx, o.dy), True),
            "narrowest": (lambda o: -max(o.dx, o.dy), True),
            "left": (lambda o: side * o.y, False),
            "right": (lambda o: -side * o.y, False),
            "front": (lambda o: -o.x, False),
            "back": (lambda o: o.x, False),
            "near": (lambda o: -o.range, False),
            "far": (lambda o: o.range, False),
            "top": (lambda o: o.z, False),
            "bottom": (lambda o: -o.z, False),
        }
        return keys[name]

    def _ranking(
        self, np: NounPhrase, scene: dict[str, _Obj]
    ) -> tuple[Callable[[_Obj], float], bool] | str | None | _Outcome:
        """How to rank candidates: a key, "middle", None (no ranking) or a landmark failure."""
        if np.ordinal_direction is not None:
            return "middle" if np.ordinal_direction == "middle" else self._key(np.ordinal_direction)
        for rel in np.relations:
            if rel.kind in ("closest_to", "farthest_from"):
                objs, failure, _ = self._landmarks(rel.landmarks[0], scene)
                if failure is not None:
                    return failure
                sign = -1.0 if rel.kind == "closest_to" else 1.0
                ids = {o.id for o in objs}

                def distance_key(o: _Obj, objs: list[_Obj] = objs, sign: float = sign) -> float:
                    if o.id in ids:
                        return -math.inf  # a landmark is never the closest to itself
                    return sign * min(math.dist((o.x, o.y, o.z), (a.x, a.y, a.z)) for a in objs)

                return distance_key, False
        if np.superlatives:
            name = np.superlatives[0]
            return "middle" if name == "middle" else self._key(name)
        if np.ordinal is not None:
            return self._key("left")
        return None

    def _select(self, np: NounPhrase, cands: list[_Obj], ranking: Any) -> _Outcome:
        if ranking == "middle":
            return self._middle(np, cands)
        if ranking is not None:
            return self._ranked(np, cands, ranking)
        return self._counted(np, cands)

    def _ranked(
        self, np: NounPhrase, cands: list[_Obj], ranking: tuple[Callable[[_Obj], float], bool]
    ) -> _Outcome:
        key, relative = ranking
        order = sorted(cands, key=key, reverse=True)
        order = [o for o in order if key(o) != -math.inf]
        if np.ordinal is not None:
            index = np.ordinal - 1 if np.ordinal > 0 else len(order) - 1
            if index >= len(order):
                return _fail(self._too_few(np, len(order)))
            tied = [o for o in order if _tie(key(o), key(order[index]), relative)]
            return self._one_or_ambiguous(np, tied)
        wanted = np.count or 1
        if len(order) < wanted:
            return _fail(self._too_few(np, len(order)))
        chosen = order[:wanted]
        if wanted < len(order) and _tie(key(order[wanted - 1]), key(order[wanted]), relative):
            boundary = key(order[wanted - 1])
            tied = [o for o in order if _tie(key(o), boundary, relative)]
            return _Outcome(list({o.id: o for o in chosen[:-1] + tied}.values()), True,
                            self._question(tied, np))
        return _Outcome(chosen)

    def _middle(self, np: NounPhrase, cands: list[_Obj]) -> _Outcome:
        order = sorted(cands, key=self._key("left")[0], reverse=True)
        if len(order) % 2 == 1:
            return _Outcome([order[len(order) // 2]])
        centre = order[len(order) // 2 - 1 : len(order) // 2 + 1]
        return _Outcome(centre, True, self._question(centre, np))

    def _counted(self, np: NounPhrase, cands: list[_Obj]) -> _Outcome:
        """No ranking: plural -> all; cardinal -> N; singular -> the one, or ambiguous."""
        if np.determiner == "all" or (np.is_plural and np.count is None):
            return _Outcome(cands)
        wanted = np.count or 1
        if len(cands) < wanted:
            return _fail(self._too_few(np, len(cands)))
        if np.determiner == "indef" or (np.count is not None and np.determiner is None):
            return _Outcome(sorted(cands, key=lambda o: (o.range, o.id))[:wanted])
        if len(cands) == wanted:
            return _Outcome(cands)
        if np.count is not None:
            head = _head(np, plural=True)
            question = f"Which {_number(wanted)} {head}? I see {_number(len(cands))}."
            return _Outcome(cands, True, question)
        return _Outcome(cands, True, self._question(cands, np))

    def _one_or_ambiguous(self, np: NounPhrase, objs: list[_Obj]) -> _Outcome:
        if len(objs) == 1:
            return _Outcome(objs)
        return _Outcome(objs, True, self._question(objs, np))

    @staticmethod
    def _too_few(np: NounPhrase, n: int) -> str:
        if n == 0:
            return f"I see no {_head(np, plural=True)}."
        verb = "is" if n == 1 else "are"
        return f"There {verb} only {_number(n)} {_head(np, plural=n != 1)}."

    # -- clarifying questions ------------------------------------------------------------------
    def _question(self, cands: list[_Obj], np: NounPhrase) -> str:
        """A short question that tells the candidates apart by the most telling attribute:
        label, then colour, then left/right or front/back, then size, then rank from the left."""
        left_key = self._key("left")[0]
        order = sorted(cands, key=left_key, reverse=True)
        labels = {o.label for o in order}
        colors = {o.color for o in order}
        label = order[0].label.replace("_", " ") if len(labels) == 1 else "object"
        head = f"Which {order[0].color + ' ' if len(colors) == 1 else ''}{label}"
        n = len(order)
        if 1 < n <= 4 and len(labels) == n:
            return f"{head}: {_or_list(['the ' + o.label.replace('_', ' ') for o in order])}?"
        if 1 < n <= 4 and len(colors) == n:
            return f"{head}: {_or_list(['the ' + o.color for o in order])} one?"
        gaps = [left_key(a) - left_key(b) for a, b in zip(order, order[1:], strict=False)]
        if n == 2:
            a, b = order
            dy, dx = gaps[0], abs(a.x - b.x)
            if max(dx, dy) >= 0.03:
                pair = "the left or the right" if dy >= dx else "the front or the back"
                return f"{head}: {pair} one?"
            if max(a.volume, b.volume) > 1.2 * min(a.volume, b.volume):
                return f"{head}: the bigger or the smaller one?"
            return f"{head}: {a.id} or {b.id}?"
        if n == 3 and min(gaps) >= 0.03:
            return f"{head}: the left, the middle or the right one?"
        if n <= len(ORDINAL_WORDS) and min(gaps) >= 0.02:
            return f"{head}: {_or_list(['the ' + w for w in ORDINAL_WORDS[:n]])} from the left?"
        return f"{head}? I see {_number(n)} of them: say its colour, size or position."


def _tie(a: float, b: float, relative: bool) -> bool:
    if relative:
        return abs(a - b) <= SIZE_TIE_RATIO * max(abs(a), abs(b))
    return abs(a - b) <= POSITION_TIE_M


def _on(t: _Obj, lm: _Obj) -> bool:
    """``t`` is on/in ``lm``: its centre above ``lm``'s centre, inside its footprint."""
    return (
        t.z > lm.z
        and abs(t.x - lm.x) <= lm.dx / 2 + ON_MARGIN_M
        and abs(t.y - lm.y) <= lm.dy / 2 + ON_MARGIN_M
    )


def _between(t: _Obj, a: _Obj, b: _Obj) -> bool:
    """``t`` projects strictly inside segment ab (xy) and lies near it."""
    ax, ay = b.x - a.x, b.y - a.y
    length2 = ax * ax + ay * ay
    if length2 <= 1e-12:
        return False
    s = ((t.x - a.x) * ax + (t.y - a.y) * ay) / length2
    off = abs((t.x - a.x) * ay - (t.y - a.y) * ax) / math.sqrt(length2)
    return 0.0 < s < 1.0 and off <= BETWEEN_WIDTH * math.sqrt(length2)


def _head(np: NounPhrase, plural: bool = False) -> str:
    """"red block(s)": colours and the head noun as the user said it ("object" for "one")."""
    noun = (np.noun or "object").replace("_", " ")
    noun = "object" if noun == "one" else noun
    return " ".join([*np.colors, _plural(noun) if plural else noun])


def _describe(np: NounPhrase) -> str:
    """The phrase as said, without its leading determiner: "block left of the green bowl"."""
    words = list(np.words)
    while words and words[0] in ("the", "a", "an", "any", "some", "that", "this"):
        words.pop(0)
    return " ".join(w.replace("_", " ") for w in words) or "such object"


def _a(text: str) -> str:
    return ("an " if text[:1] in "aeiou" else "a ") + text


def _family(phrases: list[NounPhrase]) -> str:
    """Which family of expression parsed (the first phrase decides; several -> plural)."""
    if len(phrases) > 1:
        return "plural"
    np = phrases[0]
    if np.reference:
        return "reference"
    if np.count is not None:
        return "cardinal"
    if np.ordinal is not None:
        return "ordinal"
    if np.determiner == "all" or np.is_plural:
        return "plural"
    if np.relations or any(s in SPACE_SUPERLATIVES for s in np.superlatives):
        return "space"
    if np.superlatives:
        return "size"
    return "colour" if np.colors else "noun"


__all__ = ["GroundingConfig", "GroundingResult", "Grounder"]
