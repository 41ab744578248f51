"""Seeded random tabletop scenes and referring expressions with known answers, to score grounding.

Each generator picks its answer first from the scene's geometry, by its own simple definitions
(below), then phrases an expression that singles it out, checking uniqueness by brute force over
the scene with safety margins, so that borderline scenes are skipped rather than mislabelled. The
:class:`~ifagent_ros.core.perception.grounding.Grounder` is never consulted to make an answer.

Generator definitions (robot's view, base_link, metres): left = +y (mirrored when the config flips
left/right), front = -x; size = volume ``dx*dy*dz``, height = ``dz``; "on/in C" = centre inside C's
footprint and higher than C's centre; "between A and B" = projects on segment AB at 0.3..0.7 and
lies within 0.1 |AB| of it, while every other candidate projects outside -0.1..1.1 or lies farther
than 0.6 |AB| away; "nearest" = smallest distance to the robot base (origin).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ifagent_ros.core.perception.grounding import Grounder, GroundingConfig
from ifagent_ros.core.perception.grounding_parser import LEXICON

FAMILIES = ("colour", "size", "space", "ordinal", "cardinal", "reference", "plural", "ambiguous",
            "no_match", "unknown_words")
LABELS = ("block", "bowl", "plate", "mug")
COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "white", "gray",
          "black", "cyan")
SYNONYMS = {"block": ("block", "cube"), "bowl": ("bowl",), "plate": ("plate", "dish"),
            "mug": ("mug", "cup")}
NUMBERS = {1: ("one", "1"), 2: ("two", "2"), 3: ("three", "3"), 4: ("four", "4")}
ORDINALS = {1: ("first", "1st"), 2: ("second", "2nd"), 3: ("third", "3rd"), 4: ("fourth", "4th")}
LEADS = ("", "", "", "pick up ", "grab ", "please take ", "can you pick up ", "point at ",
         "touch ")
FOREIGN = ("le bloc rouge", "prends le bol bleu", "el bloque rojo", "der rote Würfel",
           "il cubo verde", "la tasse jaune", "coge la taza", "nimm die Schüssel",
           "o bloco azul", "de rode kubus")
MARGIN_M = 0.03  # geometric answers must win by this much
SIZE_RATIO = 1.3  # size answers must win by this factor


@dataclass
class Step:
    """One utterance and what it must give: ``mode`` exact (ids == expected), subset (``k`` ids
    out of expected) or empty (no ids, a message)."""

    expression: str
    expected: frozenset[str]
    ambiguous: bool = False
    mode: str = "exact"
    k: int = 0


@dataclass
class Case:
    family: str
    scene: list[dict[str, Any]]
    steps: list[Step]


@dataclass
class _Gen:
    rng: random.Random
    scene: list[dict[str, Any]]
    flip: bool = False
    steps: list[Step] = field(default_factory=list)

    # -- helpers -------------------------------------------------------------------------------
    def pick(self, options: Any) -> Any:
        return self.rng.choice(list(options))

    def noun(self, label: str, plural: bool = False) -> str:
        word = self.pick(SYNONYMS[label])
        return word + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s") if plural else word

    def lead(self, text: str) -> str:
        return self.pick(LEADS) + text

    def group(self, label: str | None = None, color: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.scene if (label is None or o["label"] == label)
                and (color is None or o["color"] == color)]

    def left(self, o: dict[str, Any]) -> float:
        return -o["position"][1] if self.flip else o["position"][1]

    def unique_name(self, o: dict[str, Any]) -> str | None:
        """"the red bowl" when the colour + label pair is unique, else None."""
        if len(self.group(o["label"], o["color"])) != 1:
            return None
        return f"the {o['color']} {self.noun(o['label'])}"

    def ids(self, objs: list[dict[str, Any]]) -> frozenset[str]:
        return frozenset(o["id"] for o in objs)


def _dist(a: dict[str, Any], b: dict[str, Any]) -> float:
    return math.dist(a["position"], b["position"])


def _volume(o: dict[str, Any]) -> float:
    return o["size"][0] * o["size"][1] * o["size"][2]


def _on(t: dict[str, Any], c: dict[str, Any]) -> bool:
    (tx, ty, tz), (cx, cy, cz) = t["position"], c["position"]
    return abs(tx - cx) < c["size"][0] / 2 and abs(ty - cy) < c["size"][1] / 2 and tz > cz


def _wins(values: list[float], margin: float, ratio: bool = False) -> bool:
    """The largest value beats the second largest clearly."""
    if len(values) < 2:
        return True
    top, second = sorted(values, reverse=True)[:2]
    return top > second * margin if ratio else top - second >= margin


# -- scenes ------------------------------------------------------------------------------------
def random_scene(rng: random.Random) -> list[dict[str, Any]]:
    """3..10 objects (block, bowl, plate, mug) on a table x 0.3..0.8, y -0.4..0.4, not touching."""
    objects: list[dict[str, Any]] = []
    wanted = rng.randint(3, 10)
    ids = rng.sample(range(100), wanted)
    for k in range(wanted):
        label = rng.choice(LABELS)
        if label == "block":
            e = rng.uniform(0.03, 0.06)
            size = [e, e, e]
        elif label == "bowl":
            d = rng.uniform(0.10, 0.18)
            size = [d, d, rng.uniform(0.05, 0.08)]
        elif label == "plate":
            d = rng.uniform(0.14, 0.22)
            size = [d, d, 0.02]
        else:
            d = rng.uniform(0.07, 0.10)
            size = [d, d, rng.uniform(0.08, 0.12)]
        for _ in range(100):
            x, y = rng.uniform(0.3, 0.8), rng.uniform(-0.4, 0.4)
            if all(math.hypot(x - o["position"][0], y - o["position"][1])
                   > (max(size[:2]) + max(o["size"][:2])) / 2 + 0.01 for o in objects):
                objects.append({
                    "id": f"obj_{ids[k]}", "label": label, "color": rng.choice(COLORS),
                    "position": [x, y, size[2] / 2], "size": size,
                    "confidence": round(rng.uniform(0.5, 1.0), 2),
                })
                break
    return objects


# -- one generator per family; each returns False when the scene does not suit it --------------
def gen_colour(g: _Gen) -> bool:
    target = g.pick(g.scene)
    name = g.unique_name(target)
    if name is None:
        return False
    if len(g.group(color=target["color"])) == 1 and g.rng.random() < 0.3:
        name = f"the {target['color']} {g.pick(('one', 'object', 'thing'))}"
    text = g.pick((name, name + " please", name.removeprefix("the "), name + ", please"))
    g.steps.append(Step(g.lead(text), g.ids([target])))
    return True


def gen_size(g: _Gen) -> bool:
    label = g.pick(LABELS) if g.rng.random() < 0.8 else None
    objs = g.group(label)
    if len(objs) < 2:
        return False
    metric, keyf = g.pick((("volume", _volume), ("height", lambda o: o["size"][2])))
    sign = g.pick((1.0, -1.0))
    values = [sign * keyf(o) for o in objs]
    if not _wins([abs(v) if sign > 0 else 1 / abs(v) for v in values], SIZE_RATIO, ratio=True):
        return False
    target = objs[max(range(len(objs)), key=lambda i: values[i])]
    words = {("volume", 1.0): ("biggest", "largest"), ("volume", -1.0): ("smallest",),
             ("height", 1.0): ("tallest",), ("height", -1.0): ("shortest",)}[(metric, sign)]
    if len(objs) == 2:
        words += {("volume", 1.0): ("bigger", "larger", "large", "big"),
                  ("volume", -1.0): ("smaller", "small"), ("height", 1.0): ("taller",),
                  ("height", -1.0): ("shorter",)}[(metric, sign)]
    noun = g.noun(label) if label else g.pick(("object", "thing", "one"))
    g.steps.append(Step(g.lead(f"the {g.pick(words)} {noun}"), g.ids([target])))
    return True


def gen_space(g: _Gen) -> bool:
    kind = g.pick(("extreme", "extreme", "direction", "direction", "nearest", "between", "on"))
    return {"extreme": _space_extreme, "direction": _space_direction, "nearest": _space_nearest,
            "between": _space_between, "on": _space_on}[kind](g)


def _space_extreme(g: _Gen) -> bool:
    label = g.pick(LABELS)
    objs = g.group(label)
    if len(objs) < 2:
        return False
    side = g.pick(("left", "right", "front", "back", "near"))
    keys: dict[str, Callable[[dict[str, Any]], float]] = {
        "left": g.left, "right": lambda o: -g.left(o), "front": lambda o: -o["position"][0],
        "back": lambda o: o["position"][0], "near": lambda o: -math.dist(o["position"], (0, 0, 0)),
    }
    if not _wins([keys[side](o) for o in objs], MARGIN_M):
        return False
    target = max(objs, key=keys[side])
    n = g.noun(label)
    phrases = {
        "left": (f"the leftmost {n}", f"the {n} on the left", f"the left-most {n}"),
        "right": (f"the rightmost {n}", f"the {n} on the right", f"the {n} to the right"),
        "front": (f"the frontmost {n}", f"the {n} at the front", f"the {n} in the front"),
        "back": (f"the {n} at the back", f"the backmost {n}", f"the rearmost {n}"),
        "near": (f"the {n} closest to you", f"the nearest {n}", f"the {n} nearest to the robot"),
    }[side]
    g.steps.append(Step(g.lead(g.pick(phrases)), g.ids([target])))
    return True


def _space_direction(g: _Gen) -> bool:
    landmark = g.pick(g.scene)
    name = g.unique_name(landmark)
    label = g.pick(LABELS)
    objs = [o for o in g.group(label) if o is not landmark]
    if name is None or not objs:
        return False
    rel = g.pick(("left", "right", "behind", "front"))
    offset: dict[str, Callable[[dict[str, Any]], float]] = {
        "left": lambda o: g.left(o) - g.left(landmark),
        "right": lambda o: g.left(landmark) - g.left(o),
        "behind": lambda o: o["position"][0] - landmark["position"][0],
        "front": lambda o: landmark["position"][0] - o["position"][0],
    }
    inside = [o for o in objs if offset[rel](o) >= MARGIN_M]
    if len(inside) != 1 or any(-MARGIN_M < offset[rel](o) < MARGIN_M for o in objs):
        return False
    n = g.noun(label)
    phrases = {
        "left": (f"the {n} left of {name}", f"the {n} to the left of {name}",
                 f"the {n} on the left of {name}"),
        "right": (f"the {n} right of {name}", f"the {n} to the right of {name}"),
        "behind": (f"the {n} behind {name}", f"the {n} that is behind {name}"),
        "front": (f"the {n} in front of {name}", f"the {n} that is in front of {name}"),
    }[rel]
    g.steps.append(Step(g.lead(g.pick(phrases)), g.ids(inside)))
    return True


def _space_nearest(g: _Gen) -> bool:
    landmark = g.pick(g.scene)
    name = g.unique_name(landmark)
    label = g.pick(LABELS)
    objs = [o for o in g.group(label) if o is not landmark]
    if name is None or not objs:
        return False
    far = g.rng.random() < 0.4
    sign = 1.0 if far else -1.0
    if not _wins([sign * _dist(o, landmark) for o in objs], MARGIN_M):
        return False
    target = max(objs, key=lambda o: sign * _dist(o, landmark))
    n = g.noun(label)
    phrases = ((f"the {n} farthest from {name}", f"the {n} furthest from {name}") if far else
               (f"the {n} closest to {name}", f"the {n} nearest to {name}",
                f"the closest {n} to {name}", f"the {n} next to {name}"))
    g.steps.append(Step(g.lead(g.pick(phrases)), g.ids([target])))
    return True


def _space_between(g: _Gen) -> bool:
    if len(g.scene) < 3:
        return False
    a, b, target = g.rng.sample(g.scene, 3)
    name_a, name_b = g.unique_name(a), g.unique_name(b)
    ab = math.dist(a["position"][:2], b["position"][:2])
    if name_a is None or name_b is None or ab < 0.2 or target["label"] == "plate":
        return False
    s, off = g.rng.uniform(0.35, 0.65), g.rng.uniform(-0.08, 0.08) * ab
    (ax, ay, _), (bx, by, _) = a["position"], b["position"]
    ux, uy = (bx - ax) / ab, (by - ay) / ab
    x, y = ax + s * (bx - ax) - off * uy, ay + s * (by - ay) + off * ux
    r = max(target["size"][:2]) / 2
    if any(o is not target and math.hypot(x - o["position"][0], y - o["position"][1])
           < r + max(o["size"][:2]) / 2 + 0.01 for o in g.scene):
        return False
    target["position"] = [x, y, target["position"][2]]
    for o in g.group(target["label"]):
        if o in (a, b, target):
            continue
        px, py = o["position"][0] - ax, o["position"][1] - ay
        proj, perp = (px * ux + py * uy) / ab, abs(px * uy - py * ux) / ab
        if -0.1 < proj < 1.1 and perp < 0.6:
            return False
    n = g.noun(target["label"])
    text = g.pick((f"the {n} between {name_a} and {name_b}",
                   f"the {n} in between {name_a} and {name_b}"))
    g.steps.append(Step(g.lead(text), g.ids([target])))
    return True


def _space_on(g: _Gen) -> bool:
    containers = [o for o in g.scene if o["label"] in ("plate", "bowl") and g.unique_name(o)]
    blocks = g.group("block")
    if not containers or not blocks:
        return False
    container, target = g.pick(containers), g.pick(blocks)
    (cx, cy, cz), (dx, _, dz) = container["position"], container["size"]
    jitter = 0.15 * dx
    target["position"] = [cx + g.rng.uniform(-jitter, jitter), cy + g.rng.uniform(-jitter, jitter),
                          cz + dz / 2 + target["size"][2] / 2]
    if [o for o in g.scene if o is not container and _on(o, container)] != [target]:
        return False
    prep = "on" if container["label"] == "plate" else g.pick(("in", "inside"))
    prep = g.pick((prep, "on top of")) if container["label"] == "plate" else prep
    name = g.unique_name(container)
    noun = g.pick((g.noun("block"), "object", "one"))
    g.steps.append(Step(g.lead(f"the {noun} {prep} {name}"), g.ids([target])))
    return True


def gen_ordinal(g: _Gen) -> bool:
    direction = g.pick(("left", "right", "front", "back", None))
    label = g.pick(LABELS) if direction is None or g.rng.random() < 0.8 else None
    objs = g.group(label)
    if len(objs) < 2:
        return False
    key = {None: g.left, "left": g.left, "right": lambda o: -g.left(o),
           "front": lambda o: -o["position"][0], "back": lambda o: o["position"][0]}[direction]
    order = sorted(objs, key=key, reverse=True)
    if any(key(a) - key(b) < MARGIN_M for a, b in zip(order, order[1:], strict=False)):
        return False
    k = g.rng.randint(1, min(len(order), 4))
    word = g.pick(ORDINALS[k])
    if k == len(order) and k > 1 and g.rng.random() < 0.3:
        word = "last"
    tail = f" from the {direction}" if direction else ""
    noun = g.noun(label) if label else "one"
    g.steps.append(Step(g.lead(f"the {word} {noun}{tail}"), g.ids([order[k - 1]])))
    return True


def gen_cardinal(g: _Gen) -> bool:
    obj = g.pick(g.scene)
    with_color = g.rng.random() < 0.5
    group = g.group(obj["label"], obj["color"] if with_color else None)
    adj = obj["color"] + " " if with_color else ""
    kind = g.pick(("definite", "indefinite", "indefinite", "too_many", "too_few"))
    count = len(group)
    if kind == "definite" and 2 <= count <= 4:
        n = count
    elif kind == "indefinite" and count >= 1:
        n = g.rng.randint(1, min(count, 4))
    elif kind == "too_many" and count >= 3:
        n = g.rng.randint(2, min(count - 1, 4))
    elif kind == "too_few" and count <= 3:
        n = g.rng.randint(count + 1, 4)
    else:
        return False
    noun = g.noun(obj["label"], plural=n != 1)
    number = g.pick(NUMBERS[n])
    if kind == "indefinite":
        text = g.pick((f"{number} {adj}{noun}", f"any {number} {adj}{noun}",
                       f"{number} of the {adj}{noun}" if n > 1 else f"one {adj}{noun}"))
        step = Step(g.lead(text), g.ids(group), mode="subset", k=n)
    elif kind == "too_few":
        step = Step(g.lead(f"{number} {adj}{noun}"), frozenset(), mode="empty")
    else:
        text = f"both {adj}{noun}" if n == 2 and g.rng.random() < 0.3 else \
            f"the {number} {adj}{noun}"
        step = Step(g.lead(text), g.ids(group), ambiguous=kind == "too_many")
    g.steps.append(step)
    return True


def gen_reference(g: _Gen) -> bool:
    roll = g.rng.random()
    if roll < 0.1:
        g.steps.append(Step(g.pick(("it", "that one", "pick it up", "the same one")),
                            frozenset(), mode="empty"))
        return True
    if roll < 0.3:
        obj = g.pick(g.scene)
        group = g.group(obj["label"], obj["color"])
        if len(group) < 2:
            return False
        g.steps.append(Step(f"all the {obj['color']} {g.noun(obj['label'], True)}", g.ids(group)))
        g.steps.append(Step(g.pick(("them", "pick them up", "those", "grab them")), g.ids(group)))
        return True
    target = g.pick(g.scene)
    name = g.unique_name(target)
    if name is None:
        return False
    g.steps.append(Step(g.lead(name), g.ids([target])))
    follow = ("it", "that one", "the same one", "pick it up", "grab that one again",
              f"that {g.noun(target['label'])}", f"the same {g.noun(target['label'])}")
    g.steps.append(Step(g.pick(follow), g.ids([target])))
    return True


def gen_plural(g: _Gen) -> bool:
    if g.rng.random() < 0.1:
        g.steps.append(Step(g.lead(g.pick(("all objects", "everything", "all the things"))),
                            g.ids(g.scene)))
        return True
    obj = g.pick(g.scene)
    color = obj["color"] if g.rng.random() < 0.5 else None
    group = g.group(obj["label"], color)
    adj = f"{color} " if color else ""
    plural, single = g.noun(obj["label"], True), g.noun(obj["label"])
    options = [f"all the {adj}{plural}", f"all {adj}{plural}", f"every {adj}{single}",
               f"each {adj}{single}"]
    if len(group) >= 2:
        options.append(f"the {adj}{plural}")
    g.steps.append(Step(g.lead(g.pick(options)), g.ids(group)))
    return True


def gen_ambiguous(g: _Gen) -> bool:
    obj = g.pick(g.scene)
    roll = g.rng.random()
    if roll < 0.5:
        group, text = g.group(obj["label"], obj["color"]), f"{obj['color']} {g.noun(obj['label'])}"
    elif roll < 0.8:
        group, text = g.group(obj["label"]), g.noun(obj["label"])
    else:
        group, text = g.group(color=obj["color"]), f"{obj['color']} one"
    if len(group) < 2:
        return False
    g.steps.append(Step(g.lead(f"the {text}"), g.ids(group), ambiguous=True))
    return True


def gen_no_match(g: _Gen) -> bool:
    label, color = g.pick(LABELS), g.pick(COLORS)
    roll = g.rng.random()
    if roll < 0.5 and not g.group(label, color):
        text = f"the {color} {g.noun(label)}"
    elif roll < 0.7 and not g.group(label):
        text = f"the {g.noun(label)}"
    elif roll < 0.85 and not g.group(color=color):
        text = f"the {color} {g.pick(('one', 'object'))}"
    elif roll >= 0.85 and not g.group(label, color):
        text = f"the {g.noun(g.pick(LABELS))} left of the {color} {g.noun(label)}"
    else:
        return False
    g.steps.append(Step(g.lead(text), frozenset(), mode="empty"))
    return True


def _nonsense(rng: random.Random) -> str:
    while True:
        word = (rng.choice(("fl", "bl", "zr", "gn", "kw", "sn", "tr", "pl", "vr"))
                + rng.choice(("urb", "ix", "omp", "eeg", "arf", "orp", "ulk"))
                + rng.choice(("", "ish", "le", "y", "o")))
        if word not in LEXICON:
            return word


def gen_unknown_words(g: _Gen) -> bool:
    if g.rng.random() < 0.4:
        text = g.pick(FOREIGN)
    else:
        word, obj = _nonsense(g.rng), g.pick(g.scene)
        text = g.pick((f"the {word} {g.noun(obj['label'])}", f"pick up the {word}",
                       f"the {obj['color']} {word}", f"{word} the {obj['color']} one",
                       f"the {g.noun(obj['label'])} {word} the {g.noun(obj['label'])}"))
    g.steps.append(Step(text, frozenset(), mode="empty"))
    return True


GENERATORS: dict[str, Callable[[_Gen], bool]] = {
    "colour": gen_colour, "size": gen_size, "space": gen_space, "ordinal": gen_ordinal,
    "cardinal": gen_cardinal, "reference": gen_reference, "plural": gen_plural,
    "ambiguous": gen_ambiguous, "no_match": gen_no_match, "unknown_words": gen_unknown_words,
}


def generate_case(family: str, rng: random.Random, flip_left_right: bool = False) -> Case:
    """One case of ``family``, drawing fresh scenes until the family's generator finds one."""
    for _ in range(1000):
        g = _Gen(rng, random_scene(rng), flip_left_right)
        if GENERATORS[family](g):
            return Case(family, g.scene, g.steps)
    raise RuntimeError(f"no scene suits the {family} generator")


def generate_cases(n: int, seed: int = 0, flip_left_right: bool = False) -> list[Case]:
    """``n`` cases, the families in turn."""
    rng = random.Random(seed)
    return [generate_case(FAMILIES[i % len(FAMILIES)], rng, flip_left_right) for i in range(n)]


def check_step(step: Step, result: Any) -> bool:
    """Whether a :class:`GroundingResult` answers ``step``."""
    ids = set(result.ids)
    if step.mode == "empty":
        return not ids and bool(result.message) and not result.ambiguous
    if step.mode == "subset":
        return len(result.ids) == step.k == len(ids) and ids <= step.expected \
            and not result.ambiguous
    if result.ambiguous != step.ambiguous or (step.ambiguous and not result.question):
        return False
    return ids == step.expected


def evaluate(n: int = 600, seed: int = 0, config: GroundingConfig | None = None) -> dict[str, Any]:
    """Ground ``n`` generated cases (dialogues for references) with a fresh :class:`Grounder`
    each; per-family and overall accuracy, counts and up to 20 failures. A case is right when
    every step is: the ids equal the expected set (any ``k`` of them for an indefinite cardinal),
    the ambiguity flag matches (with a question when ambiguous), and "no match"/"unknown words"
    answers have no ids and a message."""
    config = config or GroundingConfig()
    cases = generate_cases(n, seed, config.flip_left_right)
    totals = dict.fromkeys(FAMILIES, 0)
    correct = dict.fromkeys(FAMILIES, 0)
    failures: list[dict[str, Any]] = []
    for case in cases:
        grounder = Grounder(config)
        ok = True
        for step in case.steps:
            result = grounder.ground(step.expression, case.scene)
            if not check_step(step, result):
                ok = False
                if len(failures) < 20:
                    failures.append({
                        "family": case.family, "expression": step.expression,
                        "dialogue": [s.expression for s in case.steps],
                        "expected": sorted(step.expected), "expected_ambiguous": step.ambiguous,
                        "mode": step.mode, "got": result.to_json_dict(), "scene": case.scene,
                    })
                break
        totals[case.family] += 1
        correct[case.family] += ok
    families = {f: {"accuracy": correct[f] / totals[f] if totals[f] else float("nan"),
                    "correct": correct[f], "total": totals[f]} for f in FAMILIES}
    accuracy = sum(correct.values()) / max(1, len(cases))
    flat = {f"grounding_accuracy_{f}": v["accuracy"] for f, v in families.items() if v["total"]}
    return {
        "accuracy": accuracy,
        "n_expressions": len(cases),
        "seed": seed,
        "flip_left_right": config.flip_left_right,
        "families": families,
        "failures": failures,
        # flat figures, as `ifagent eval grounding --json` and `ifagent bench perception` print them
        "grounding_accuracy": accuracy,
        **flat,
        "grounding_n_expressions": len(cases),
    }
