"""Landmark and room vocabulary of navigation instructions, grounded in object categories.

Instructions name things ("couch", "the kitchen", "stairs") while the environment reports object
categories ("sofa", "kitchen cabinet", "stair"). A :class:`Lexicon` maps an instruction term to a
canonical landmark or room and scores how well an object category matches it:

* hand-written synonyms and categories (R2R vocabulary: the terms below cover the landmark words
  that occur >= 20 times in R2R train instructions),
* the head noun of a category ("kitchen counter" matches "counter"),
* associations learned from R2R train (:func:`learn_associations`): categories seen on the paths
  of instructions naming a term far more often than on paths in general ("pantry" -> "oven").
  They are shipped in ``r2r_associations.json`` and are weaker than a hand-written match.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ASSOCIATIONS_FILE = Path(__file__).with_name("r2r_associations.json")

# canonical landmark -> (instruction words / phrases, object categories that show it)
LANDMARKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stairs": (("stairs", "stair", "steps", "step", "staircase", "staircases", "stairway",
                "stairwell", "flight of stairs", "flight", "flights", "landing", "banister",
                "spiral staircase"),
               ("stair", "step", "steps", "staircase", "stair railing", "staircase railing",
                "stair rail", "banister", "landing", "stair handle", "railing", "handrail")),
    "railing": (("railing", "railings", "rail", "banister", "guardrail", "balcony railing"),
                ("railing", "stair railing", "staircase railing", "stair rail", "handrail",
                 "overlook railing", "fence")),
    "door": (("door", "doors", "doorway", "doorways", "double doors", "glass doors",
              "sliding doors", "sliding door", "french doors", "entrance", "entryway", "entry",
              "threshold", "opening", "archway", "arch", "arched doorway", "gate", "exit"),
             ("doorway", "arch", "arches", "arc", "brick archway", "door handle", "doorknob",
              "door knob", "door stopper", "exit sign", "doorstep")),
    "window": (("window", "windows"),
               ("window", "window frame", "windowsill", "window sill", "windowframe", "blinds",
                "window shade", "curtain", "curtains", "skylight")),
    "column": (("column", "columns", "pillar", "pillars", "post", "posts", "pole"),
               ("column", "pillar", "post", "pole", "column statue", "beam")),
    "table": (("table", "tables", "kitchen table", "dining table", "dinning table",
               "dinner table", "banquet table", "coffee table", "end table", "side table",
               "round table", "glass table", "wooden table"),
              ("table", "dining table", "coffee table", "side table", "end table", "round table",
               "office table", "sidetable", "small table", "folding table")),
    "pool table": (("pool table", "billiard table", "billiards table", "billiards",
                    "ping pong table", "foosball table"), ("pool table",)),
    "chair": (("chair", "chairs", "stool", "stools", "barstools", "bar stools", "seat",
               "seats"),
              ("chair", "dining chair", "office chair", "desk chair", "stool", "bar chair",
               "wooden chair", "swivel chair", "folding chair", "seat")),
    "armchair": (("armchair", "armchairs", "recliner", "recliners", "lounge chair",
                  "lounge chairs", "rocking chair", "easy chair", "leather chair"),
                 ("armchair", "sofa chair", "lounge chair", "recliner", "easy chair",
                  "rocking chair", "arm chair", "couch chair")),
    "couch": (("couch", "couches", "sofa", "sofas", "loveseat", "sectional", "settee",
               "love seat"),
              ("couch", "sofa", "sofa chair", "couch chair")),
    "bed": (("bed", "beds"), ("bed", "headboard", "bed comforter", "bed sheet")),
    "desk": (("desk", "desks", "front desk", "reception desk"),
             ("desk", "computer desk", "wooden desk", "office chair", "desk chair")),
    "counter": (("counter", "counters", "countertop", "counter top", "kitchen counter",
                 "island", "kitchen island", "bar", "breakfast bar"),
                ("counter", "countertop", "kitchen counter", "kitchen island", "island", "bar",
                 "kitchen center island", "bathroom counter", "counter top", "wet bar")),
    "sink": (("sink", "sinks", "basin", "vanity", "washbasin"),
             ("sink", "washbasin", "basin", "wash basin", "bathroom sink", "vanity", "faucet")),
    "toilet": (("toilet", "toilets", "commode", "urinal"), ("toilet", "commode", "urinal")),
    "shower": (("shower", "showers"),
               ("shower", "shower wall", "shower curtain", "shower head", "shower door")),
    "bathtub": (("tub", "bathtub", "bath tub", "jacuzzi", "hot tub", "spa bath"),
                ("bathtub",)),
    "refrigerator": (("fridge", "refrigerator", "refrigerators"), ("refrigerator",)),
    "stove": (("stove", "oven", "ovens", "range", "cooktop"),
              ("stove", "oven", "range hood", "stovetop", "range", "stove hood")),
    "fireplace": (("fireplace", "fire place", "hearth"), ("fireplace", "firewood")),
    "piano": (("piano", "grand piano"), ("piano",)),
    "tv": (("tv", "television", "tvs", "screen", "monitor"),
           ("tv", "television", "led tv", "monitor", "screen", "tv stand", "wall tv")),
    "mirror": (("mirror", "mirrors"), ("mirror", "mirror frame")),
    "picture": (("painting", "paintings", "picture", "pictures", "art", "artwork", "portrait",
                 "poster", "posters", "photo", "photos", "photograph", "photographs", "print",
                 "tapestry", "canvas"),
                ("picture", "painting", "art", "photo", "poster", "wall art", "picture frame",
                 "frame", "wall decoration", "photo in frame")),
    "plant": (("plant", "plants", "tree", "trees", "christmas tree", "potted plant", "flowers",
               "flower", "cactus", "palm", "planter", "planters", "bush", "bushes"),
              ("plant", "potted plant", "flowerpot", "tree", "flowers", "plant pot", "flower",
               "plants", "bouquet", "flower vase", "shrubbery", "bushes")),
    "rug": (("rug", "rugs", "mat", "carpet", "runner", "doormat"), ("rug", "mat", "carpet")),
    "lamp": (("lamp", "lamps", "light", "lights", "sconce", "floor lamp"),
             ("lamp", "table lamp", "floor lamp", "light", "ceiling lamp", "wall sconce",
              "bedside lamp", "wall lamp")),
    "chandelier": (("chandelier", "chandeliers"), ("chandelier", "chandellier")),
    "cabinet": (("cabinet", "cabinets", "cupboard", "cupboards", "dresser", "armoire",
                 "credenza", "chest of drawers", "drawers", "nightstand"),
                ("cabinet", "kitchen cabinet", "bath cabinet", "cupboard", "dresser", "chest",
                 "chest of drawers", "drawers", "wardrobe", "file cabinet", "nightstand")),
    "closet": (("closet", "closets", "wardrobe", "walk in closet"),
               ("closet", "wardrobe", "clothes", "clothes hangers", "hanger", "closet bar")),
    "shelf": (("shelf", "shelves", "bookshelf", "bookshelves", "bookcase", "shelving",
               "books"), ("shelf", "shelves", "bookshelf", "shelving", "books", "book rack")),
    "bench": (("bench", "benches", "pews", "pew"), ("bench", "pews", "dining bench")),
    "statue": (("statue", "statues", "sculpture", "bust", "figurine"),
               ("statue", "sculpture", "bust", "figure", "column statue")),
    "vase": (("vase", "vases", "urn"), ("vase", "table vase", "flower vase")),
    "clock": (("clock", "grandfather clock"), ("clock", "wall clock")),
    "washer": (("washer", "dryer", "washing machine", "washer and dryer", "laundry machines"),
               ("washing machine", "clothes dryer", "dryer", "laundry machine")),
    "ottoman": (("ottoman", "footstool", "pouf"), ("ottoman", "footstool", "footrest")),
    "exercise machine": (("treadmill", "exercise machine", "exercise equipment", "bike",
                          "exercise bike", "weights"),
                         ("treadmill", "exercise machine", "gym machine", "exercise equipment")),
    "massage table": (("massage table", "massage tables", "massage bed"),
                      ("massage table", "massage bed")),
    "towel": (("towel", "towels"), ("towel", "towels", "towel bar")),
    "fan": (("fan", "ceiling fan"), ("fan", "ceiling fan")),
    "vent": (("vent", "vents"), ("vent", "ventilation", "wall ac vent")),
    "thermostat": (("thermostat", "switch", "light switch"),
                   ("thermostat", "light switch", "switch", "lightswitch")),
    "trash can": (("trash can", "garbage can", "bin", "trash"),
                  ("trash can", "trashcan", "trash bin", "bin", "recycle bin")),
}

# canonical room -> (instruction words / phrases, categories that indicate being in that room)
ROOMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bedroom": (("bedroom", "bedrooms", "bed room", "master bedroom", "guest room",
                 "master suite", "suite"),
                ("bed", "nightstand", "dresser", "wardrobe", "headboard", "bedside table",
                 "bed comforter", "bedside lamp")),
    "bathroom": (("bathroom", "bathrooms", "restroom", "restrooms", "washroom", "toilet room",
                  "powder room", "bath room", "half bath", "lavatory"),
                 ("toilet", "bathtub", "shower", "shower wall", "shower curtain", "towel",
                  "bath cabinet", "washbasin", "toilet paper", "bathroom cabinet",
                  "shower head", "toilet paper holder", "bathroom countertop object")),
    "kitchen": (("kitchen", "kitchenette", "pantry", "kitchen area"),
                ("refrigerator", "stove", "oven", "microwave", "kitchen cabinet",
                 "kitchen counter", "kitchen island", "dishwasher", "range hood", "toaster",
                 "kitchen countertop object", "coffee maker", "kettle")),
    "dining room": (("dining room", "dining area", "dinning room", "dinning area",
                     "breakfast nook", "eating area"),
                    ("dining table", "dining chair", "chandelier", "dinner placesetting",
                     "dining bench")),
    "living room": (("living room", "living area", "lounge", "sitting area", "sitting room",
                     "family room", "den", "tv room", "great room", "lounge area",
                     "seating area", "front room"),
                    ("couch", "sofa", "armchair", "coffee table", "tv", "fireplace",
                     "sofa chair", "ottoman", "end table")),
    "office": (("office", "study", "library", "computer room"),
               ("desk", "office chair", "computer", "monitor", "bookshelf", "keyboard",
                "printer", "desk chair")),
    "laundry room": (("laundry room", "laundry", "laundry area", "utility room"),
                     ("washing machine", "clothes dryer", "dryer", "laundry basket")),
    "gym": (("gym", "exercise room", "workout room", "fitness room", "weight room"),
            ("treadmill", "exercise machine", "gym machine", "exercise equipment")),
    "hallway": (("hallway", "hall", "hallways", "corridor", "walkway", "passage",
                 "passageway", "aisle"), ()),
    "entrance": (("foyer", "lobby", "entrance hall", "reception", "vestibule"), ()),
    "outside": (("outside", "outdoors", "patio", "balcony", "porch", "deck", "terrace",
                 "backyard", "yard", "garden", "pool", "swimming pool", "courtyard"), ()),
    "spa": (("spa", "massage room", "sauna"), ("massage table", "massage bed", "sauna bowl")),
    "garage": (("garage",), ()),
}


def normalize(text: str) -> str:
    """Lower case, letters/digits/spaces only, single spaces."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class Lexicon:
    """Term lookup and category matching for landmarks and rooms."""

    landmarks: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=lambda: LANDMARKS)
    rooms: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(
        default_factory=lambda: ROOMS)
    # canonical term -> category -> strength in (0, 1]; learned from train
    associations: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    learned_weight: float = 0.5

    def __post_init__(self) -> None:
        phrases: dict[str, tuple[str, str]] = {}
        for kind, table in (("room", self.rooms), ("landmark", self.landmarks)):
            for canonical, (words, _) in table.items():
                for word in (*words, canonical):
                    phrases.setdefault(normalize(word), (kind, canonical))
        self._phrases = phrases
        self._max_words = max(len(p.split()) for p in phrases)
        self._match_cache: dict[tuple[str, str], float] = {}

    @classmethod
    def default(cls) -> Lexicon:
        """Hand-written vocabulary plus the shipped train associations (when present)."""
        associations: dict[str, dict[str, float]] = {}
        if ASSOCIATIONS_FILE.is_file():
            associations = json.loads(ASSOCIATIONS_FILE.read_text())
        return cls(associations=associations)

    def find_terms(self, text: str) -> list[tuple[int, str, str, str]]:
        """Longest-match terms in ``text``: ``(word index, kind, canonical, surface words)``."""
        words = normalize(text).split()
        found, i = [], 0
        while i < len(words):
            for n in range(min(self._max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                if phrase in self._phrases:
                    kind, canonical = self._phrases[phrase]
                    found.append((i, kind, canonical, phrase))
                    i += n
                    break
            else:
                i += 1
        return found

    def kind_of(self, canonical: str) -> str | None:
        if canonical in self.rooms:
            return "room"
        if canonical in self.landmarks:
            return "landmark"
        return None

    def match(self, term: str, category: str) -> float:
        """How well object ``category`` shows landmark/room ``term`` (0 = not at all, 1 = exact)."""
        key = (term, category)
        if key not in self._match_cache:
            self._match_cache[key] = self._match(term, normalize(category))
        return self._match_cache[key]

    def _match(self, term: str, category: str) -> float:
        if term in self.landmarks:
            words, categories = self.landmarks[term]
            if category in categories or category == term:
                return 1.0
            head = category.split()[-1] if category else ""
            if head in words:
                return 0.8
        elif term in self.rooms:
            _, categories = self.rooms[term]
            if category in categories:
                return 0.8
        learned = self.associations.get(term, {}).get(category, 0.0)
        return self.learned_weight * learned

    def matching(self, term: str, categories: Iterable[str]) -> list[tuple[str, float]]:
        return [(c, s) for c in categories if (s := self.match(term, c)) > 0.0]


def learn_associations(
    samples: Iterable[tuple[str, Iterable[set[str]], str]],
    lexicon: Lexicon | None = None,
    min_count: int = 15,
    min_groups: int = 5,
    min_lift: float = 2.0,
    top_k: int = 12,
) -> dict[str, dict[str, float]]:
    """Term -> category strengths from (instruction, categories seen at each path place, group)
    samples; the group is the building, so an association must hold in ``min_groups`` of them.

    Strength = min(1, log(lift) / log(8)) where lift = P(category on path | term in
    instruction) / P(category on path): what a category tells about a term, over all of train,
    never about one episode.
    """
    lexicon = lexicon or Lexicon(associations={})
    on_path: Counter[str] = Counter()
    with_term: dict[str, Counter[str]] = {}
    groups: dict[tuple[str, str], set[str]] = {}
    term_count: Counter[str] = Counter()
    total = 0
    for text, places, group in samples:
        places = list(places)
        seen = set().union(*places) if places else set()
        total += 1
        on_path.update(seen)
        for term in {canonical for _, _, canonical, _ in lexicon.find_terms(text)}:
            term_count[term] += 1
            with_term.setdefault(term, Counter()).update(seen)
            for category in seen:
                groups.setdefault((term, category), set()).add(group)
    result: dict[str, dict[str, float]] = {}
    for term, counts in with_term.items():
        scored = []
        for category, n in counts.items():
            if n < min_count or len(groups[(term, category)]) < min_groups:
                continue
            lift = (n / term_count[term]) / (on_path[category] / total)
            if lift >= min_lift:
                scored.append((category, min(1.0, math.log(lift) / math.log(8.0))))
        scored.sort(key=lambda cs: -cs[1])
        if scored:
            result[term] = {c: round(s, 3) for c, s in scored[:top_k]}
    return result
