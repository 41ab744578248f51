"""`ifagent bench language`: the correction parser and spoken corrections.

Parser half: the rule parser vs LILAC's nearest-sentence baseline on the held-out half of
``core/language/data/corrections.yaml``, per field group, and the parser's latency (see
:mod:`ifagent_ros.core.language.evaluate`). Speech half (:func:`speech_bench`): the espeak-ng
corpus of :mod:`ifagent_ros.core.speech.corpus` through each recogniser backend, the refusal
and the always-on stop detector (see :mod:`ifagent_ros.bench.asr` for every figure).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ifagent_ros.core.language.evaluate import GROUPS, evaluate_parser
from ifagent_ros.core.speech.corpus import (
    CONDITIONS,
    DEFAULT_ROOT,
    HELDOUT_VOICES,
    VOICES,
    build_corpus,
    composition,
)


def parser_bench(split: str = "test", baseline: bool = True) -> dict[str, Any]:
    """Flat figures (accuracies in [0, 1], latencies in ms); ``parser_errors`` lists misparses."""
    return evaluate_parser(split, baseline=baseline)  # type: ignore[arg-type]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100.0 * value:5.1f} %"


def format_parser_table(fig: dict[str, Any]) -> str:
    """A plain-text table of ``parser_bench`` figures."""
    n = fig.get("n_test", fig.get("n_dev", "?"))
    lines = [f"Correction parser, held-out utterances: {n}",
             f"{'field group':<14} {'rule parser':>12} {'NN baseline':>12}"]
    for g in GROUPS:
        lines.append(f"{g:<14} {_pct(fig.get(f'parser_accuracy_{g}')):>12} "
                     f"{_pct(fig.get(f'baseline_accuracy_{g}')):>12}")
    p50, p99 = fig.get("parse_p50_ms"), fig.get("parse_p99_ms")
    if p50 is not None and p99 is not None:
        lines.append(f"parse latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    for err in fig.get("parser_errors", [])[:10]:
        lines.append(f"  misparsed: {err['text']!r} (wrong: {', '.join(err['wrong'])})")
    return "\n".join(lines)




# -- speech half ---------------------------------------------------------------------------------
BACKENDS = ("whisper", "pocketsphinx")


def speech_bench(backends: tuple[str, ...] = BACKENDS, *, corpus_dir: str | Path = DEFAULT_ROOT,
                 full: bool = False, limit: int | None = None, latency_n: int = 20,
                 whisper_model: str = "base", device: str = "auto", threads: int = 2,
                 detector: bool = True, details: str | Path | None = None,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    """The speech figures (see :mod:`ifagent_ros.bench.asr`): build or reuse the corpus, stream
    it through the stop detector once, then decode it with every backend. ``details``: a JSONL
    file to write one line per utterance and backend (labels, transcript, outcome)."""
    from ifagent_ros.bench.asr import (
        backend_figures,
        decode_backend,
        make_act,
        reference_figures,
    )
    from ifagent_ros.bench.asr_stream import release_latency, stream_detector
    from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer

    root = Path(corpus_dir)
    t0 = time.perf_counter()
    utterances = build_corpus(root, full=full, limit=limit)
    fig: dict[str, Any] = {**composition(utterances),
                           "corpus_render_s": time.perf_counter() - t0}
    log(f"  corpus: {len(utterances)} utterances in {root} ({fig['corpus_render_s']:.1f} s)")
    fired: dict[str, bool] = {}
    if detector:
        try:
            fired, stream = stream_detector(utterances, root)
            fig.update(stream)
        except ImportError as exc:
            log(f"  stop detector unavailable ({exc}): no figures without push-to-talk")
    act = make_act()
    fig.update(reference_figures(utterances, act))
    commands = [u for u in utterances if u.kind == "command"]
    for b in backends:
        cfg = AsrConfig(backend=b, model=whisper_model, device=device, threads=threads)
        t0 = time.perf_counter()
        try:
            recognizer = make_recognizer(cfg)
        except (ImportError, RuntimeError, ValueError, OSError) as exc:  # weights, runtime
            log(f"  {b}: cannot load ({exc}); no figures for it")
            fig[f"{b}_available"] = False
            continue
        fig[f"{b}_available"] = True
        fig[f"{b}_load_s"] = time.perf_counter() - t0
        log(f"  {b}: decoding {len(utterances)} utterances ...")

        def progress(done: int, total: int, b: str = b) -> None:
            if done % 50 == 0 or done == total:
                log(f"    {b}: {done}/{total}")

        rows = decode_backend(recognizer, utterances, root, act, progress)
        fig.update(backend_figures(b, rows, fired))
        if details is not None:
            _write_details(Path(details), b, rows, fired, append=b != backends[0])
        if latency_n > 0 and commands:
            log(f"  {b}: release -> correction on {min(latency_n, len(commands))} commands, "
                "fed at real-time pace ...")
            fig.update(release_latency(b, recognizer, commands[:latency_n], root, act))
    return fig


def _write_details(path: Path, backend: str, rows: list[Any], fired: dict[str, bool],
                   append: bool) -> None:
    from ifagent_ros.core.speech.corpus import utterance_dict

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w") as out:
        for r in rows:
            out.write(json.dumps({**utterance_dict(r.u), "backend": backend, "heard": r.text,
                                  "outcome": r.outcome, "exact": r.exact,
                                  "decode_ms": round(r.seconds * 1e3, 1),
                                  "detector_fired": fired.get(r.u.path)}) + "\n")


def _fmt(value: Any, unit: str = "%") -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{100.0 * value:5.1f} %"
    return f"{value:7.1f}{unit}"


def format_speech_table(fig: dict[str, Any], backends: tuple[str, ...] = BACKENDS) -> str:
    """Plain-text tables of :func:`speech_bench` figures."""
    from ifagent_ros.bench.asr import key_part

    lines = [f"Spoken corpus: {fig.get('n_utterances', 0)} utterances "
             f"({fig.get('n_kind_command', 0)} commands, {fig.get('n_kind_stop', 0)} stops, "
             f"{fig.get('n_kind_unrelated', 0)} unrelated; "
             f"{fig.get('n_split_heldout', 0)} held out, {fig.get('n_split_tuning', 0)} tuning)"]
    if "reference_correction_accuracy" in fig:
        lines.append(f"reference texts (a perfect recogniser): exact corrections "
                     f"{_fmt(fig['reference_correction_accuracy'])}, unrelated -> command "
                     f"{fig['reference_unrelated_to_command_count']}, stops "
                     f"{_fmt(fig['reference_stop_recall'])}")
    conds = (*CONDITIONS, "all")
    for b in backends:
        if f"{b}_rtf" not in fig:
            continue
        lines += ["", f"{b}: exact corrections (n) by split / voice (* held out) x condition",
                  f"{'split / voice':<18}" + "".join(f"{c:>16}" for c in conds)]
        for split in ("heldout", "tuning"):
            cells = []
            for c in conds:
                tag = split if c == "all" else f"{split}_{c}"
                acc, n = fig.get(f"{b}_correction_accuracy_{tag}"), fig.get(f"{b}_commands_{tag}_n")
                cells.append(f"{_fmt(acc)} ({n or 0:>3})" if acc is not None else "n/a")
            lines.append(f"{split:<18}" + "".join(f"{c:>16}" for c in cells))
        for voice in VOICES:
            tag = key_part(voice)
            if f"{b}_correction_accuracy_voice_{tag}" not in fig:
                continue
            cells = []
            for c in conds:
                k = tag if c == "all" else f"{tag}_{c}"
                acc = fig.get(f"{b}_correction_accuracy_voice_{k}")
                n = fig.get(f"{b}_commands_voice_{k}_n", 0)
                cells.append(f"{_fmt(acc)} ({n:>3})" if acc is not None else "n/a")
            mark = "*" if voice in HELDOUT_VOICES else ""
            lines.append(f"{voice + mark:<18}" + "".join(f"{c:>16}" for c in cells))
        lines.append(f"WER commands {_fmt(fig.get(f'{b}_wer_commands'))}, unrelated "
                     f"{_fmt(fig.get(f'{b}_wer_unrelated'))}")
        lines.append(f"stop recall with push-to-talk {_fmt(fig.get(f'{b}_stop_recall_ptt'))} "
                     f"(transcript alone {_fmt(fig.get(f'{b}_stop_recall_transcript'))})")
        lines.append(f"unrelated -> command: {fig.get(f'{b}_unrelated_to_command_count', 'n/a')}"
                     f" of {fig.get(f'{b}_unrelated_n', 0)}; false stops per 100 unrelated "
                     f"{fig.get(f'{b}_false_stops_per_100_unrelated', float('nan')):.1f}")
        for text in fig.get(f"{b}_unrelated_commands", [])[:8]:
            lines.append(f"  became a command: {text}")
        lines.append(f"decode p50 {_fmt(fig.get(f'{b}_decode_p50_ms'), ' ms')}, p95 "
                     f"{_fmt(fig.get(f'{b}_decode_p95_ms'), ' ms')}, RTF {fig[f'{b}_rtf']:.3f}")
        if f"{b}_release_to_correction_p50_ms" in fig:
            lines.append(
                f"release -> correction p50 {_fmt(fig[f'{b}_release_to_correction_p50_ms'], ' ms')}"
                f", p95 {_fmt(fig[f'{b}_release_to_correction_p95_ms'], ' ms')} "
                f"(n {fig[f'{b}_release_to_correction_n']}, partial decoding "
                f"{'on' if fig[f'{b}_release_partials'] else 'absent'}, partial reused "
                f"{_fmt(fig.get(f'{b}_release_reused_partial_rate'))}, exact "
                f"{_fmt(fig.get(f'{b}_release_correction_accuracy'))})")
    if "stop_detector_rtf" in fig:
        lines += ["", "always-on stop paths, either firing (no push-to-talk)",
                  f"stop recall {_fmt(fig.get('stop_recall_no_ptt'))} (held out "
                  f"{_fmt(fig.get('stop_recall_no_ptt_heldout'))}); false stops per 100 "
                  f"unrelated {fig.get('false_stops_per_100_unrelated', float('nan')):.1f}, per 100"
                  f" commands {fig.get('false_stops_per_100_commands', float('nan')):.1f}",
                  f"end of stop word -> e-stop p50 {_fmt(fig.get('stop_to_estop_p50_ms'), ' ms')}"
                  f", p95 {_fmt(fig.get('stop_to_estop_p95_ms'), ' ms')}; RTF "
                  f"{fig['stop_detector_rtf']:.3f}"]
        for path in ("keyphrase", "segments"):
            if f"{path}_stop_detector_rtf" not in fig:
                continue
            false = fig.get(f"{path}_false_stops_per_100_unrelated", float("nan"))
            lines.append(
                f"  {path:<10} alone: recall {_fmt(fig.get(f'{path}_stop_recall_no_ptt'))} (held "
                f"out {_fmt(fig.get(f'{path}_stop_recall_no_ptt_heldout'))}), false stops per "
                f"100 unrelated {false:.1f}"
                f", e-stop p50 {_fmt(fig.get(f'{path}_stop_to_estop_p50_ms'), ' ms')}, p95 "
                f"{_fmt(fig.get(f'{path}_stop_to_estop_p95_ms'), ' ms')}, RTF "
                f"{fig[f'{path}_stop_detector_rtf']:.3f}")
        for text in fig.get("stops_missed_no_ptt", [])[:8]:
            lines.append(f"  missed: {text}")
    return "\n".join(lines)


__all__ = ["BACKENDS", "format_parser_table", "format_speech_table", "parser_bench",
           "speech_bench"]
