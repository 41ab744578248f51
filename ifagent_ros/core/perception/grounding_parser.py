"""Referring expressions -> noun phrases: a hand-written lexicon and a recursive-descent parser.

The parser knows words, not scenes: it turns "pick up the second red block from the left" into a
:class:`NounPhrase` (determiner, count, ordinal, colours, label, superlatives, relations to other
noun phrases). :mod:`grounding` gives those phrases their meaning over a list of objects. Words the
lexicon does not hold are reported, never guessed; the caller may add scene vocabulary (an
open-vocabulary label such as "tennis ball", a colour such as "beige") per call.

Grammar (fillers such as "please", "pick", "up" may appear anywhere and are skipped)::

    expression := lead* phrase ("and" phrase)* [destination]
    phrase     := premod* [noun] postmod*
    premod     := determiner | pronoun | number | ordinal | colour | size/space adjective
    postmod    := "from the" DIR | (on|in|at|to) "the" DIR | DIR "of" phrase | "in front of" phrase
                | "behind" phrase | NEAR ["to"] phrase | FAR ["from"] phrase | (on|in|...) phrase
                | "above" phrase | "below" phrase | "between" phrase "and" phrase
    destination := (into|onto|in|on|to|...) ...   only after a placing verb ("put", "move", ...)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Lexeme categories.
DET, PRON, NUM, ORD, COLOR, NOUN, ADJ, PREP, ROBOT, CONJ, FILLER = (
    "det", "pron", "num", "ord", "color", "noun", "adj", "prep", "robot", "conj", "filler"
)


@dataclass(frozen=True)
class Lexeme:
    """One word's meaning. ``value``: canonical form (label, colour, superlative, count, ...)."""

    cat: str
    value: str | int | None = None
    plural: bool = False
    surface: str = ""  # singular surface form of a noun, for messages ("cube" for "cubes")


def _nouns(canonical: str | None, *words: str, generic: bool = False) -> dict[str, Lexeme]:
    out: dict[str, Lexeme] = {}
    for word in words:
        plural = word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
        out[word] = Lexeme(NOUN, canonical, False, "one" if generic else word)
        out[plural] = Lexeme(NOUN, canonical, True, "one" if generic else word)
    return out


COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "white", "gray",
          "black", "cyan")
COLOR_SYNONYMS = {"grey": "gray", "violet": "purple"}

# Superlative adjectives: word -> superlative name. Size ones rank by the object's extent, space
# ones by its position (grounding.py defines both).
SIZE_WORDS = {
    **dict.fromkeys(("big", "bigger", "biggest", "large", "larger", "largest", "huge"), "biggest"),
    **dict.fromkeys(("small", "smaller", "smallest", "little", "tiny", "littlest"), "smallest"),
    **dict.fromkeys(("tall", "taller", "tallest"), "tallest"),
    **dict.fromkeys(("short", "shorter", "shortest", "flat", "flatter", "flattest"), "shortest"),
    **dict.fromkeys(("wide", "wider", "widest", "broad", "long", "longer", "longest"), "widest"),
    **dict.fromkeys(
        ("narrow", "narrower", "narrowest", "thin", "thinner", "thinnest"), "narrowest"
    ),
}
SPACE_WORDS = {
    **dict.fromkeys(("left", "leftmost", "lefthand"), "left"),
    **dict.fromkeys(("right", "rightmost", "righthand"), "right"),
    **dict.fromkeys(("front", "frontmost", "fore", "foremost"), "front"),
    **dict.fromkeys(("back", "backmost", "rear", "rearmost", "hindmost"), "back"),
    **dict.fromkeys(("near", "nearest", "nearer", "closest", "closer", "close"), "near"),
    **dict.fromkeys(("far", "farthest", "furthest", "farther", "further"), "far"),
    **dict.fromkeys(("top", "topmost", "highest", "higher", "upper", "uppermost"), "top"),
    **dict.fromkeys(("bottom", "bottommost", "lowest", "lower", "lowermost"), "bottom"),
    **dict.fromkeys(("middle", "center", "centre", "central", "centermost"), "middle"),
}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "couple": 2, "pair": 2}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "last": -1}
PLACING_VERBS = ("put", "place", "move", "drop", "stack", "set", "bring", "slide", "push",
                 "transfer", "carry", "throw", "toss", "insert", "lay", "position")
FILLERS = (
    "please", "pls", "kindly", "pick", "up", "grab", "take", "get", "fetch", "give", "hand", "pull",
    "lift", "hold", "release", "touch", "point", "show", "find", "select", "choose", "go", "reach",
    "use", "me", "i", "we", "us", "let", "lets", "can", "could", "would", "will", "should", "want",
    "like", "need", "hey", "ok", "okay", "now", "then", "just", "also", "there", "here", "is",
    "are", "be", "which", "who", "for", "thanks", "thank", "quickly", "carefully", "gently",
    "slowly", "see", "look", "do", "side", "end", "edge", "corner", "row", "located", "placed",
    "sitting", "lying", "standing", "sits", "lies", "stands", "currently", "exactly", "again",
    "away", "its", "resting", "rests", "positioned", "dark", "light", "bright", "colored",
    "coloured", "well", "yes", "alright", "uh", "um", "uhm", "er", "erm", "hmm", "ah", "oh", "so",
    "maybe", "actually", "you", "know", "thats", "theres",
)

LEXICON: dict[str, Lexeme] = {
    **{w: Lexeme(FILLER) for w in FILLERS},
    **{w: Lexeme(FILLER, "place") for w in PLACING_VERBS},
    **{c: Lexeme(COLOR, c) for c in COLORS},
    **{w: Lexeme(COLOR, c) for w, c in COLOR_SYNONYMS.items()},
    **_nouns("block", "block", "cube", "brick", "box"),
    **_nouns("bowl", "bowl", "basin"),
    **_nouns("plate", "plate", "dish", "saucer"),
    **_nouns("mug", "mug", "cup"),
    **_nouns("cylinder", "cylinder", "tube"),
    **_nouns(None, "object", "thing", "item", "piece"),
    **_nouns(None, "one", generic=True),
    "everything": Lexeme(NOUN, None, True, "object"),
    **{w: Lexeme(ADJ, s) for w, s in {**SIZE_WORDS, **SPACE_WORDS}.items()},
    **{w: Lexeme(NUM, n) for w, n in NUMBERS.items()},  # "one" is a noun too: decided in context
    **{w: Lexeme(ORD, n) for w, n in ORDINALS.items()},
    "the": Lexeme(DET, "def"), "a": Lexeme(DET, "indef"), "an": Lexeme(DET, "indef"),
    "any": Lexeme(DET, "indef"), "some": Lexeme(DET, "indef"),
    "all": Lexeme(DET, "all"), "every": Lexeme(DET, "all"), "each": Lexeme(DET, "all"),
    "both": Lexeme(DET, "both"),
    "it": Lexeme(PRON, "it"), "this": Lexeme(PRON, "that"), "that": Lexeme(PRON, "that"),
    "them": Lexeme(PRON, "them"), "they": Lexeme(PRON, "them"), "these": Lexeme(PRON, "those"),
    "those": Lexeme(PRON, "those"), "same": Lexeme(PRON, "same"),
    "other": Lexeme(PRON, "other"), "another": Lexeme(PRON, "other"),
    **{w: Lexeme(PREP, w) for w in (
        "of", "to", "from", "on", "onto", "upon", "in", "into", "inside", "within", "atop", "at",
        "above", "over", "under", "below", "beneath", "underneath", "between", "behind", "beyond",
        "next", "beside", "by", "adjacent", "with")},
    **{w: Lexeme(ROBOT) for w in ("robot", "you", "yourself", "base", "arm", "gripper")},
    "and": Lexeme(CONJ, "and"),
}
# Where the grammar expects nothing else, these are skipped like fillers ("give it to me").
SOFT_WORDS = frozenset(("of", "to", "at", "with", "that", "you", "robot", "yourself"))
NEAR_WORDS = frozenset(("near", "nearest", "nearer", "closest", "closer", "close", "next",
                        "beside", "by", "adjacent"))
FAR_WORDS = frozenset(("far", "farthest", "furthest", "farther", "further"))
CONTAINER_PREPS = frozenset(("on", "onto", "upon", "in", "into", "inside", "within", "atop"))
DESTINATION_PREPS = CONTAINER_PREPS | {"to", "next", "beside", "near", "above", "over", "under",
                                       "below", "behind", "between", "at"}
DIRECTIONS = frozenset(("left", "right", "front", "back", "top", "bottom", "middle", "near", "far"))


@dataclass
class Relation:
    """A relation to other phrases: left_of, right_of, front_of, behind, on, below, between,
    closest_to, farthest_from (the last two select, the others filter)."""

    kind: str
    landmarks: list[NounPhrase]


@dataclass
class NounPhrase:
    """What one referring noun phrase says, before looking at any scene."""

    words: list[str] = field(default_factory=list)  # the span's tokens, fillers included
    determiner: str | None = None  # "def", "indef", "all", "both" or None
    reference: str | None = None  # "it", "that", "them", "those", "same" (refers to the past)
    other: bool = False  # "the other one": not what was grounded last
    count: int | None = None  # cardinal: "two blocks"
    ordinal: int | None = None  # 1-based, -1 = last
    ordinal_direction: str | None = None  # "from the left": left/right/front/back/...
    colors: list[str] = field(default_factory=list)
    label: str | None = None  # canonical label; None = any object
    noun: str | None = None  # the singular surface word of the head noun, for messages
    has_noun: bool = False
    generic: bool = False  # the head was "one"/"ones" (or absent)
    plural: bool = False
    superlatives: list[str] = field(default_factory=list)  # biggest, left, near, middle, ...
    relations: list[Relation] = field(default_factory=list)

    @property
    def is_plural(self) -> bool:
        return self.plural or self.reference in ("them", "those")


@dataclass
class ParsedExpression:
    phrases: list[NounPhrase]
    unknown: list[str] = field(default_factory=list)
    error: str | None = None
    destination: str | None = None  # "in the bowl" of "put the block in the bowl"


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens: hyphens join ("left-most" -> "leftmost"), apostrophes vanish,
    "2nd" -> "second", "3" -> "three", punctuation goes."""
    text = text.lower().replace("\u2019", "'").replace("'", "")
    text = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", text)
    tokens: list[str] = []
    for tok in re.findall(r"[^\W_]+", text):
        match = re.fullmatch(r"(\d+)(st|nd|rd|th)?", tok)
        if match:
            n = int(match.group(1))
            names = ORDINALS if match.group(2) else NUMBERS
            word = next((w for w, v in names.items() if v == n and w not in ("couple", "pair")), "")
            tokens.append(word or tok)
        else:
            tokens.append(tok)
    return _extreme_phrases(tokens)


_EXTREME_LEADS = ("farthest", "furthest", "most", "far", "very")
_EXTREME_SIDES = {"left": "leftmost", "right": "rightmost", "front": "frontmost",
                  "back": "backmost"}


def _extreme_phrases(tokens: list[str]) -> list[str]:
    """"farthest to the right", "most to the left", "on the far right", "all the way left"
    -> one superlative ("rightmost"): the extreme along that side, not a distance from it."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        rest = tokens[i:i + 5]
        matched = None
        if rest[:1] and rest[0] in _EXTREME_LEADS:
            j = 1
            if len(rest) > j and rest[j] in ("to", "on", "at", "towards"):
                j += 1
            if len(rest) > j and rest[j] == "the":
                j += 1
            if len(rest) > j and rest[j] in _EXTREME_SIDES and (j > 1 or rest[0] == "far"):
                if not (len(tokens) > i + j + 1 and tokens[i + j + 1] in ("of", "from")):
                    matched = (j + 1, _EXTREME_SIDES[rest[j]])
        elif rest[:3] == ["all", "the", "way"] and len(rest) > 3:
            j = 4 if rest[3] in ("to", "on") and len(rest) > 4 else 3
            j += 1 if len(tokens) > i + j and tokens[i + j] == "the" else 0
            if len(tokens) > i + j and tokens[i + j] in _EXTREME_SIDES:
                matched = (j + 1, _EXTREME_SIDES[tokens[i + j]])
        if matched:
            if out[-2:] in (["on", "the"], ["at", "the"]):
                del out[-2:]  # "on the far right"
            out.append(matched[1])
            i += matched[0]
        else:
            out.append(tokens[i])
            i += 1
    return out


def scene_lexicon(labels: Iterable[str], colors: Iterable[str]) -> dict[str, Lexeme]:
    """Extra words from the scene: open-vocabulary labels ("tennis ball" -> token "tennis_ball",
    plural too) and colour names the static lexicon lacks."""
    extra: dict[str, Lexeme] = {}
    for label in labels:
        word = "_".join(tokenize(label))
        if word and word not in LEXICON:
            extra.update(_nouns(word, word))
    for color in colors:
        word = "_".join(tokenize(color))
        if word and word not in LEXICON:
            extra[word] = Lexeme(COLOR, word)
    return extra


def merge_multiword(tokens: list[str], extra: dict[str, Lexeme]) -> list[str]:
    """Join token runs that spell a multi-word scene word ("tennis", "ball" -> "tennis_ball")."""
    multi = sorted((w.split("_") for w in extra if "_" in w), key=len, reverse=True)
    if not multi:
        return tokens
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for parts in multi:
            if tokens[i : i + len(parts)] == parts:
                out.append("_".join(parts))
                i += len(parts)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


class _Parser:
    def __init__(self, tokens: list[str], lexicon: dict[str, Lexeme]) -> None:
        self.tokens = tokens
        self.lex = [lexicon[t] for t in tokens]
        self.i = 0
        self.placing = False  # a placing verb was seen: a later "in the bowl" is a destination

    # -- cursor helpers ------------------------------------------------------------------------
    def _skip_fillers(self) -> None:
        while self.i < len(self.tokens) and self.lex[self.i].cat == FILLER:
            self.placing = self.placing or self.lex[self.i].value == "place"
            self.i += 1

    def _word(self, offset: int = 0) -> str | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def _cat(self, offset: int = 0) -> str | None:
        j = self.i + offset
        return self.lex[j].cat if j < len(self.lex) else None

    def _accept(self, *words: str) -> bool:
        self._skip_fillers()
        if self._word() in words:
            self.i += 1
            return True
        return False

    def _starts_phrase(self) -> bool:
        self._skip_fillers()
        return self._cat() in (DET, PRON, NUM, ORD, COLOR, ADJ, NOUN)

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> ParsedExpression:
        self._skip_fillers()
        while self._cat() in (PREP, ROBOT) and self._word() in ("to", "at", "over", "with", "you"):
            self.i += 1  # "go to the bowl", "can you ..."
            self._skip_fillers()
        phrases = [self._phrase(allow_relations=True)]
        while self._cat() == CONJ and self._conj_phrase_follows():
            self.i += 1
            phrases.append(self._phrase(allow_relations=True))
        self._skip_fillers()
        destination = None
        if self.placing and self._word() in DESTINATION_PREPS:
            destination = " ".join(self.tokens[self.i :])
            self.i = len(self.tokens)
        while self.i < len(self.tokens) and self.tokens[self.i] in SOFT_WORDS:
            self.i += 1
            self._skip_fillers()
        if self.i < len(self.tokens):
            rest = " ".join(self.tokens[self.i :])
            return ParsedExpression(phrases, error=f"I could not understand '{rest}'.")
        if all(not _says_anything(p) for p in phrases):
            return ParsedExpression(phrases, error="I could not find an object description.")
        return ParsedExpression(phrases, destination=destination)

    def _conj_phrase_follows(self) -> bool:
        save = self.i
        self.i += 1
        ok = self._starts_phrase()
        self.i = save
        return ok

    def _phrase(self, *, allow_relations: bool) -> NounPhrase:
        self._skip_fillers()
        start = self.i
        np = NounPhrase()
        self._premodifiers(np)
        if allow_relations:
            self._postmodifiers(np)
        else:
            self._ordinal_direction(np)
        if not np.has_noun:
            np.generic = True
        np.words = self.tokens[start : self.i]
        return np

    def _premodifiers(self, np: NounPhrase) -> None:
        while True:
            self._skip_fillers()
            word, lex = self._word(), self.lex[self.i] if self.i < len(self.lex) else None
            if word is None or lex is None:
                return
            if lex.cat == DET:
                if lex.value == "both":
                    np.count, np.determiner = 2, "def"
                elif np.determiner is None or lex.value == "all":
                    np.determiner = str(lex.value)  # "all the": all; "two of the": indefinite
                self.i += 1
                self._accept("of")  # "all of the", "both of them"
            elif lex.cat == PRON:
                self.i += 1
                if lex.value == "other":
                    np.other = True
                else:
                    np.reference = str(lex.value)
                    if lex.value in ("it", "them"):
                        return  # a pronoun is the whole head
            elif lex.cat == NUM:
                if not self._number_before_noun():
                    np.noun, np.has_noun, np.generic = "one", True, True  # "the red one"
                    self.i += 1
                    return
                np.count = int(lex.value)  # type: ignore[arg-type]
                self.i += 1
                if self._accept("of") and np.determiner is None:
                    np.determiner = "indef"  # "two of the blocks", not "the two blocks"
            elif lex.cat == ORD:
                np.ordinal = int(lex.value)  # type: ignore[arg-type]
                self.i += 1
            elif lex.cat == COLOR:
                np.colors.append(str(lex.value))
                self.i += 1
            elif lex.cat == ADJ and not self._relation_word_here(np):
                np.superlatives.append(str(lex.value))
                self.i += 1
            elif lex.cat == NOUN and not np.has_noun:
                np.label, np.plural = lex.value, lex.plural  # type: ignore[assignment]
                np.noun, np.has_noun = lex.surface, True
                np.generic = lex.surface == "one"
                self.i += 1
                return
            else:
                return

    def _relation_word_here(self, np: NounPhrase) -> bool:
        """An adjective that in fact starts a relation: "the one left of the bowl"."""
        return self._word(1) in ("of", "from") and self._word() in SPACE_WORDS

    def _number_before_noun(self) -> bool:
        """"one" is a number in "one red block" and a noun in "the red one"."""
        if self._word() != "one" or self._word(1) == "of":
            return True
        j = self.i + 1
        while j < len(self.lex) and self.lex[j].cat in (COLOR, ADJ, FILLER):
            j += 1
        return j < len(self.lex) and self.lex[j].cat == NOUN

    def _ordinal_direction(self, np: NounPhrase) -> bool:
        """"from the left" after an ordinal (or a superlative: "the one farthest from the left")."""
        save = self.i
        if self._accept("from"):
            self._accept("the")
            word = self._word()
            if word in SPACE_WORDS and self._word(1) != "of":
                self.i += 1
                direction = SPACE_WORDS[word]
                if np.ordinal is not None:
                    np.ordinal_direction = direction
                else:
                    np.superlatives.append(direction)
                return True
        self.i = save
        return False

    def _postmodifiers(self, np: NounPhrase) -> None:
        while True:
            self._skip_fillers()
            while self._word() in ("that", "which", "is", "are"):
                self.i += 1
                self._skip_fillers()
            if self._word() == "right" and self._word(1) in NEAR_WORDS | {"on", "in", "behind"}:
                self.i += 1  # "right next to the bowl"
            if self._word() == "in" and self._word(1) == "between":
                self.i += 1  # "in between"
            word = self._word()
            if word is None or (self.placing and self._destination_here()):
                return  # "put the block in the bowl": the rest is where to, not which
            if self._ordinal_direction(np) or self._relation(np, word):
                continue
            if word == "and" and self._relation_follows():
                self.i += 1
                continue
            return

    def _destination_here(self) -> bool:
        """After a placing verb: "in the bowl", "to the left" say where to; "on the left" (a
        position among the candidates, not "on the left of ...") still says which."""
        word = self._word()
        if word not in DESTINATION_PREPS:
            return False
        if word in ("on", "in", "at"):
            ahead = 2 if self._word(1) == "the" else 1
            if self._word(ahead) in SPACE_WORDS and self._word(ahead + 1) != "of":
                return False
        return True

    def _relation_follows(self) -> bool:
        save = self.i
        self.i += 1
        probe = NounPhrase(has_noun=True)
        ok = self._relation(probe, self._word() or "")
        self.i = save
        return ok

    def _relation(self, np: NounPhrase, word: str) -> bool:
        """Parse one relation or positional phrase starting at ``word``; False if none does."""
        save = self.i
        for parse_one in (self._direction_relation, self._near_far_relation,
                          self._container_relation, self._vertical_relation,
                          self._between_relation):
            self.i = save
            if parse_one(np, word):
                return True
        self.i = save
        return False

    def _landmark(self) -> NounPhrase | None:
        if not self._starts_phrase():
            return None
        landmark = self._phrase(allow_relations=False)
        return landmark if _says_anything(landmark) else None

    def _add(self, np: NounPhrase, kind: str, *landmarks: NounPhrase | None) -> bool:
        if any(lm is None for lm in landmarks):
            return False
        np.relations.append(Relation(kind, [lm for lm in landmarks if lm is not None]))
        return True

    def _direction_relation(self, np: NounPhrase, word: str) -> bool:
        """left of X / to the right of X / in front of X / behind X / on the left / to the left."""
        self.i += 1
        if word in ("on", "in", "at", "to"):
            self._accept("the")
            word = self._word() or ""
            if word not in DIRECTIONS and word not in SPACE_WORDS:
                return False
            self.i += 1
        elif word in ("behind", "beyond"):
            return self._add(np, "behind", self._landmark())
        elif word not in ("left", "right", "front", "back", "leftmost", "rightmost"):
            return False
        direction = SPACE_WORDS.get(word, word)
        if self._accept("of", "from"):
            kinds = {"left": "left_of", "right": "right_of", "front": "front_of", "back": "behind",
                     "top": "on", "bottom": "below"}
            if direction not in kinds:
                return False
            return self._add(np, kinds[direction], self._landmark())
        np.superlatives.append(direction)  # "the block on the left", "the one in the middle"
        return True

    def _near_far_relation(self, np: NounPhrase, word: str) -> bool:
        """closest to X / next to X / near X / farthest from X; "the closest block to X"."""
        pending = np.superlatives[-1] if np.superlatives else None
        if word in ("to", "from") and pending in ("near", "far"):
            np.superlatives.pop()
            kind = "closest_to" if pending == "near" else "farthest_from"
        elif word in NEAR_WORDS:
            kind = "closest_to"
        elif word in FAR_WORDS:
            kind = "farthest_from"
        else:
            return False
        self.i += 1
        self._accept("to", "from")
        self._accept("from")  # "away from"
        if self._robot_follows():
            np.superlatives.append("near" if kind == "closest_to" else "far")
            return True
        landmark = self._landmark()
        if landmark is None:
            np.superlatives.append("near" if kind == "closest_to" else "far")
            return True
        return self._add(np, kind, landmark)

    def _robot_follows(self) -> bool:
        """"(to) you", "the robot", "the robot's base": the robot's own base, at the origin."""
        save = self.i
        self._accept("the")
        self._skip_fillers()
        if self._cat() == ROBOT:
            self.i += 1
            self._accept("base", "arm", "gripper")
            return True
        self.i = save
        return False

    def _container_relation(self, np: NounPhrase, word: str) -> bool:
        """on X / in X / inside X / on top of X."""
        if word not in CONTAINER_PREPS and word != "top":
            return False
        self.i += 1
        if word in ("on", "atop") and self._word() == "top":
            self.i += 1
            self._accept("of")
        elif word == "top":
            if not self._accept("of"):
                return False
        return self._add(np, "on", self._landmark())

    def _vertical_relation(self, np: NounPhrase, word: str) -> bool:
        """above X / over X (like on), under X / below X / beneath X."""
        if word in ("above", "over"):
            kind = "on"
        elif word in ("under", "below", "beneath", "underneath"):
            kind = "below"
        else:
            return False
        self.i += 1
        return self._add(np, kind, self._landmark())

    def _between_relation(self, np: NounPhrase, word: str) -> bool:
        if word != "between":
            return False
        self.i += 1
        first = self._landmark()
        if first is None or not self._accept("and"):
            return False
        return self._add(np, "between", first, self._landmark())


def _says_anything(np: NounPhrase) -> bool:
    return bool(
        np.has_noun or np.reference or np.colors or np.superlatives or np.ordinal is not None
        or np.count is not None or np.determiner == "all" or np.relations or np.other
    )


def parse(text: str, extra: dict[str, Lexeme] | None = None) -> ParsedExpression:
    """Parse ``text``; ``extra`` adds scene words (see :func:`scene_lexicon`)."""
    extra = extra or {}
    tokens = merge_multiword(tokenize(text), extra)
    lexicon = {**LEXICON, **extra} if extra else LEXICON
    unknown = [t for t in tokens if t not in lexicon]
    if unknown:
        return ParsedExpression([], unknown=list(dict.fromkeys(unknown)))
    if not tokens:
        return ParsedExpression([], error="The expression is empty.")
    return _Parser(tokens, lexicon).parse()
