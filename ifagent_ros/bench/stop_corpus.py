"""The stop-word benchmark corpus: espeak-ng sentences streamed as one long audio stream.

Positives speak a stop phrase alone or inside a sentence ("please stop now"); negatives are
corrections that are not stops and unrelated sentences, some chosen to sound like a stop word
("the bus stopped", "top of the shelf", "the shop", "hold the door", "pass the salt"). Each
(voice, speed) becomes one stream: its sentences in a seeded random order with 0.4-1.5 s gaps,
then mixed with pink or white noise at 20 and 10 dB SNR (``corpus.mix_at_snr``). The end of the
stop phrase in each positive is the end of the loud frames when the phrase ends the sentence,
else the pocketsphinx forced alignment of the clean sentence.
Clean sentences and alignments are cached under ``runs/stop_corpus/`` (gitignored).

Voices: tuning = en-us, en-gb-scotland, en-029, en-gb-x-rp at 130/170/210 wpm; held out whole
from any tuning = en-us-nyc, en-gb-x-gbclan, en-gb-x-gbcwmd+f3 at 190 wpm.
"""

from __future__ import annotations

import json
import random
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE, read_wav, write_wav
from ifagent_ros.core.speech.corpus import (
    HELDOUT_SPEEDS,
    HELDOUT_VOICES,
    TUNING_SPEEDS,
    TUNING_VOICES,
    make_noise,
    mix_at_snr,
    synthesize,
)
from ifagent_ros.core.speech.partial_decoding import speech_end

TUNING = tuple((v, s) for v in TUNING_VOICES for s in TUNING_SPEEDS)
HELDOUT = tuple((v, s) for v in HELDOUT_VOICES for s in HELDOUT_SPEEDS)
NOISES: tuple[str, ...] = ("clean", "snr20", "snr10")

# (spoken text, the same as dictionary words, the stop phrase it holds)
POSITIVES: tuple[tuple[str, str, str], ...] = (
    ("stop", "stop", "stop"), ("halt", "halt", "halt"), ("freeze", "freeze", "freeze"),
    ("e-stop", "e stop", "e stop"), ("abort", "abort", "abort"), ("hold on", "hold on", "hold on"),
    ("please stop now", "please stop now", "stop"), ("no no stop", "no no stop", "stop"),
    ("stop it", "stop it", "stop"), ("stop stop", "stop stop", "stop"),
    ("halt please", "halt please", "halt"), ("okay freeze", "okay freeze", "freeze"),
    ("wait hold on", "wait hold on", "hold on"), ("abort the grasp", "abort the grasp", "abort"),
    ("emergency stop", "emergency stop", "stop"),
)
CORRECTIONS: tuple[str, ...] = (
    "move left", "go to the top", "a bit higher", "turn right", "move right a bit", "go up",
    "down a little", "move forward slightly", "back a lot", "up a bit", "no not that", "slower",
    "faster", "slow down", "undo", "start over", "open the gripper", "close the gripper",
    "let go", "twist left", "tilt up", "towards the red block", "go to the blue cube", "closer",
    "put it on top of the box", "a little lower", "go back", "rotate the wrist", "grab the mug",
    "to the left of the bowl",
)
AMBIGUOUS: tuple[str, ...] = ("hold it",)  # reported apart: a stop to some, a grip to others
UNRELATED: tuple[str, ...] = (
    "the bus stopped at the corner", "the top of the shelf is dusty", "I went to the shop",
    "hold the door please", "the hot pot is on the stove", "pass the salt", "the lake froze",
    "the freezer is full", "a cool breeze came in", "I bought a new laptop", "she sells shoes",
    "the shop was closed", "that is a fault in the design", "the ball is round", "please sit down",
    "the hall is very long", "he stepped on a stone", "the cheese is in the fridge",
    "a bored student", "about time", "the board meeting is at noon", "stomp your feet",
    "a tall tree", "the spot on the rug", "stay a while", "the story is long", "old photos",
    "hold your horses", "a cold morning", "the salt and pepper", "the show starts at eight",
    "what a nice day it is", "I had pasta for lunch", "can you hear me", "that looks great",
    "how are you doing today", "the weather is lovely", "I think it is working",
    "let me check my email", "my sister lives in Boston", "the coffee machine is broken",
    "where are my keys", "this is taking forever", "what time is it", "did you see the game",
    "I need more coffee", "the red block looks nice", "the blue cube is shiny",
    "there is a mug on the table", "the bowl is empty", "who left the cup here",
    "is this the green one", "the table is a bit messy", "the yellow bowl is mine",
    "I like the colour of that block", "the light is too bright", "the camera is working",
    "the robot looks busy", "nice work everyone", "is it lunch time yet", "I forgot my phone",
    "the train was late again", "we should order pizza", "have you met the new intern",
    "the printer is jammed", "my cat sleeps all day", "it might rain later",
    "the meeting ran long", "I am going home soon", "can you send me the file",
    "this chair is comfortable", "the window is open", "the music is too loud",
    "do you want some tea", "the store opens at nine", "I left my jacket outside",
    "tell me a joke", "how does this work", "what is on the table", "why is it so cold in here",
    "the plant needs water", "my back hurts", "the demo went well", "they painted the wall",
    "I read a good book", "the dog barked all night", "let us take a picture",
    "the kettle is boiling", "the floor is wet", "who is speaking", "I will be right back",
    "the battery is low", "the box is heavy", "this mug is mine", "the cube is upside down",
    "that block is wooden", "the apple is red", "the knife is sharp", "the spoon fell down",
    "the pen is out of ink", "the lid is loose", "my hands are cold", "good morning",
    "thank you very much", "see you tomorrow", "that was close", "what a mess",
    "the soup is hot", "the doctor is in", "the top drawer is stuck", "a pot of tea",
)


@dataclass(frozen=True)
class Item:
    """One sentence in a stream (sample indices in the stream)."""

    text: str
    kind: str  # stop | correction | unrelated | ambiguous
    start: int
    end: int
    phrase: str = ""  # the stop phrase (positives)
    word_end: int = -1  # end of the stop phrase (positives)


@dataclass(frozen=True)
class Stream:
    voice: str
    speed: int
    noise: str
    audio: np.ndarray
    items: tuple[Item, ...]

    @property
    def split(self) -> str:
        return "heldout" if (self.voice, self.speed) in HELDOUT else "tuning"


def loud_end(audio: np.ndarray) -> int:
    """Sample index after the last loud 10 ms frame (:func:`~ifagent_ros.core.speech.
    partial_decoding.speech_end`); the whole length when none is loud."""
    end = speech_end(audio, min_frames=1)
    return audio.shape[0] if end is None else end


def _aligner():
    from pocketsphinx import Decoder

    from ifagent_ros.core.speech.pocketsphinx_recognizer import model_paths

    paths = model_paths()
    return Decoder(hmm=paths["hmm"], dict=paths["dict"], lm=None, loglevel="FATAL")


def phrase_end(aligner, audio: np.ndarray, words: str, phrase: str) -> int:
    """Sample index (in ``audio``) of the end of the first ``phrase`` in ``words``, by forced
    alignment (a white noise floor is added, as the detector does)."""
    noisy = audio + np.random.default_rng(0).normal(0.0, 100.0, audio.shape)
    aligner.set_align_text(words)
    aligner.start_utt()
    aligner.process_raw(np.clip(noisy, -32768, 32767).astype(np.int16).tobytes(), full_utt=True)
    aligner.end_utt()
    segs = [(s.word.split("(")[0], s.end_frame) for s in aligner.seg() or ()
            if not s.word.startswith(("<", "["))]
    target = phrase.split()
    names = [w for w, _ in segs]
    for i in range(len(names) - len(target) + 1):
        if names[i : i + len(target)] == target:
            return (segs[i + len(target) - 1][1] + 1) * (SAMPLE_RATE // 100)
    raise RuntimeError(f"alignment of {words!r} lost {phrase!r}: {names}")


def _sentences(voice: str, speed: int, neg_share: float, seed: int) -> list[tuple[str, str, str]]:
    """(spoken, kind, phrase/words) of one (voice, speed): all positives, a seeded share of the
    negatives (each negative lands in ``neg_share`` of the voices of its split)."""
    rng = random.Random(f"{seed}-{voice}-{speed}")
    out = [(s, "stop", f"{w}|{p}") for s, w, p in POSITIVES]
    for kind, texts in (("correction", CORRECTIONS), ("unrelated", UNRELATED),
                        ("ambiguous", AMBIGUOUS)):
        out += [(t, kind, "") for t in texts if rng.random() < neg_share]
    rng.shuffle(out)
    return out


def _clean(text: str, voice: str, speed: int, root: Path, work: Path) -> np.ndarray:
    path = root / f"{voice}_{speed}" / (text.replace(" ", "_").replace("-", "_") + ".wav")
    if path.exists():
        return read_wav(path).samples
    audio = synthesize(text, voice, speed, work)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, audio)
    return audio


def build_streams(
    combos: tuple[tuple[str, int], ...] = TUNING + HELDOUT,
    noises: tuple[str, ...] = NOISES,
    *,
    neg_share_tuning: float = 0.25,
    neg_share_heldout: float = 0.34,
    seed: int = 0,
    root: str | Path = "runs/stop_corpus",
) -> list[Stream]:
    """One :class:`Stream` per (voice, speed, noise); sentences and alignments cached."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cache_path = root / "alignments.json"
    ends: dict[str, int] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    aligner = None
    streams = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for voice, speed in combos:
            share = neg_share_heldout if (voice, speed) in HELDOUT else neg_share_tuning
            rng = np.random.default_rng(zlib.crc32(f"{voice}-{speed}-{seed}".encode()))
            parts, items, pos = [], [], 0
            for spoken, kind, extra in _sentences(voice, speed, share, seed):
                audio = _clean(spoken, voice, speed, root, work)
                gap = int(rng.uniform(0.4, 1.5) * SAMPLE_RATE)
                parts += [np.zeros(gap, np.int16), audio]
                pos += gap
                word_end, phrase = -1, ""
                if kind == "stop":
                    words, phrase = extra.split("|")
                    key = f"{voice}|{speed}|{spoken}"
                    if key not in ends:
                        aligner = aligner or _aligner()
                        ends[key] = phrase_end(aligner, audio, words, phrase)
                        if words.endswith(phrase):  # the phrase ends the sentence: the speech
                            ends[key] = loud_end(audio)  # end is more exact
                    word_end = pos + ends[key]
                items.append(Item(spoken, kind, pos, pos + audio.shape[0], phrase, word_end))
                pos += audio.shape[0]
            parts.append(np.zeros(SAMPLE_RATE, np.int16))
            clean = np.concatenate(parts)
            for k, noise in enumerate(noises):
                audio = clean
                if noise != "clean":
                    colour = "pink" if (len(streams) + k) % 2 else "white"
                    audio = mix_at_snr(clean, make_noise(clean.shape[0], colour, len(streams) + k),
                                       float(noise.removeprefix("snr")))
                streams.append(Stream(voice, speed, noise, audio, tuple(items)))
    cache_path.write_text(json.dumps(ends, indent=0, sort_keys=True))
    return streams


__all__ = [
    "AMBIGUOUS", "CORRECTIONS", "HELDOUT", "NOISES", "POSITIVES", "TUNING", "UNRELATED", "Item",
    "Stream", "build_streams", "phrase_end",
]
