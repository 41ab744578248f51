"""Rule-based decomposition of a navigation instruction into ordered sub-goals (A2Nav-style).

"Exit the bedroom, turn right at the stairs and wait by the fridge in the kitchen" becomes::

    exit(room=bedroom) -> go_to(stairs) -> turn_right -> stop_at(refrigerator, room=kitchen)

Each sentence is split into clauses (punctuation, "and"/"then" before a verb), each clause into
segments that start at an action keyword ("into", "past", "up", "stop", ...); a segment's action
takes the landmark or room named inside it. "turn left at / after / when you reach X" is
reordered so that X comes first. Words the lexicon does not know are kept in
``ParsedInstruction.unknown_nouns`` so callers can say what they ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ifagent_ros.core.vln.lexicon import Lexicon, normalize

Action = Literal[
    "turn_left", "turn_right", "turn_around", "forward", "go_to", "go_past", "go_into",
    "go_through", "exit", "go_up", "go_down", "stop_at",
]
MOTION_ACTIONS = frozenset({"forward", "go_to", "go_past", "go_into", "go_through", "exit",
                            "go_up", "go_down"})
TURN_ACTIONS = frozenset({"turn_left", "turn_right", "turn_around"})
Side = Literal["left", "right", "ahead"]

MAX_CHARS = 2000

_TURN_VERBS = frozenset({"turn", "take", "make", "hang", "veer", "bear", "go", "head", "walk",
                         "swing", "curve", "step", "move", "then", "and", "turning", "taking",
                         "making", "veering", "pivot", "rotate"})
_TURN_FILLERS = frozenset({"a", "an", "the", "to", "your", "slight", "slightly", "sharp",
                           "hard", "immediate", "immediately", "quick", "first", "second",
                           "third", "next", "another", "90", "degree", "degrees", "quarter",
                           "little", "bit", "and", "full", "soft", "again", "right", "left"})
_AROUND = re.compile(r"\b(turn(ing)? (yourself )?(all the way )?around|turn back|u turn|"
                     r"about face|180|one eighty|opposite direction|spin around)\b")
_STAIRS_WORDS = frozenset({"stairs", "stair", "steps", "step", "staircase", "stairway",
                           "stairwell", "flight", "flights", "staircases", "ramp"})
# keyword -> action; a segment runs from one keyword to the next
_KEYWORDS: dict[str, Action] = {
    "exit": "exit", "exiting": "exit", "leave": "exit", "leaving": "exit", "out": "exit",
    "outside": "go_into",
    "enter": "go_into", "entering": "go_into", "into": "go_into", "inside": "go_into",
    "through": "go_through", "thru": "go_through", "across": "go_through",
    "between": "go_through", "along": "go_through", "throughout": "go_through",
    "past": "go_past", "passed": "go_past", "pass": "go_past", "passing": "go_past",
    "beyond": "go_past", "after": "go_past",
    "stop": "stop_at", "wait": "stop_at", "stand": "stop_at", "halt": "stop_at",
    "remain": "stop_at", "stay": "stop_at", "stopping": "stop_at", "waiting": "stop_at",
    "standing": "stop_at", "finish": "stop_at", "end": "stop_at",
    "to": "go_to", "towards": "go_to", "toward": "go_to", "reach": "go_to", "until": "go_to",
    "till": "go_to", "approach": "go_to", "at": "go_to", "arrive": "go_to", "reaching": "go_to",
    "forward": "forward", "straight": "forward", "ahead": "forward", "continue": "forward",
    "proceed": "forward", "keep": "forward", "forwards": "forward",
    "up": "go_up", "upstairs": "go_up", "climb": "go_up", "ascend": "go_up",
    "down": "go_down", "downstairs": "go_down", "descend": "go_down",
}
# "turn left <connective> X": X happens first
_BEFORE_TURN = frozenset({"at", "after", "when", "once", "upon", "reach", "reaching"})
_CLAUSE_VERBS = ("walk|go|turn|take|make|stop|wait|enter|exit|leave|continue|head|proceed|"
                 "climb|pass|move|stand|keep|veer|bear|hang|follow|step|cross|descend|ascend|"
                 "travel|then")
_CLAUSE_SPLIT = re.compile(rf"[.;!?,\n]+|\band then\b|\bthen\b|\band (?=(?:{_CLAUSE_VERBS})\b)")
_STOP_WORDS = frozenset(normalize(
    "the a an and then to of in on at you your go walk turn left right into through past "
    "until is are it that this there with from by towards toward near next front stop wait "
    "take make up down out enter exit straight forward ahead around continue when once keep "
    "side way area room end top bottom first second third last all just before after head "
    "reach get see which will be as its you ll re s t one two three four between across "
    "along inside outside behind other another over under leave step steps slightly sharp "
    "far close stand facing face immediately again toward proceed pass passing passed back "
    "follow flight edge middle corner set where so here open opening both set".replace(
        "\n", " ")).split())


@dataclass(frozen=True)
class SubGoal:
    action: Action
    landmark: str | None = None  # canonical landmark ("stairs", "couch")
    room: str | None = None  # canonical room ("kitchen")
    side: Side | None = None  # "on your left" -> "left"
    text: str = ""  # the words it came from

    @property
    def target(self) -> str | None:
        """What to look for: the room when entering/leaving/crossing one, else the landmark."""
        if self.action in ("go_into", "exit", "go_through") and self.room:
            return self.room
        return self.landmark or self.room

    def describe(self) -> str:
        words = self.action.replace("_", " ")
        if self.landmark:
            words += f" the {self.landmark}"
        if self.room:
            words += f" in the {self.room}" if self.landmark else f" the {self.room}"
        if self.side:
            words += f" (on the {self.side})"
        return words


@dataclass(frozen=True)
class ParsedInstruction:
    text: str
    subgoals: tuple[SubGoal, ...]
    unknown_nouns: tuple[str, ...] = field(default=())

    @property
    def landmarks(self) -> tuple[str, ...]:
        return tuple(g.target for g in self.subgoals if g.target)

    @property
    def last_landmark(self) -> str | None:
        return self.landmarks[-1] if self.landmarks else None

    def describe(self) -> str:
        return " -> ".join(g.describe() for g in self.subgoals) or "(no sub-goals)"


@dataclass
class _Segment:
    action: Action | None
    words: list[str]
    keyword: str = ""


class InstructionParser:
    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or Lexicon.default()

    def parse(self, text: str) -> ParsedInstruction:
        if not isinstance(text, str):
            raise TypeError(f"instruction must be a string, got {type(text).__name__}")
        text = text[:MAX_CHARS]
        goals: list[SubGoal] = []
        unknown: list[str] = []
        for clause in _CLAUSE_SPLIT.split(text.lower()):
            words = normalize(clause).split()
            if words:
                goals.extend(self._clause(words))
                unknown.extend(self._unknown(words))
        goals = _tidy(goals)
        return ParsedInstruction(text=text, subgoals=tuple(goals),
                                 unknown_nouns=tuple(dict.fromkeys(unknown)))

    def _unknown(self, words: list[str]) -> list[str]:
        known = set()
        for i, _, _, phrase in self.lexicon.find_terms(" ".join(words)):
            known.update(range(i, i + len(phrase.split())))
        return [w for i, w in enumerate(words) if i not in known and w not in _STOP_WORDS
                and w not in _KEYWORDS and w not in _TURN_VERBS and not w.isdigit()
                and len(w) > 2]

    def _clause(self, words: list[str]) -> list[SubGoal]:
        text = " ".join(words)
        turns: list[tuple[int, Action]] = []
        sides: dict[int, Side] = {}
        if m := _AROUND.search(text):
            turns.append((len(text[:m.start()].split()), "turn_around"))
        for i, w in enumerate(words):
            if w in ("left", "right"):
                kind = _left_right_role(words, i)
                if kind == "turn":
                    turns.append((i, "turn_left" if w == "left" else "turn_right"))
                elif kind == "side":
                    sides[i] = w  # type: ignore[assignment]
        turn_idx = {i for i, _ in turns}
        segments = _segments(words, turn_idx)
        goals: list[tuple[int, SubGoal]] = []
        for start, seg in segments:
            goal = self._segment_goal(seg, start, sides)
            if goal is not None:
                goals.append((start, goal))
        for i, action in turns:
            goals.append((i, SubGoal(action, text=" ".join(words[max(0, i - 2): i + 1]))))
        goals.sort(key=lambda ig: ig[0])
        return _reorder_turns(goals, segments)

    def _segment_goal(self, seg: _Segment, start: int,
                      sides: dict[int, Side]) -> SubGoal | None:
        # the keyword itself is not a landmark ("exit" is also a door word)
        body = seg.words[1:] if seg.keyword else seg.words
        if " ".join(body[-2:]) in ("behind you", "at your back"):
            return None  # "with the desk behind you": where the agent starts, not a goal
        terms = self.lexicon.find_terms(" ".join(body))
        start += len(seg.words) - len(body)
        landmark = next((c for _, k, c, _ in terms if k == "landmark"), None)
        room = next((c for _, k, c, _ in terms if k == "room"), None)
        side = next((s for i, s in sides.items() if start <= i < start + len(body)), None)
        if seg.action in (None, "forward") and seg.words and seg.words[0] == "ahead" and side:
            side = None
        action = seg.action
        stairs_near = any(w in _STAIRS_WORDS for w in seg.words[:4]) or landmark == "stairs"
        if action in ("go_up", "go_down"):
            if seg.keyword in ("up", "down") and not stairs_near:
                # "down the hall" / "up to the table": not stairs
                action = "go_through" if seg.keyword == "down" else "go_to"
            else:
                landmark = "stairs" if landmark in (None, "stairs") else landmark
        if action is None:
            action = "go_to" if (landmark or room) else None
        if action is None:
            return None
        if action in ("go_to", "go_past", "go_through", "go_into") and not (landmark or room):
            return None if action != "go_through" else SubGoal("forward", text=" ".join(seg.words))
        if action == "exit" and not (landmark or room):
            room = "room" if seg.keyword != "out" else None
            if room is None:
                return None
        return SubGoal(action, landmark=landmark, room=room, side=side,
                       text=" ".join(seg.words))


def _left_right_role(words: list[str], i: int) -> str | None:
    """"turn"/"side"/None for the "left"/"right" at ``i``."""
    prev = words[max(0, i - 2):i]
    if prev[-2:] in (["on", "your"], ["on", "the"], ["to", "your"], ["of", "the"],
                     ["on", "their"]) or prev[-1:] in (["on"], ["your"]):
        before = words[max(0, i - 6):i - 2]
        if not any(w in ("turn", "take", "make", "veer", "bear", "hang") for w in before):
            return "side"
    if i == 0:
        return "turn"
    for j in range(i - 1, max(-1, i - 5), -1):
        if words[j] in _TURN_VERBS:
            return "turn"
        if words[j] not in _TURN_FILLERS:
            break
    if i + 1 < len(words) and words[i + 1] in ("turn", "hand"):
        return "turn"  # "a left turn", "right hand ..."
    return "side"


def _segments(words: list[str], turn_idx: set[int]) -> list[tuple[int, _Segment]]:
    cuts: list[tuple[int, Action | None, str]] = [(0, None, "")]
    for i, w in enumerate(words):
        action = _KEYWORDS.get(w)
        if action is None and i not in turn_idx:
            continue
        if w == "out" and i + 1 < len(words) and words[i + 1] == "of":
            action = "exit"
        if w == "to" and (i + 1 < len(words) and words[i + 1] in ("the", "your")
                          and i + 2 < len(words) and words[i + 2] in ("left", "right")):
            continue
        if w == "to" and i > 0 and words[i - 1] in ("next", "close", "up", "way", "due"):
            continue
        if cuts[-1][1] == "stop_at" and action in ("go_to", "forward", "stop_at"):
            continue  # "stop in the doorway to the bedroom at the end": one stop
        cuts.append((i, action, w))
    out = []
    for k, (i, action, w) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(words)
        if end > i:
            out.append((i, _Segment(action, words[i:end], w)))
    return out


def _reorder_turns(goals: list[tuple[int, SubGoal]],
                   segments: list[tuple[int, _Segment]]) -> list[SubGoal]:
    """"turn left at the X" -> go to X first; "turn left after X" -> go past X first."""
    keyword_at = {i: seg.keyword for i, seg in segments}
    out: list[SubGoal] = []
    for k, (i, goal) in enumerate(goals):
        prev = out[-1] if out else None
        if (prev is not None and prev.action in TURN_ACTIONS and goal.action in ("go_to",
                                                                                 "go_past")
                and keyword_at.get(i) in _BEFORE_TURN and k > 0):
            first = goal if keyword_at.get(i) != "after" else SubGoal(
                "go_past", goal.landmark, goal.room, goal.side, goal.text)
            out[-1:] = [first, prev]
        else:
            out.append(goal)
    return out


def _tidy(goals: list[SubGoal]) -> list[SubGoal]:
    """Merge repeats, give a bare stop the last target, end every plan with a stop."""
    out: list[SubGoal] = []
    for g in goals:
        if out and g == out[-1]:
            continue
        if out and g.action == "forward" and out[-1].action == "forward":
            continue
        if (out and g.action in ("go_up", "go_down") and out[-1].action == g.action):
            continue
        out.append(g)
    last_target = next((g for g in reversed(out) if g.target and g.action != "exit"), None)
    if not out or out[-1].action != "stop_at":
        out.append(SubGoal("stop_at", text="(end of instruction)"))
    stop = out[-1]
    if stop.target is None and last_target is not None:
        out[-1] = SubGoal("stop_at", landmark=last_target.landmark, room=last_target.room,
                          side=stop.side, text=stop.text)
    # a stop in the middle ("wait at the door then ...") is a go_to
    return [SubGoal("go_to", g.landmark, g.room, g.side, g.text)
            if g.action == "stop_at" and k < len(out) - 1 else g for k, g in enumerate(out)
            if not (g.action == "stop_at" and k < len(out) - 1 and g.target is None)]


def parse_instruction(text: str, lexicon: Lexicon | None = None) -> ParsedInstruction:
    return InstructionParser(lexicon).parse(text)
