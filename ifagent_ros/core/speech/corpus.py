"""Spoken benchmark corpus: corrections, stop words and unrelated speech in espeak-ng voices.

Voices and speeds (every voice checked to exist and speak in this espeak-ng):

* tuning: ``en-us``, ``en-gb-scotland``, ``en-029``, ``en-gb-x-rp`` at 130 / 170 / 210 wpm;
* held out whole from any tuning: ``en-us-nyc``, ``en-gb-x-gbclan``, ``en-gb-x-gbcwmd+f3`` (a
  female variant), and the speed 190 wpm. An utterance with a held-out voice *or* the held-out
  speed is in split ``heldout``; thresholds may only be tuned on split ``tuning``.

Conditions: ``clean``; ``snr20`` / ``snr10``: white or pink noise (numpy, seeded) scaled to the
exact SNR, the speech power measured over its loud 10 ms frames so that padding does not dilute
it; ``reverb``: sox ``reverb 60 50 80`` (a mid-size room), rescaled to the clean RMS.

Unrelated sentences are the refusal's data file (``core/language/data/unrelated.yaml``) when it
is there -- its ``dev`` half, which the refusal was tuned on, only in the full corpus and reported
apart -- plus remarks with the words of random scenes.

Sentences (:mod:`.corpus_sentences`): commands, context-free or naming an object of a random
scene (colours and labels from :func:`~ifagent_ros.core.perception.grounding_eval.random_scene`,
the scenes the grounding benchmark uses); stop utterances; unrelated questions, chit-chat and
remarks about the objects on the table. Each :class:`Utterance` is labelled with its kind
(command / stop / unrelated), voice, speed, condition, split, scene, and, once rendered, where
its speech starts and ends and where its stop word ends. The expected correction is the parser's
reading of the reference text in the utterance's scene (:func:`expected_correction`).

Audio: espeak-ng -> sox (16 kHz mono int16, 0.3 s of silence both sides) -> condition, rendered
in a few threads (each file is two short subprocesses). Files are named by a hash of what is in
them and cached under ``root`` (default ``runs/speech_corpus/``) with an ``index.json`` of their
timing, so the default, the full and any ``limit``-ed corpus share files.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import subprocess
import tempfile
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.speech.asr import speech_frames
from ifagent_ros.core.speech.audio import SAMPLE_RATE, read_wav, write_wav
from ifagent_ros.core.speech.corpus_sentences import (
    COMMANDS,
    SCENE_REMARKS,
    SCENE_TEMPLATES,
    STOP_PHRASE,
    STOPS,
    unrelated_sentences,
)

TUNING_VOICES: tuple[str, ...] = ("en-us", "en-gb-scotland", "en-029", "en-gb-x-rp")
HELDOUT_VOICES: tuple[str, ...] = ("en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd+f3")
TUNING_SPEEDS: tuple[int, ...] = (130, 170, 210)  # words per minute
HELDOUT_SPEEDS: tuple[int, ...] = (190,)
VOICES: tuple[str, ...] = TUNING_VOICES + HELDOUT_VOICES
SPEEDS: tuple[int, ...] = TUNING_SPEEDS + HELDOUT_SPEEDS
CONDITIONS: tuple[str, ...] = ("clean", "snr20", "snr10", "reverb")
NOISE_LEVELS = CONDITIONS  # the name bench code used before reverberation was added
KINDS: tuple[str, ...] = ("command", "stop", "unrelated")
PAD_S = 0.3
REVERB = ("reverb", "60", "50", "80")  # reverberance %, HF damping %, room scale %
DEFAULT_ROOT = "runs/speech_corpus"


@dataclass(frozen=True)
class Utterance:
    """One corpus file and its labels (times in seconds from the start of the file)."""

    path: str  # relative to the corpus root
    text: str  # the reference words
    kind: str  # command | stop | unrelated
    voice: str
    speed: int
    noise: str  # clean | snr20 | snr10 | reverb
    scene_seed: int = -1  # the random scene it is spoken in (its words bias the recogniser)
    text_split: str = ""  # unrelated: dev (the refusal was tuned on it) | test | own (see below)
    speech_start_s: float = 0.0  # filled by build_corpus
    speech_end_s: float = 0.0
    stop_end_s: float = 0.0  # stop utterances: the end of the stop word or phrase
    duration_s: float = 0.0

    @property
    def heldout(self) -> bool:
        return self.voice in HELDOUT_VOICES or self.speed in HELDOUT_SPEEDS

    @property
    def split(self) -> str:
        return "heldout" if self.heldout else "tuning"


# -- scenes and labels ---------------------------------------------------------------------------
def scene_objects(seed: int) -> list[dict[str, Any]]:
    """The random tabletop scene ``seed`` names (object dicts the parser can ground against)."""
    from ifagent_ros.core.perception.grounding_eval import random_scene

    return random_scene(random.Random(seed)) if seed >= 0 else []


def scene_words(objects: list[dict[str, Any]]) -> list[str]:
    """The scene vocabulary a recogniser is biased with: "red mug", ... (sorted, unique)."""
    return sorted({f"{o['color']} {o['label']}" for o in objects})


def expected_correction(u: Utterance, parser: Any = None) -> Any:
    """The parser's reading of the reference text in the utterance's scene (a Correction)."""
    from ifagent_ros.core.language.parser import CorrectionParser

    parser = parser or CorrectionParser()
    return parser.parse(u.text, objects=scene_objects(u.scene_seed) or None)


def _fill(template: str, rng: random.Random, seed: int) -> str:
    obj = rng.choice(scene_objects(seed))
    return template.format(c=obj["color"], o=obj["label"])


# -- the plan ------------------------------------------------------------------------------------
def _speed(voice: str, rng: random.Random) -> int:
    if voice in HELDOUT_VOICES:
        return rng.choice((170, *HELDOUT_SPEEDS))
    return rng.choice((*TUNING_SPEEDS, *HELDOUT_SPEEDS))


def _name(kind: str, text: str, voice: str, speed: int, noise: str) -> str:
    digest = zlib.crc32(f"{text}|{voice}|{speed}|{noise}".encode())
    return f"{kind[:3]}_{digest:08x}_{voice.replace('+', '_')}_{speed}_{noise}.wav"


def _utt(kind: str, text: str, voice: str, speed: int, noise: str, seed: int = -1,
         text_split: str = "") -> Utterance:
    return Utterance(_name(kind, text, voice, speed, noise), text, kind, voice, speed, noise, seed,
                     text_split)


def plan(full: bool = False, seed: int = 0, n_commands: int = 160,
         n_scenes: int = 40) -> list[Utterance]:
    """The utterances a corpus holds (no audio yet), kinds interleaved so that any prefix
    (``limit``) holds all three.

    Default (~350): ``n_commands`` commands (half context-free, half naming an object of one of
    ``n_scenes`` random scenes) spread evenly over (voice, condition) cells, held-out voices
    weighted twice; every stop utterance in every voice (conditions rotating); every unrelated
    sentence the refusal was not tuned on and every scene remark once (>= 100). ``full``: every
    command sentence (scene templates in 5 scenes each) and every stop in every voice x
    condition, all unrelated speech in every condition.
    """
    rng = random.Random(seed)
    seeds = [seed * 1000 + k for k in range(n_scenes)]
    commands: list[Utterance] = []
    stops: list[Utterance] = []
    unrelated: list[Utterance] = []
    scene_cmds = [(t, s) for t in SCENE_TEMPLATES for s in seeds[:5]]
    remarks = [(_fill(t, rng, s), s, "own")
               for t, s in zip(SCENE_REMARKS, itertools.cycle(seeds))]
    plain = [(t, seeds[k % n_scenes], split) for k, (t, split) in enumerate(unrelated_sentences())]
    if full:
        sentences = [(t, seeds[k % n_scenes]) for k, t in enumerate(COMMANDS)]
        sentences += [(_fill(t, rng, s), s) for t, s in scene_cmds]
        for (text, s), voice, noise in itertools.product(sentences, VOICES, CONDITIONS):
            commands.append(_utt("command", text, voice, _speed(voice, rng), noise, s))
        for k, (text, voice, noise) in enumerate(itertools.product(STOPS, VOICES, CONDITIONS)):
            stops.append(_utt("stop", text, voice, _speed(voice, rng), noise, seeds[k % n_scenes]))
        for (text, s, split), noise in itertools.product(plain + remarks, CONDITIONS):
            voice = rng.choice(VOICES)
            unrelated.append(_utt("unrelated", text, voice, _speed(voice, rng), noise, s, split))
    else:
        cells = list(itertools.product(TUNING_VOICES + HELDOUT_VOICES * 2, CONDITIONS))
        rng.shuffle(cells)
        cell = itertools.cycle(cells)
        free = itertools.cycle(COMMANDS)
        for k in range(n_commands):
            voice, noise = next(cell)
            s = seeds[k // 2 % n_scenes]
            if k % 2:
                text = _fill(SCENE_TEMPLATES[k // 2 % len(SCENE_TEMPLATES)], rng, s)
            else:
                text = next(free)
            commands.append(_utt("command", text, voice, _speed(voice, rng), noise, s))
        for i, text in enumerate(STOPS):
            for j, voice in enumerate(VOICES):
                noise = CONDITIONS[(i + j) % len(CONDITIONS)]
                s = seeds[(i * len(VOICES) + j) % n_scenes]
                stops.append(_utt("stop", text, voice, _speed(voice, rng), noise, s))
        for text, s, split in [p for p in plain if p[2] != "dev"] + remarks:
            voice, noise = next(cell)
            unrelated.append(_utt("unrelated", text, voice, _speed(voice, rng), noise, s, split))
    for group in (commands, stops, unrelated):
        rng.shuffle(group)
    return _interleave([commands, stops, unrelated])


def _interleave(groups: list[list[Utterance]]) -> list[Utterance]:
    """Round-robin in proportion to the groups' sizes, so every prefix mixes all kinds."""
    total = sum(len(g) for g in groups)
    keyed = [((i + 0.5) / len(g), k, u) for k, g in enumerate(groups) for i, u in enumerate(g)]
    return [u for _, _, u in sorted(keyed, key=lambda x: (x[0], x[1]))][:total]


# -- audio ---------------------------------------------------------------------------------------
def synthesize(text: str, voice: str, speed: int, workdir: Path) -> np.ndarray:
    """espeak-ng -> sox -> int16 mono 16 kHz, with 0.3 s of silence on both sides."""
    tag = uuid.uuid4().hex  # unique: threads may render the same sentence at once
    raw, wav = workdir / f"raw_{tag}.wav", workdir / f"speech_{tag}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text],
                   check=True, capture_output=True)
    subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", str(wav),
                    "pad", str(PAD_S), str(PAD_S)], check=True, capture_output=True)
    audio = read_wav(wav).samples
    raw.unlink(missing_ok=True)
    wav.unlink(missing_ok=True)
    return audio


def speech_bounds(audio: np.ndarray) -> tuple[float, float]:
    """(start, end) of the loud frames, in seconds."""
    loud = np.flatnonzero(speech_frames(audio))
    if loud.size == 0:
        return 0.0, 0.0
    return float(loud[0] / 100.0), float((loud[-1] + 1) / 100.0)


def _speech_power(speech: np.ndarray) -> float:
    s = speech.astype(np.float64)
    loud = np.repeat(speech_frames(speech), SAMPLE_RATE // 100)
    sel = s[: loud.shape[0]][loud] if loud.any() else s
    return float(np.mean(sel**2))


def make_noise(n: int, colour: str, seed: int) -> np.ndarray:
    """``n`` samples of unit-variance white or pink (1/f power) noise."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    if colour == "pink":
        spectrum = np.fft.rfft(white)
        f = np.arange(spectrum.shape[0], dtype=np.float64)
        spectrum /= np.sqrt(np.maximum(f, 1.0))
        white = np.fft.irfft(spectrum, n)
    return white / (np.std(white) or 1.0)


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` scaled so that speech power (over its loud frames) / noise
    power = ``snr_db``."""
    p_noise = float(np.mean(noise.astype(np.float64) ** 2)) or 1.0
    scaled = noise * np.sqrt(_speech_power(speech) / (p_noise * 10 ** (snr_db / 10)))
    return np.clip(np.round(speech.astype(np.float64) + scaled), -32768, 32767).astype(np.int16)


def measured_snr_db(speech: np.ndarray, mixed: np.ndarray) -> float:
    """The SNR actually in ``mixed`` (speech power over loud frames / residual power)."""
    residual = mixed.astype(np.float64) - speech.astype(np.float64)
    return float(10 * np.log10(_speech_power(speech) / max(float(np.mean(residual**2)), 1e-9)))


def add_reverb(speech: np.ndarray, workdir: Path, tag: str = "rv") -> np.ndarray:
    """``speech`` through sox ``reverb`` (same length, same RMS as the input)."""
    src, dst = workdir / f"{tag}_in.wav", workdir / f"{tag}_out.wav"
    write_wav(src, speech)
    subprocess.run(["sox", str(src), str(dst), *REVERB], check=True, capture_output=True)
    out = read_wav(dst).samples.astype(np.float64)[: speech.shape[0]]
    out = np.pad(out, (0, speech.shape[0] - out.shape[0]))
    rms_in = float(np.sqrt(np.mean(speech.astype(np.float64) ** 2)))
    out *= rms_in / max(float(np.sqrt(np.mean(out**2))), 1e-9)
    src.unlink(missing_ok=True)
    dst.unlink(missing_ok=True)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def apply_condition(speech: np.ndarray, noise: str, workdir: Path, seed: int) -> np.ndarray:
    """The clean utterance under ``noise`` (clean / snrNN / reverb)."""
    if noise == "clean":
        return speech
    if noise == "reverb":
        return add_reverb(speech, workdir, f"rv{seed:08x}")
    colour = "pink" if seed % 2 else "white"
    snr = float(noise.removeprefix("snr"))
    return mix_at_snr(speech, make_noise(speech.shape[0], colour, seed), snr)


def _render(u: Utterance, root: Path, workdir: Path) -> dict[str, float]:
    speech = synthesize(u.text, u.voice, u.speed, workdir)
    start, end = speech_bounds(speech)
    stop_end = 0.0
    if u.kind == "stop":
        phrase = STOP_PHRASE.get(u.text, u.text)
        stop_end = end if phrase == u.text else speech_bounds(
            synthesize(phrase, u.voice, u.speed, workdir))[1]
    audio = apply_condition(speech, u.noise, workdir, zlib.crc32(u.path.encode()))
    write_wav(root / u.path, audio)
    return {"speech_start_s": start, "speech_end_s": end, "stop_end_s": stop_end,
            "duration_s": audio.shape[0] / SAMPLE_RATE}


def build_corpus(root: str | Path = DEFAULT_ROOT, *, full: bool = False, seed: int = 0,
                 limit: int | None = None, workers: int = 2,
                 utterances: list[Utterance] | None = None) -> list[Utterance]:
    """Render the planned corpus (or ``utterances``) into ``root``, reusing cached files, and
    return the utterances with their timing filled in."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        raise RuntimeError("the speech corpus needs espeak-ng and sox (apt install espeak-ng sox)")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    wanted = utterances if utterances is not None else plan(full, seed)
    if limit is not None:
        wanted = wanted[:limit]
    index_path = root / "index.json"
    index: dict[str, dict[str, float]] = (
        json.loads(index_path.read_text()) if index_path.exists() else {})
    todo = [u for u in wanted if u.path not in index or not (root / u.path).exists()]
    if todo:
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(1, workers)) as pool:
            metas = list(pool.map(lambda u: _render(u, root, Path(tmp)), todo))
        index.update({u.path: m for u, m in zip(todo, metas, strict=True)})
        tmp_index = index_path.with_suffix(".tmp")
        tmp_index.write_text(json.dumps(index, indent=0, sort_keys=True))
        tmp_index.replace(index_path)
    return [replace(u, **index[u.path]) for u in wanted]


def composition(utterances: list[Utterance]) -> dict[str, int]:
    """Counts per kind, split, voice and condition (``n_<what>_<value>``)."""
    counts: dict[str, int] = {"n_utterances": len(utterances)}
    for u in utterances:
        for what, value in (("kind", u.kind), ("split", u.split), ("voice", u.voice),
                            ("noise", u.noise), ("speed", str(u.speed))):
            key = f"n_{what}_{value}"
            counts[key] = counts.get(key, 0) + 1
    return counts


def utterance_dict(u: Utterance) -> dict[str, Any]:
    """The labels as a plain dict (with split and heldout)."""
    return {**asdict(u), "split": u.split, "heldout": u.heldout}


__all__ = [
    "CONDITIONS", "HELDOUT_SPEEDS", "HELDOUT_VOICES", "KINDS", "NOISE_LEVELS", "SPEEDS",
    "TUNING_SPEEDS", "TUNING_VOICES", "Utterance", "VOICES", "add_reverb", "apply_condition",
    "build_corpus", "composition", "expected_correction", "make_noise",
    "measured_snr_db", "mix_at_snr", "plan", "scene_objects", "scene_words", "speech_bounds",
    "synthesize", "utterance_dict",
]
