"""Word lists and patterns of the correction grammar (see :mod:`parser` for the conventions).

Everything operates on *normalized* text: lower case, letters/digits only, single spaces,
apostrophes dropped ("don't" -> "dont"), see :func:`parser.normalize`.
"""

from __future__ import annotations

import re

from ifagent_ros.core.perception.grounding_parser import LEXICON, NOUN

Vec = tuple[float, float, float]
PX: Vec = (1.0, 0.0, 0.0)
NX: Vec = (-1.0, 0.0, 0.0)
PY: Vec = (0.0, 1.0, 0.0)
NY: Vec = (0.0, -1.0, 0.0)
PZ: Vec = (0.0, 0.0, 1.0)
NZ: Vec = (0.0, 0.0, -1.0)

# Phrases rewritten before tokenizing, so that one token carries one meaning.
REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r) for p, r in (
        # "too close" (to me) is "away": closer means toward the operator (-x), so too close
        # reverses it (+x); not the gripper. "too close to the mug" is asked about (parser).
        (r"\btoo (?:close|near)(?: to (?:me|us|myself))?\b(?! to\b| by\b)", "away"),
        (r"\bcounter ?clockwise\b|\banti ?clockwise\b|\bcounterclockwise\b|\bccw\b", "ccw"),
        (r"\bclockwise\b|\bcw\b", "cw"),
        (r"\b(?:towards?|to|closer to|nearer to|in to) (?:me|us|myself)\b", "backward"),
        (r"\baway from (?:me|us|myself)\b", "away"),
        (r"\bback up\b|\bpull back\b|\bback off\b|\bback away\b", "backward"),
        (r"\btoo far\b", "too"),
        # "too close" (to me) is "away": closer means toward the operator (-x), so too close
        # reverses it (+x); not the gripper. "too close to the mug" is asked about (parser).

        (r"\bquite a (?:bit|lot)\b|\ba good bit\b|\ba whole lot\b|\ba long way\b", "alot"),
        (r"\ba lot\b|\ba great deal\b", "alot"),
        (r"\b(?:the )?(?:other|opposite|wrong|reverse) (?:way|direction|side)\b|\bopposite\b"
         r"|\breverse(?: it| that)?\b", "otherway"),
        (r"\bi mean\b|\bi meant\b", "sorry"),
    )
]

# Filler removed before parsing (whole phrases first, then single tokens).
FILLER_PHRASES = re.compile(
    r"\b(?:could|can|would|will) you(?: please)?(?: maybe)?\b|\bwould you mind\b|"
    r"\bi (?:want|need|would like|d like) you to\b|\bid like you to\b|\btry to\b|"
    r"\byou (?:should|need to|have to|must)\b|\bgo ahead and\b|\bif you (?:can|could)\b|"
    r"\bthank you\b|\bfor me\b|\bdo you think\b|\bhow about\b|\blets\b|\bkind of\b|\bsort of\b"
)
FILLER_WORDS = frozenset((
    "uh", "uhh", "uhm", "um", "umm", "er", "erm", "hmm", "hm", "mm", "ah", "oh", "okay", "ok",
    "please", "pls", "plz", "just", "maybe", "perhaps", "kindly", "hey", "robot", "so", "well",
    "now", "then", "yeah", "yep", "alright", "like", "kinda", "sorta", "thanks", "buddy", "bot",
    "you", "there", "hmmm", "ehm", "em", "ahh", "ooh",
))
REPAIR_WORDS = frozenset(("no", "nope", "sorry", "actually", "wait", "instead", "rather",
                          "correction", "oops", "nah", "but"))
NEGATORS = frozenset(("not", "dont", "never"))

DIRECTION_WORDS: dict[str, Vec] = {
    **dict.fromkeys(("forward", "forwards", "ahead", "away", "outward", "outwards"), PX),
    **dict.fromkeys(("back", "backward", "backwards", "closer", "nearer", "retreat"), NX),
    **dict.fromkeys(("left", "leftward", "leftwards", "port"), PY),
    **dict.fromkeys(("right", "rightward", "rightwards", "starboard"), NY),
    **dict.fromkeys(("up", "upward", "upwards", "higher", "high", "raise", "lift", "rise",
                     "ascend", "elevate", "upper"), PZ),
    **dict.fromkeys(("down", "downward", "downwards", "lower", "low", "descend", "drop",
                     "sink"), NZ),
}
# "farther"/"further" mean +x only when no other direction is named ("further left" = left).
WEAK_FORWARD = frozenset(("farther", "further"))

TWIST_VERBS = frozenset(("rotate", "twist", "turn", "spin", "yaw", "swivel", "rotation"))
TILT_VERBS = frozenset(("tilt", "pitch", "roll", "angle", "tip", "lean"))
TWIST_AXIS: dict[str, Vec] = {"ccw": PZ, "left": PZ, "cw": NZ, "right": NZ}
TILT_AXIS: dict[str, Vec] = {
    **dict.fromkeys(("down", "downward", "downwards", "forward", "forwards", "lower"), PY),
    **dict.fromkeys(("up", "upward", "upwards", "back", "backward", "backwards", "higher"), NY),
    "left": NX, "right": PX, "ccw": PZ, "cw": NZ,
}

SMALL = re.compile(
    r"\b(?:a (?:little|tiny|wee|small)(?: bit| touch)?|a bit|bit|a tad|tad|slightly|slight|"
    r"a touch|touch|smidge|smidgen|tiny|teeny|little|a hair|hair|barely|an inch|inch|nudge|"
    r"marginally|somewhat|fraction|a few (?:cm|centimeters|centimetres|millimeters|mm)|"
    r"not (?:too )?much|gently|gentle|careful\w*|small)\b"
)
LARGE = re.compile(
    r"\b(?:alot|lots|much|way|far|significantly|substantially|considerably|really|very|"
    r"heaps|loads|all the way|big|large|plenty|tons|massively|hugely|lot)\b"
)

UNDO = re.compile(
    r"\bundo\b|\bgo back to (?:what|how|the way) (?:i|you|it) (?:said|had|was|were|did|asked)|"
    r"\b(?:cancel|revert|ignore) (?:that|the last|what i (?:just )?said|my last)|\brevert\b|"
    r"\bnever ?mind\b|\bforget (?:that|it|what i said)\b|\bscratch (?:that|it)\b|"
    r"\btake (?:that|it) back\b|"
    r"\bas (?:it was|you were|before)\b|\b(?:previous|last) (?:one|setting|command|correction)\b|"
    r"\bdisregard (?:that|the last|what i)|\bthe way it was\b|\bback to before\b"
)
RESET = re.compile(
    r"\bstart (?:over|again|afresh|from (?:scratch|the (?:beginning|top|start)))\b|\breset\b|"
    r"\bfrom scratch\b|\bbegin again\b|\brestart\b|\bclear (?:everything|all|it all)\b|"
    r"\bback to (?:the )?(?:beginning|start|square one)\b|\bstart fresh\b|\bfresh start\b|"
    r"\bdo it all again\b|\bfrom the (?:beginning|top)\b|\bwipe (?:it|everything|all)\b"
)
TOO_SLOW = re.compile(
    r"\btoo slow\w*\b|\bnot (?:so |that )?slow\w*\b|\bnot fast enough\b|"
    r"\bsluggish\b|\bless slow\w*\b"
)
TOO_FAST = re.compile(
    r"\btoo (?:fast|quick\w*|rapid\w*)\b|\bnot (?:so |that )?(?:fast|quick\w*)\b|"
    r"\bless (?:fast|quick\w*)\b"
)
SLOWER = re.compile(
    r"\bslow\w*\b|\bease (?:up|off)\b|\b(?:reduce|lower|decrease|drop) (?:the |your )?speed\b|"
    r"\btake it easy\b|\bcalm down\b|\bdecelerate\b|\bhold your horses\b|\bcrawl\b"
)
# A named direction wins over a manner adverb ("quickly to the left" is a direction), not over
# these ("lower the speed", "faster").
SPEED_EXPLICIT = re.compile(
    r"\bslower\b|\bfaster\b|\bquicker\b|\bslow down\b|\bspeed\b|"
    r"\bpace\b|\btoo (?:fast|slow)\b|\bhurry\b|\bease (?:up|off)\b"
)
FASTER = re.compile(
    r"\bfast\w*\b|\bquick\w*\b|\bspeed (?:it )?up\b|\bhurry\b|\bpick up the pace\b|"
    r"\brapid\w*\b|\bmore speed\b|\btoo slow\w*\b|\baccelerate\b|\bswift\w*\b|\bsnappier\b|"
    r"\b(?:increase|raise) (?:the |your )?(?:speed|pace)\b|\bget a move on\b|\bstep on it\b"
)
GRIPPER_OPEN = re.compile(
    r"\bopen\w*\b|\blet (?:it |that |the thing )?go\b|\blet go of\b|\brelease\b|"
    r"\bdrop (?:it|that|this|them)\b|\bunclamp\b|\bungrip\b|\bletting go\b|\bun ?grasp\b|"
    r"\bspread\b|\bloosen\b|\bput it down\b|\bset it down\b|\bdrop$"
)
GRIPPER_CLOSE = re.compile(
    r"\bclose(?!r| to| by)\b|\bgrab\b|\bgrasp\b|\bgrip\b|\bclamp\b|\bshut\b|\bpinch\b|"
    r"\bsqueeze\b|\bhold (?:it|that|this|tight)\b|\btake (?:it|that|this|hold)\b|"
    r"\bclench\b|\bcatch (?:it|that)\b|\bget a grip\b|\bgrip it\b|\bclose it\b"
)
GRIPPER_OBJECT = frozenset(("gripper", "hand", "fingers", "claw", "jaws", "grip", "grasp"))

# Task verbs: with a noun anywhere after them the sentence is a whole instruction.
TASK_VERBS = frozenset((
    "put", "place", "stack", "pick", "bring", "give", "hand", "fetch", "carry", "sort",
    "push", "slide", "drag", "throw", "insert", "toss", "deliver", "transfer", "pour",
    "grab", "grasp", "take", "lift", "drop", "collect", "gather", "arrange", "line", "clean",
    "tidy", "pack", "unstack", "set", "move", "shove", "get", "knock", "flip",
))
# ...but these only when an object comes right after ("move the block", not "move to the bowl").
OBJECT_FIRST_VERBS = frozenset(("move", "set", "get", "lift", "drop", "take", "push", "slide"))
DETERMINERS = frozenset(("the", "a", "an", "that", "this", "these", "those", "all", "every",
                         "each", "both", "some", "one", "two", "three", "my", "your"))
# Prepositions (and verbs) after which a noun phrase names a target.
TARGET_PREPS = frozenset((
    "towards", "toward", "to", "near", "next", "closer", "nearer", "close", "above", "over",
    "onto", "on", "at", "beside", "by", "behind", "into", "in", "reach", "approach", "for",
    "hover", "find", "aim", "under", "below", "top", "front", "of", "beneath", "atop",
    "underneath", "inside", "upon",
))
# Words skipped at the start of a target phrase ("over to the mug" -> "the mug").
TARGET_LEAD = TARGET_PREPS | frozenset(("up", "down", "right", "back", "directly", "straight"))
# Spatial relations of a target ("behind the mug" is behind it, not the mug itself): the last
# relation word before the noun phrase decides; "over to"/"over by" are just "to"/"by".
RELATIONS: dict[str, str] = {
    **dict.fromkeys(("near", "next", "beside", "by", "close", "closer", "nearer", "adjacent"),
                    "near"),
    **dict.fromkeys(("above", "over", "hover"), "above"),
    **dict.fromkeys(("on", "onto", "top", "atop", "upon"), "on"),
    **dict.fromkeys(("in", "into", "inside"), "in"),
    **dict.fromkeys(("under", "below", "beneath", "underneath"), "below"),
    "behind": "behind", "front": "in_front_of",
}
# The target phrase ends before these ("the mug and pick it up" -> "the mug").
TARGET_END = frozenset(("then", "instead", "quickly", "slowly", "now", "and_"))
NOUNS = frozenset(k for k, v in LEXICON.items() if v.cat == NOUN) | frozenset(
    ("ball", "balls", "box", "can", "cans", "bottle", "bottles", "banana", "apple", "spoon",
     "tray", "container", "basket", "lid", "sponge", "cube", "pot", "pan", "jar", "glass",
     "mugs", "one", "bin", "block")
)
