"""ASR benchmark on the synthetic espeak-ng corpus (the ASR half of `ifagent bench language`).

Modes: ``grammar`` (pocketsphinx against the correction grammar, with out-of-grammar rejection:
what speech_node runs), ``grammar_norej`` (the same without rejection: what a bare grammar
decoder would do), ``free`` (pocketsphinx free-form language model). Figures are flat keys with
units in their names, per mode and noise level where that matters.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.speech.asr import AsrConfig, PocketsphinxRecognizer
from ifagent_ros.core.speech.audio import SAMPLE_RATE, read_wav
from ifagent_ros.core.speech.corpus import (
    NOISE_LEVELS,
    SCENE_VOCABULARY,
    Utterance,
    build_corpus,
    has_stop_word,
)  # fmt: skip

MODES: tuple[str, ...] = ("grammar", "grammar_norej", "free")
_NOISE_KEY = {"clean": "clean", "snr20": "snr20", "snr10": "snr10"}


def normalize(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z']+", text.lower())


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


def _decode_all(utterances: Sequence[Utterance], root: Path) -> dict[str, list[dict[str, Any]]]:
    grammar = PocketsphinxRecognizer(AsrConfig(vocabulary=SCENE_VOCABULARY))
    norej = PocketsphinxRecognizer(AsrConfig(vocabulary=SCENE_VOCABULARY, rejection="none",
                                             free_form_on_reject=False))  # fmt: skip
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for u in utterances:
        audio = read_wav(root / u.path).samples
        duration = audio.shape[0] / SAMPLE_RATE
        for mode in MODES:
            t0 = time.perf_counter()
            if mode == "free":
                text, accepted = grammar.decode_free(audio), False
            else:
                st = (grammar if mode == "grammar" else norej).transcribe(audio, 0.0, duration)
                text, accepted = st.text, st.in_grammar
            elapsed = time.perf_counter() - t0
            results[mode].append({"u": u, "text": text, "accepted": accepted,
                                  "seconds": elapsed, "duration": duration})  # fmt: skip
    return results


def _figures(mode: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    fig: dict[str, float] = {}
    commandish = [r for r in rows if r["u"].kind != "chitchat"]
    for noise in (*NOISE_LEVELS, "all"):
        sel = [r for r in commandish if noise == "all" or r["u"].noise == noise]
        if not sel:
            continue
        # a command counts as recognised only when it was accepted (free mode: any text)
        hyps = [r["text"] if (r["accepted"] or mode == "free") else "" for r in sel]
        correct = [normalize(h) == normalize(r["u"].text) for h, r in zip(hyps, sel, strict=True)]
        fig[f"asr_sentence_accuracy_{mode}_{noise}"] = float(np.mean(correct))
        fig[f"asr_wer_{mode}_{noise}"] = wer([r["u"].text for r in sel], hyps)
    if mode == "grammar":  # per voice, all noise levels: shows which accents the model misses
        for voice in sorted({r["u"].voice for r in commandish}):
            sel = [r for r in commandish if r["u"].voice == voice]
            ok = [r["accepted"] and normalize(r["text"]) == normalize(r["u"].text) for r in sel]
            fig[f"asr_sentence_accuracy_grammar_voice_{voice}"] = float(np.mean(ok))
    return fig


def _safety(mode: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Stop recall, false stops, rejection: a transcript "acts" only when accepted."""
    acts = [(r, r["accepted"] or mode == "free") for r in rows]
    stops = [r for r, _ in acts if r["u"].kind == "stop"]
    non_stops = [(r, a) for r, a in acts if r["u"].kind != "stop"]
    chit = [(r, a) for r, a in acts if r["u"].kind == "chitchat"]
    cmds = [(r, a) for r, a in acts if r["u"].kind == "command"]
    suffix = "" if mode == "grammar" else f"_{mode}"
    return {
        f"stop_recall{suffix}": float(np.mean([
            (r["accepted"] or mode == "free") and has_stop_word(r["text"]) for r in stops])),
        f"false_stop_rate{suffix}": float(np.mean([a and has_stop_word(r["text"])
                                                   for r, a in non_stops])),
        f"chitchat_rejected_rate{suffix}": float(np.mean([not a for _, a in chit])),
        f"command_rejected_rate{suffix}": float(np.mean([not a for _, a in cmds])),
    }  # fmt: skip


def asr_bench(
    corpus_dir: str | Path = "runs/asr_corpus",
    *,
    combos: int = 2,
    full: bool = False,
    limit: int | None = None,
) -> dict[str, float]:
    """Build (or reuse) the corpus, decode it in every mode, return flat figures."""
    utterances = build_corpus(corpus_dir, combos=combos, full=full)
    if limit is not None:
        utterances = utterances[:limit]
    results = _decode_all(utterances, Path(corpus_dir))
    fig: dict[str, float] = {"asr_utterances": float(len(utterances))}
    for mode in MODES:
        fig.update(_figures(mode, results[mode]))
        fig.update(_safety(mode, results[mode]))
    rows = results["grammar"]
    ms = np.array([r["seconds"] * 1000 for r in rows])
    accepted_ms = np.array([r["seconds"] * 1000 for r in rows if r["accepted"]] or [np.nan])
    fig["decode_p50_ms"] = float(np.percentile(ms, 50))
    fig["decode_p99_ms"] = float(np.percentile(ms, 99))
    fig["decode_accepted_p50_ms"] = float(np.nanpercentile(accepted_ms, 50))
    fig["decode_accepted_p99_ms"] = float(np.nanpercentile(accepted_ms, 99))
    fig["decode_rtf"] = float(sum(r["seconds"] for r in rows) / sum(r["duration"] for r in rows))
    free_ms = np.array([r["seconds"] * 1000 for r in results["free"]])
    fig["decode_free_p50_ms"] = float(np.percentile(free_ms, 50))
    return fig


def format_asr_table(fig: dict[str, float]) -> str:
    """A plain-text table of the figures (rates as percentages)."""
    lines = [f"ASR benchmark ({int(fig.get('asr_utterances', 0))} utterances, pocketsphinx)"]
    lines.append(f"{'mode':<14}{'noise':<8}{'sentence acc':>14}{'WER':>8}")
    for mode in MODES:
        for noise in (*NOISE_LEVELS, "all"):
            acc = fig.get(f"asr_sentence_accuracy_{mode}_{noise}")
            if acc is not None:
                w = fig[f"asr_wer_{mode}_{noise}"]
                lines.append(f"{mode:<14}{noise:<8}{acc:>13.1%}{w:>8.1%}")
    lines.append("")
    for key in sorted(fig):
        if key.startswith(("stop_", "false_", "chitchat_", "command_rejected")):
            lines.append(f"{key:<36}{fig[key]:>8.1%}")
    for key in sorted(k for k in fig if "_voice_" in k):
        lines.append(f"{key:<50}{fig[key]:>8.1%}")
    for key in sorted(k for k in fig if k.startswith("decode_")):
        unit = "" if key.endswith("rtf") else " ms"
        lines.append(f"{key:<36}{fig[key]:>8.2f}{unit}")
    return "\n".join(lines)


__all__ = ["asr_bench", "edit_distance", "format_asr_table", "normalize", "wer"]
