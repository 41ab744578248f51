"""Speech half of `ifagent bench language`: spoken corrections, stops and unrelated speech, per
recogniser backend, on the espeak-ng corpus of :mod:`ifagent_ros.core.speech.corpus`.

Per backend (``whisper``, ``pocketsphinx``), every utterance is decoded whole with the scene's
words as the recogniser's vocabulary and goes through what correction_node does: a stop word
(``is_stop``) is an e-stop; a transcript under ``MIN_CONFIDENCE`` is dropped; anything else goes
through the refusal (:func:`~ifagent_ros.core.language.acceptance.accept_transcript`; the bare
parser when that module is absent). Figures (flat keys, units in the names, ``<b>_`` = backend):

* ``<b>_correction_accuracy_<split>_<condition>``: commands whose accepted correction equals the
  parser's reading of the reference text (type, direction, rotation, magnitude, target, speed,
  gripper), split ``heldout`` / ``tuning`` (see the corpus), per condition and ``_all``;
  ``<b>_correction_accuracy_voice_<voice>[_<condition>]``;
  ``<b>_wer_commands[_<split>_<condition>]``, ``<b>_wer_unrelated``;
* ``<b>_stop_recall_ptt``: stops heard with push-to-talk (the transcript is a stop, or the
  always-on detector fired), ``<b>_stop_recall_transcript`` (the transcript alone);
* ``<b>_unrelated_to_command_count`` / ``_rate``: unrelated utterances that became a command
  (``_test`` / ``_dev``: on the refusal's held-out / tuning sentences, ``_own``: scene remarks);
  ``<b>_false_stops_per_100_unrelated`` (transcript or detector),
  ``<b>_false_stops_per_100_commands_transcript``;
* ``reference_*``: the same pipeline on the reference texts (a perfect recogniser);
* ``<b>_decode_p50_ms``, ``<b>_rtf``: whole-utterance decode time / audio time;
* the streamed figures of :mod:`.asr_stream`: release -> correction latency with partial
  decoding, and the stop detector without push-to-talk (recall, false stops, stop -> e-stop).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.speech.audio import read_wav
from ifagent_ros.core.speech.corpus import (
    CONDITIONS,
    VOICES,
    Utterance,
    expected_correction,
    scene_objects,
    scene_words,
)
from ifagent_ros.core.speech.corpus_sentences import STOPISH

MIN_CONFIDENCE = 0.3  # correction_node's min_confidence default
SPLITS = ("heldout", "tuning")
Act = Callable[[str, float, list[dict[str, Any]], list[str]], tuple[str, dict[str, Any]]]


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation ("E-stop." -> ["e", "stop"])."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two word sequences."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for j, h in enumerate(hyp, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h)))
        prev = cur
    return prev[-1]


def wer(refs: Sequence[str], hyps: Sequence[str]) -> float:
    """Word error rate: total edits / total reference words."""
    edits = sum(edit_distance(normalize(r), normalize(h)) for r, h in zip(refs, hyps, strict=True))
    return edits / max(sum(len(normalize(r)) for r in refs), 1)


def key_part(name: str) -> str:
    """A voice or condition as part of a JSON key ("en-gb-x-gbcwmd+f3" -> "en_gb_x_gbcwmd_f3")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def make_act() -> Act:
    """What correction_node does with a transcript -> ("stop" | "command" | "refused", fields)."""
    from ifagent_ros.core.language.parser import CorrectionParser

    parser = CorrectionParser()
    try:
        from ifagent_ros.core.language.acceptance import accept_transcript
    except ImportError:  # the refusal not there yet: a full parse is a command
        accept_transcript = None

    def act(text: str, confidence: float, objects: list[dict[str, Any]],
            words: list[str]) -> tuple[str, dict[str, Any]]:
        if is_stop(text):
            return "stop", {"type": "stop"}
        if confidence < MIN_CONFIDENCE or not text.strip():
            return "refused", {"type": "unknown"}
        if accept_transcript is not None:
            verdict = accept_transcript(text, objects or None, scene_words=words, parser=parser)
            fields = verdict.correction.model_dump()
            accepted = verdict.accepted and fields["type"] not in ("unknown", "stop")
        else:
            fields = parser.parse(text, objects=objects or None).model_dump()
            accepted = fields["type"] not in ("unknown", "stop")
        if fields["type"] == "stop":
            return "stop", fields
        return ("command" if accepted else "refused"), fields

    return act


@dataclass
class Decoded:
    """One utterance through one backend."""

    u: Utterance
    text: str
    seconds: float  # whole-utterance decode
    outcome: str  # stop | command | refused
    exact: bool  # commands: the accepted correction equals the reference's


def same_correction(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Exact match on type, direction, rotation, magnitude, target, speed and gripper."""
    from ifagent_ros.core.language.corpus import field_matches

    return field_matches(got, expected)["all"]


def decode_backend(
    recognizer: Any,
    utterances: Sequence[Utterance],
    root: Path,
    act: Act,
    progress: Callable[[int, int], None] | None = None,
) -> list[Decoded]:
    """Decode every utterance (grouped by scene, so the vocabulary changes once per scene)."""
    from ifagent_ros.core.language.parser import CorrectionParser

    parser = CorrectionParser()
    order = sorted(range(len(utterances)), key=lambda i: utterances[i].scene_seed)
    out: list[Decoded | None] = [None] * len(utterances)
    scene = None
    objects: list[dict[str, Any]] = []
    words: list[str] = []
    for n, i in enumerate(order):
        u = utterances[i]
        if u.scene_seed != scene:
            scene, objects = u.scene_seed, scene_objects(u.scene_seed)
            words = scene_words(objects)
            recognizer.set_vocabulary(words)
        audio = read_wav(root / u.path).samples
        t0 = time.perf_counter()
        speech = recognizer.transcribe(audio, 0.0, u.duration_s)
        seconds = time.perf_counter() - t0
        outcome, fields = act(speech.text, speech.confidence, objects, words)
        exact = False
        if u.kind == "command" and outcome == "command":
            exact = same_correction(fields, expected_correction(u, parser).model_dump())
        out[i] = Decoded(u, speech.text, seconds, outcome, exact)
        if progress is not None:
            progress(n + 1, len(utterances))
    return [d for d in out if d is not None]


def reference_figures(utterances: Sequence[Utterance], act: Act) -> dict[str, Any]:
    """The same pipeline on the reference texts (a perfect recogniser): the ceiling of the
    accuracy figures and a check on the refusal alone."""
    from ifagent_ros.core.language.parser import CorrectionParser

    parser = CorrectionParser()
    exact, unrelated_cmd, stops = [], [], []
    for u in utterances:
        objects = scene_objects(u.scene_seed)
        outcome, fields = act(u.text, 1.0, objects, scene_words(objects))
        if u.kind == "command":
            exact.append(outcome == "command" and same_correction(
                fields, expected_correction(u, parser).model_dump()))
        elif u.kind == "unrelated":
            unrelated_cmd.append(outcome == "command")
        else:
            stops.append(outcome == "stop")
    return {"reference_correction_accuracy": _mean(exact),
            "reference_unrelated_to_command_count": int(sum(unrelated_cmd)),
            "reference_stop_recall": _mean(stops)}


def _mean(values: Sequence[bool | float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def backend_figures(b: str, rows: Sequence[Decoded], detector_fired: dict[str, bool]) -> dict:
    """Flat figures of one backend (see the module docstring); ``detector_fired``: per file,
    whether the always-on stop detector fired on it (empty: no detector)."""
    fig: dict[str, Any] = {}
    cmds = [r for r in rows if r.u.kind == "command"]
    for split in (*SPLITS, "all"):
        for cond in (*CONDITIONS, "all"):
            sel = [r for r in cmds if split in ("all", r.u.split) and cond in ("all", r.u.noise)]
            if not sel:
                continue
            tag = f"{split}_{cond}" if cond != "all" else split
            fig[f"{b}_correction_accuracy_{tag}"] = _mean([r.exact for r in sel])
            fig[f"{b}_commands_{tag}_n"] = len(sel)
            fig[f"{b}_wer_commands_{tag}"] = wer([r.u.text for r in sel], [r.text for r in sel])
    for voice in VOICES:
        for cond in (*CONDITIONS, "all"):
            sel = [r for r in cmds if r.u.voice == voice and cond in ("all", r.u.noise)]
            if sel:
                tag = key_part(voice) + ("" if cond == "all" else f"_{cond}")
                fig[f"{b}_correction_accuracy_voice_{tag}"] = _mean([r.exact for r in sel])
                fig[f"{b}_commands_voice_{tag}_n"] = len(sel)
    if cmds:
        fig[f"{b}_wer_commands"] = wer([r.u.text for r in cmds], [r.text for r in cmds])
        # a command heard as a stop ("towards the bowl" -> "... hold on"): costs a second
        fig[f"{b}_false_stops_per_100_commands_transcript"] = 100.0 * float(
            np.mean([r.outcome == "stop" for r in cmds]))
    stops = [r for r in rows if r.u.kind == "stop"]
    if stops:
        fig[f"{b}_stop_recall_transcript"] = _mean([r.outcome == "stop" for r in stops])
        fig[f"{b}_stop_recall_ptt"] = _mean([r.outcome == "stop" or detector_fired.get(r.u.path,
                                             False) for r in stops])
        missed = sorted({f"{r.u.text} ({r.u.voice} {r.u.noise}): {r.text!r}" for r in stops
                         if r.outcome != "stop"})
        fig[f"{b}_stops_missed_by_transcript"] = missed
    unrel = [r for r in rows if r.u.kind == "unrelated"]
    if unrel:
        fig[f"{b}_wer_unrelated"] = wer([r.u.text for r in unrel], [r.text for r in unrel])
        for part in ("all", "test", "dev", "own"):
            sel = [r for r in unrel if part in ("all", r.u.text_split)]
            if not sel:
                continue
            tag = "" if part == "all" else f"_{part}"
            n_cmd = sum(r.outcome == "command" for r in sel)
            fig[f"{b}_unrelated_to_command_count{tag}"] = n_cmd
            fig[f"{b}_unrelated_to_command_rate{tag}"] = n_cmd / len(sel)
            fig[f"{b}_unrelated_n{tag}"] = len(sel)
        false = [r.outcome == "stop" or detector_fired.get(r.u.path, False) for r in unrel]
        fig[f"{b}_false_stops_per_100_unrelated"] = 100.0 * float(np.mean(false))
        fig[f"{b}_false_stops_per_100_unrelated_transcript"] = 100.0 * float(
            np.mean([r.outcome == "stop" for r in unrel]))
        plain = [r.outcome == "stop" for r in unrel if not STOPISH.search(r.u.text)]
        if plain:
            fig[f"{b}_false_stops_per_100_unrelated_transcript_not_stopish"] = 100.0 * float(
                np.mean(plain))
        fig[f"{b}_unrelated_commands"] = sorted({f"{r.u.text!r} -> {r.text!r}" for r in unrel
                                                 if r.outcome == "command"})
    if rows:
        ms = np.array([r.seconds * 1e3 for r in rows])
        fig[f"{b}_decode_p50_ms"] = float(np.percentile(ms, 50))
        fig[f"{b}_decode_p95_ms"] = float(np.percentile(ms, 95))
        fig[f"{b}_rtf"] = float(sum(r.seconds for r in rows) / sum(r.u.duration_s for r in rows))
    return fig


__all__ = ["Decoded", "MIN_CONFIDENCE", "backend_figures", "decode_backend", "edit_distance",
           "key_part", "make_act", "normalize", "reference_figures", "same_correction",
           "wer"]
