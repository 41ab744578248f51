"""Synthetic ASR test corpus: correction commands and chit-chat spoken by espeak-ng voices.

Each sentence is synthesised with espeak-ng, converted to 16 kHz mono int16 with sox, padded
with 0.3 s of silence, and mixed with noise (sox pink or white noise) scaled in numpy to an
exact SNR (signal power measured over the loud frames). The default corpus samples, for every
sentence, ``combos`` (voice, speed) pairs at random (fixed seed) and renders each at every noise
level; ``full=True`` renders every voice x speed. Files and a ``manifest.json`` are cached in
``root`` (default ``runs/asr_corpus/``) and reused when the manifest matches.

Labels: ``kind`` is "command", "stop" (a command containing a stop word: stop/halt/freeze) or
"chitchat" (unrelated speech, which must never become a command). Chit-chat with stop-like words
that are not a stop command ("the bus stopped") counts as chit-chat: "stopped" is not a stop word.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ifagent_ros.core.speech.asr import speech_frames
from ifagent_ros.core.speech.audio import SAMPLE_RATE, read_wav, write_wav

VOICES: tuple[str, ...] = ("en-us", "en-us-nyc", "en-gb-scotland", "en-029", "en-gb-x-rp")
SPEEDS: tuple[int, ...] = (130, 170, 210)  # words per minute
NOISE_LEVELS: tuple[str, ...] = ("clean", "snr20", "snr10")
SCENE_VOCABULARY: tuple[str, ...] = ("red block", "blue cube", "green mug", "yellow bowl")

COMMANDS: tuple[str, ...] = (
    "move left", "move right a bit", "go up", "down a little", "move forward slightly",
    "back a lot", "left and up", "forward and right a little", "move down and left",
    "up a bit", "no", "no not that", "slower", "faster", "slow down", "undo", "start over",
    "open the gripper", "close the gripper", "let go", "twist left", "twist right",
    "tilt up", "tilt down slightly", "tilt left", "towards the red block",
    "go to the blue cube", "go to the green mug", "towards the yellow bowl", "closer",
)  # fmt: skip
STOPS: tuple[str, ...] = (
    "stop", "please stop", "stop stop", "halt", "freeze", "stop please", "no stop",
)  # fmt: skip
CHITCHAT: tuple[str, ...] = (
    "what a nice day it is", "I had pasta for lunch yesterday", "the bus stopped at the corner",
    "can you hear me", "that looks great", "how are you doing today", "the weather is lovely",
    "I think it is working", "let me check my email", "my sister lives in Boston",
    "the coffee machine is broken again",
)  # fmt: skip
STOP_WORDS = frozenset({"stop", "halt", "freeze"})


@dataclass(frozen=True)
class Utterance:
    """One corpus file and its labels."""

    path: str  # relative to the corpus root
    text: str
    kind: str  # command | stop | chitchat
    voice: str
    speed: int
    noise: str  # clean | snr20 | snr10


def has_stop_word(text: str) -> bool:
    """True when ``text`` contains stop, halt or freeze as a whole word."""
    return any(w in STOP_WORDS for w in text.lower().split())


def _sentences() -> list[tuple[str, str]]:
    return ([(t, "command") for t in COMMANDS] + [(t, "stop") for t in STOPS]
            + [(t, "chitchat") for t in CHITCHAT])  # fmt: skip


def plan(combos: int = 2, full: bool = False, seed: int = 0) -> list[Utterance]:
    """The utterances a corpus holds (no audio): see the module docstring for the sampling."""
    rng = random.Random(seed)
    pairs = [(v, s) for v in VOICES for s in SPEEDS]
    out = []
    for i, (text, kind) in enumerate(_sentences()):
        chosen = pairs if full else rng.sample(pairs, combos)
        for voice, speed in chosen:
            for noise in NOISE_LEVELS:
                name = f"{i:03d}_{voice}_{speed}_{noise}.wav"
                out.append(Utterance(name, text, kind, voice, speed, noise))
    return out


def synthesize(text: str, voice: str, speed: int, workdir: Path) -> np.ndarray:
    """espeak-ng -> sox -> int16 mono 16 kHz, with 0.3 s of silence on both sides."""
    raw, wav = workdir / "raw.wav", workdir / "speech.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(wav),
                    "pad", "0.3", "0.3"], check=True, capture_output=True)  # fmt: skip
    return read_wav(wav).samples


def noise_like(n: int, colour: str, workdir: Path, seed: int) -> np.ndarray:
    """``n`` samples of sox-generated pink or white noise (float, unit-free)."""
    path = workdir / "noise.wav"
    subprocess.run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(path),
                    "synth", f"{n / SAMPLE_RATE + 0.1:.3f}", f"{colour}noise", "vol", "0.5"],
                   check=True, capture_output=True)  # fmt: skip
    noise = read_wav(path).samples.astype(np.float64)
    offset = seed % max(noise.shape[0] - n, 1)
    return noise[offset : offset + n]


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` scaled so that speech power / noise power = ``snr_db`` (the
    speech power over its loud frames, so padding does not dilute it)."""
    s = speech.astype(np.float64)
    loud = np.repeat(speech_frames(speech), SAMPLE_RATE // 100)
    s_loud = s[: loud.shape[0]][loud] if loud.any() else s
    p_speech = float(np.mean(s_loud**2))
    p_noise = float(np.mean(noise**2)) or 1.0
    scaled = noise * np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return np.clip(np.round(s + scaled), -32768, 32767).astype(np.int16)


def measured_snr_db(speech: np.ndarray, mixed: np.ndarray) -> float:
    """The SNR actually in ``mixed`` (speech power over loud frames / residual power)."""
    s = speech.astype(np.float64)
    loud = np.repeat(speech_frames(speech), SAMPLE_RATE // 100)
    s_loud = s[: loud.shape[0]][loud] if loud.any() else s
    residual = mixed.astype(np.float64) - s
    return float(10 * np.log10(np.mean(s_loud**2) / max(np.mean(residual**2), 1e-9)))


def build_corpus(
    root: str | Path = "runs/asr_corpus", *, combos: int = 2, full: bool = False, seed: int = 0
) -> list[Utterance]:
    """Render the planned corpus into ``root`` (cached) and return its utterances."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise RuntimeError("the ASR corpus needs espeak-ng and sox (apt install espeak-ng sox)")
    root = Path(root)
    utterances = plan(combos, full, seed)
    manifest = root / "manifest.json"
    wanted = [asdict(u) for u in utterances]
    if manifest.exists() and json.loads(manifest.read_text()).get("utterances") == wanted:
        if all((root / u.path).exists() for u in utterances):
            return utterances
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        clean: dict[tuple[str, str, int], np.ndarray] = {}
        for k, u in enumerate(utterances):
            key = (u.text, u.voice, u.speed)
            if key not in clean:
                clean[key] = synthesize(u.text, u.voice, u.speed, work)
            speech = clean[key]
            if u.noise == "clean":
                audio = speech
            else:
                colour = "pink" if k % 2 else "white"
                audio = mix_at_snr(speech, noise_like(speech.shape[0], colour, work, k),
                                   float(u.noise.removeprefix("snr")))  # fmt: skip
            write_wav(root / u.path, audio)
    manifest.write_text(json.dumps({"sample_rate": SAMPLE_RATE, "utterances": wanted}, indent=1))
    return utterances


__all__ = [
    "CHITCHAT", "COMMANDS", "NOISE_LEVELS", "SCENE_VOCABULARY", "SPEEDS", "STOPS", "VOICES",
    "Utterance", "build_corpus", "has_stop_word", "measured_snr_db", "mix_at_snr", "plan",
    "synthesize",
]  # fmt: skip
