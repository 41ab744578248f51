"""The sentences of the spoken benchmark corpus (:mod:`.corpus`): commands, stops, unrelated speech.

Commands are either context-free ("move left a bit") or name an object of a random scene through
a template ("towards the {colour} {label}", "behind the {label}"). Unrelated speech is questions,
chit-chat and remarks about the objects on the table ("the {colour} {label} looks nice"): none of
it may become a command, and none of it holds a stop word (stop, halt, freeze, abort, hold on...),
so any stop it triggers is a false stop (the refusal's data file also holds stop-ish chit-chat,
"the bus stopped", marked by :data:`STOPISH`). The refusal's data file
(``core/language/data/unrelated.yaml``), when it is there, is used instead of :data:`UNRELATED`
so that the two lists never drift apart (see :func:`unrelated_sentences`).
"""

from __future__ import annotations

import re
from pathlib import Path

COMMANDS: tuple[str, ...] = (
    "move left", "move right a bit", "go up", "down a little", "move forward slightly",
    "back a lot", "left and up", "forward and right a little", "move down and left",
    "up a bit", "slower", "faster", "slow down", "a bit faster", "undo", "start over",
    "open the gripper", "close the gripper", "let go", "twist left", "twist right",
    "tilt up", "tilt down slightly", "tilt left", "closer", "a little higher",
    "much lower", "go backward", "to the right", "further away", "move away from me",
    "rotate clockwise", "grab it", "raise it a little", "more to the left",
)
# {c}: a colour, {o}: an object label of the utterance's scene.
SCENE_TEMPLATES: tuple[str, ...] = (
    "towards the {c} {o}", "go to the {c} {o}", "move to the {c} {o}", "behind the {o}",
    "go behind the {c} {o}", "towards the {o}", "over the {c} {o}", "next to the {c} {o}",
)
STOPS: tuple[str, ...] = (
    "stop", "halt", "freeze", "e-stop", "abort", "hold on", "please stop now", "no no stop",
)
# The stop word (or phrase) in each stop utterance: its end is when the e-stop clock starts.
STOP_PHRASE: dict[str, str] = {
    "stop": "stop", "halt": "halt", "freeze": "freeze", "e-stop": "e-stop", "abort": "abort",
    "hold on": "hold on", "please stop now": "please stop", "no no stop": "no no stop",
}
UNRELATED: tuple[str, ...] = (
    # questions
    "where are my keys", "what time is it", "can you hear me", "is it going to rain today",
    "who left the lights on", "how long will this take", "did you get my message",
    "what did you have for lunch", "are we done yet", "is the meeting at three",
    "where is the nearest coffee shop", "how do I restart the computer",
    "can you send me the report", "what is the wifi password", "when does the train leave",
    "why is the printer so slow", "have you seen my phone", "what is the plan for tomorrow",
    "is anyone sitting here", "how was your weekend", "do you want some tea",
    "which room is the seminar in", "what are we doing after this",
    # chit-chat
    "this is taking forever", "what a nice day it is", "I had pasta for lunch yesterday",
    "the bus was late again this morning", "that looks great", "how are you doing today",
    "the weather is lovely", "I think it is working", "let me check my email",
    "my sister lives in Boston", "the coffee machine is broken again", "I need a holiday",
    "the football match was exciting", "I forgot my umbrella at home",
    "we should order pizza tonight", "my cat knocked over a plant", "I am so tired today",
    "the traffic was terrible", "thanks for your help earlier", "good morning everyone",
    "I will be back in five minutes", "the camera battery is almost empty",
    "this song is stuck in my head", "I like the new office", "it is cold in here",
    "my laptop needs an update", "the report is due on friday", "nice to meet you",
    "see you tomorrow", "I could really use a coffee", "the demo went well yesterday",
    "let us take a short break", "I have a dentist appointment", "that was a good joke",
    "my brother is visiting next week", "the lab smells like paint",
    "I read an interesting paper today", "the garden needs watering",
    "our team won the quiz", "I just finished the book", "the kettle is boiling",
    "I am learning to play the guitar", "the parking lot is full",
    "somebody ate my sandwich", "the elevator is out of order",
    "she is giving a talk this afternoon", "I love the smell of fresh bread",
    "the bakery closes early on sundays", "my phone keeps buzzing", "it smells like rain",
    "I left my jacket in the car", "the soup was too salty", "we are out of milk",
    "the new intern starts on monday", "I think I caught a cold", "the view from here is amazing",
    "my shoes are still wet", "I cannot find a pen anywhere", "the neighbours are having a party",
    "I saw a fox in the park", "the movie was better than the book", "happy birthday to you",
    "the wifi is slow again", "that was a long meeting", "I prefer tea to coffee",
    "the kids are at school", "my flight is delayed", "we need more chairs in here",
    "the bin is full", "I will call you later", "that sounds like a good idea",
    "the sun is finally out",
    # remarks about the robot and the room
    "the robot is quite fast", "that arm is really impressive", "the lights are too bright",
    "I wonder how much this robot costs", "the table is a bit wobbly",
    "this robot is smarter than I thought", "the fan is very loud",
)
# Remarks about the objects on the table: scene words, but no command.
SCENE_REMARKS: tuple[str, ...] = (
    "the {c} {o} looks nice", "I like the {c} {o}", "is that {o} heavy",
    "where did the {c} {o} come from", "that {o} is a strange colour", "what is the {o} made of",
    "the {c} {o} is my favourite", "who put the {o} on the table", "that is a pretty {o}",
    "I bought a {c} {o} like that last year", "the {o} looks clean",
    "is the {c} {o} new", "how many {o}s are there", "the {c} one is nicer",
    "my mother has a {c} {o}", "does the {o} belong to you", "the {o} is quite small",
    "the {c} {o} reminds me of my kitchen", "what a lovely {c} {o}",
    "I think the {o} is empty", "is there coffee in the {o}", "the {c} {o} is dusty",
    "somebody painted that {o}", "the {o} was a present", "that {c} {o} is cute",
    "the {o} looks expensive", "the {c} {o} is shiny", "can I keep the {c} {o}",
    "I dropped a {o} yesterday", "that {o} needs washing",
)
_DATA = Path(__file__).resolve().parents[1] / "language" / "data" / "unrelated.yaml"
# Unrelated speech that sounds like a stop word ("the bus stopped", "my computer froze").
STOPISH = re.compile(r"\b(stop\w*|halt\w*|froze\w*|freez\w*|abort\w*|hold\w*|whoa)\b", re.I)


def unrelated_sentences(path: Path = _DATA) -> list[tuple[str, str]]:
    """(sentence, text split) pairs: the refusal's data file when it holds >= 100 sentences
    (text split ``dev``: its rules and thresholds were tuned on these; ``test``: held out),
    else :data:`UNRELATED` (text split ``own``: nothing was tuned on them). Remarks with scene
    words are :data:`SCENE_REMARKS`, filled per scene by the corpus."""
    try:
        import yaml

        rows = yaml.safe_load(path.read_text()).get("sentences") or []
        pairs = [(str(r["text"]), str(r.get("split", "test"))) for r in rows]
    except (OSError, AttributeError, KeyError, TypeError, ValueError):
        pairs = []
    if len(pairs) >= 100:
        return pairs
    return [(t, "own") for t in UNRELATED]


__all__ = ["COMMANDS", "SCENE_REMARKS", "SCENE_TEMPLATES", "STOPISH", "STOPS", "STOP_PHRASE",
           "UNRELATED", "unrelated_sentences"]
