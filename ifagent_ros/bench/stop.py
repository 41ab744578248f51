"""Stop-word benchmark: recall, false stops, latency and cost of the always-on stop detector.

Every (voice, speed, noise) stream of :mod:`.stop_corpus` is pushed through the detector in
100 ms chunks, as speech_node does. A positive counts as heard when an event falls between its
start and the next sentence; its latency is (event sample - end of the stop phrase) / 16 kHz
plus the processing time of the push that returned it. A negative with any event is a false stop.
Push-to-talk does not enter: the detector hears the same audio whether the button is held or not,
so ``stop_recall_ptt`` equals ``stop_recall_no_ptt`` by construction (PTT only adds the slower
second path: the released utterance's transcript goes through ``is_stop``).

``tune()`` chooses the per-phrase thresholds on the tuning voices only, from one run with the
thresholds off that logs every detection pocketsphinx reports and when (post-hoc thresholding):
for each false-stop budget, greedily lower the threshold that adds the most heard stops per added
false stop (``python -m ifagent_ros.bench.stop --tune``).
The comparison method ``vad_grammar`` is silero-vad (100 ms closing silence) + the pocketsphinx
correction-grammar decode of each segment + ``is_stop`` on the text.

``python -m ifagent_ros.bench.stop --json`` prints a table, then one JSON object (last line).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ifagent_ros.bench.stop_corpus import HELDOUT, NOISES, TUNING, Stream, build_streams
from ifagent_ros.core.speech.audio import SAMPLE_RATE
from ifagent_ros.core.speech.stop_detector import StopDetector, StopDetectorConfig

CHUNK = SAMPLE_RATE // 10  # 100 ms, as audio_capture_node publishes
BUDGET_MS = 250.0  # end of the stop word -> event
Detection = tuple[int, float, float]  # (event sample, ms of the push that returned it, score)


def run_stream(
    detector: Any,
    audio: np.ndarray,
    chunk: int = CHUNK,
    pace: bool = False,
    log: list[tuple[int, str, int, int, float]] | None = None,
) -> tuple[list[Detection], list[float]]:
    """Push ``audio`` in chunks; (detections, per-chunk ms). ``pace``: at real time, and the
    delay counts from when the chunk would have arrived. ``log``: collect every candidate."""
    detector.reset()
    found, times = [], []
    t_start = time.perf_counter()
    for i in range(0, audio.shape[0], chunk):
        part = audio[i : i + chunk]
        arrival = t_start + (i + part.shape[0]) / SAMPLE_RATE
        if pace:
            time.sleep(max(0.0, arrival - time.perf_counter()))
        t0 = time.perf_counter()
        events = detector.push(part)
        t1 = time.perf_counter()
        times.append((t1 - t0) * 1000)
        delay = (t1 - arrival) * 1000 if pace else times[-1]
        found += [(e.sample, delay, float(e.score)) for e in events]
        if log is not None:
            done = i + part.shape[0]
            log += [(done, *c) for c in detector.candidates()]
    return found, times


def score_stream(stream: Stream, found: Sequence[Detection]) -> list[dict[str, Any]]:
    """One row per sentence: fired?, latency (positives)."""
    items = stream.items
    rows = []
    for k, item in enumerate(items):
        nxt = items[k + 1].start if k + 1 < len(items) else stream.audio.shape[0] + 1
        mine = [(s, d) for s, d, _ in found if item.start <= s < nxt]
        row = {"kind": item.kind, "text": item.text, "fired": bool(mine), "split": stream.split,
               "noise": stream.noise, "voice": stream.voice, "speed": stream.speed}
        if item.kind == "stop" and mine:
            s, d = mine[0]
            row["latency_ms"] = (s - item.word_end) * 1000 / SAMPLE_RATE + d
        rows.append(row)
    return rows


def figures(rows: Sequence[dict[str, Any]], prefix: str = "") -> dict[str, float]:
    """Flat figures of scored rows."""
    out: dict[str, float] = {}
    pos = [r for r in rows if r["kind"] == "stop"]
    if pos:
        out[f"{prefix}stop_recall"] = float(np.mean([r["fired"] for r in pos]))
    for split in ("tuning", "heldout"):
        pos = [r for r in rows if r["kind"] == "stop" and r["split"] == split]
        if pos:
            out[f"{prefix}stop_recall_{split}"] = float(np.mean([r["fired"] for r in pos]))
            ok = [r["fired"] and r["latency_ms"] <= BUDGET_MS for r in pos]
            out[f"{prefix}stop_within_250ms_{split}"] = float(np.mean(ok))
    for kind, key in (("unrelated", "false_stops_per_100_unrelated"),
                      ("correction", "false_stops_per_100_corrections")):
        for split in ("tuning", "heldout"):
            neg = [r["fired"] for r in rows if r["kind"] == kind and r["split"] == split]
            if neg:
                out[f"{prefix}{key}_{split}"] = 100.0 * float(np.mean(neg))
        neg = [r["fired"] for r in rows if r["kind"] == kind]
        if neg:
            out[f"{prefix}{key}"] = 100.0 * float(np.mean(neg))
            out[f"{prefix}n_{kind}"] = float(len(neg))
    amb = [r["fired"] for r in rows if r["kind"] == "ambiguous"]
    if amb:
        out[f"{prefix}hold_it_fires"] = float(np.mean(amb))
    lat = [r["latency_ms"] for r in rows if "latency_ms" in r]
    if lat:
        for q, name in ((50, "p50"), (95, "p95")):
            out[f"{prefix}detect_latency_{name}_ms"] = float(np.percentile(lat, q))
        out[f"{prefix}detect_latency_max_ms"] = float(np.max(lat))
    out[f"{prefix}n_stop"] = float(sum(r["kind"] == "stop" for r in rows))
    return out


def evaluate(
    streams: Sequence[Stream], make: Callable[[], Any], prefix: str = ""
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Run a detector over the streams: (figures incl. chunk_p99_ms and rtf, rows)."""
    detector = make()
    rows, times, seconds = [], [], 0.0
    for stream in streams:
        found, t = run_stream(detector, stream.audio)
        rows += score_stream(stream, found)
        times += t
        seconds += stream.audio.shape[0] / SAMPLE_RATE
    fig = figures(rows, prefix)
    fig[f"{prefix}chunk_p99_ms"] = float(np.percentile(times, 99))
    fig[f"{prefix}rtf"] = float(np.sum(times) / 1000 / seconds)
    return fig, rows


# -- tuning --------------------------------------------------------------------------------------
def candidate_logs(streams: Sequence[Stream], config: StopDetectorConfig) -> list[list[tuple]]:
    """Per stream, every (chunk end sample, phrase, start, end, score) pocketsphinx reported
    with the thresholds off (nothing fires, so nothing restarts but the periodic restart)."""
    off = replace(config, thresholds={p: float("inf") for p in config.thresholds})
    detector = StopDetector(off)
    logs = []
    for stream in streams:
        log: list[tuple[int, str, int, int, float]] = []
        run_stream(detector, stream.audio, log=log)
        logs.append(log)
    return logs


def score_matrix(
    streams: Sequence[Stream], logs: Sequence[Sequence[tuple]], phrases: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    """(sentences x phrases) best score each phrase reached on each sentence, and the kinds.
    A positive only counts detections reported within the budget less 50 ms of processing."""
    rows, kinds = [], []
    for stream, log in zip(streams, logs, strict=True):
        first: dict[tuple, int] = {}
        for done, *key in log:
            first.setdefault(tuple(key), done)
        for k, item in enumerate(stream.items):
            nxt = stream.items[k + 1].start if k + 1 < len(stream.items) else 2**62
            row = np.full(len(phrases), -np.inf)
            for (phrase, _start, end, score), done in first.items():
                late = item.kind == "stop" and done > item.word_end + 0.2 * SAMPLE_RATE
                if item.start <= end < nxt and not late and phrase in phrases:
                    j = phrases.index(phrase)
                    row[j] = max(row[j], score)
            rows.append(row)
            kinds.append(item.kind)
    return np.array(rows), kinds


def sweep(
    matrix: np.ndarray, kinds: Sequence[str], budgets: Sequence[float] = (1.0, 2.0, 5.0, 10.0, 20.0)
) -> dict[float, tuple[np.ndarray, float, float]]:
    """Greedy thresholds per false-stop budget (per 100 negatives: corrections + unrelated):
    from all off, repeatedly lower the one phrase threshold that adds the most heard stops per
    added false stop. {budget: (thresholds, recall, false stops per 100 negatives)}."""
    kind = np.array(kinds)
    pos, neg = kind == "stop", np.isin(kind, ("unrelated", "correction"))
    levels = [np.unique(matrix[pos, j][np.isfinite(matrix[pos, j])])[::-1]
              for j in range(matrix.shape[1])]
    t, out = np.full(matrix.shape[1], np.inf), {}
    while True:
        fired = (matrix >= t).any(axis=1)
        best = None
        for j, values in enumerate(levels):
            for v in values[values < t[j]][:40]:
                trial = t.copy()
                trial[j] = v
                f = (matrix >= trial).any(axis=1)
                gained = int(f[pos].sum() - fired[pos].sum())
                if gained > 0:
                    ratio = gained / (f[neg].sum() - fired[neg].sum() + 0.5)
                    if best is None or ratio > best[0]:
                        best = (ratio, trial)
        if best is None:
            break
        f = (matrix >= best[1]).any(axis=1)
        false = 100.0 * float(f[neg].mean())
        if false > max(budgets):
            break
        t = best[1]
        for b in budgets:
            if false <= b:
                out[b] = (t.copy(), float(f[pos].mean()), false)
    return out


def tune(
    streams: Sequence[Stream], config: StopDetectorConfig | None = None
) -> dict[float, tuple[dict[str, float], float, float]]:
    """Thresholds per false-stop budget, from the tuning streams only (held-out ones dropped)."""
    config = config or StopDetectorConfig()
    streams = [s for s in streams if s.split == "tuning"]
    phrases = list(config.thresholds)
    matrix, kinds = score_matrix(streams, candidate_logs(streams, config), phrases)
    return {b: (dict(zip(phrases, t.tolist(), strict=True)), rec, false)
            for b, (t, rec, false) in sweep(matrix, kinds).items()}


# -- the comparison method -----------------------------------------------------------------------
class VadGrammarStop:
    """silero-vad segments (closed by ``min_silence_ms``) decoded with the pocketsphinx
    correction grammar; a segment whose text holds a stop word fires (what the utterance path
    does, made always-on). Same ``push``/``reset`` as :class:`StopDetector`."""

    def __init__(self, min_silence_ms: int = 100) -> None:
        from ifagent_ros.core.language.stop_words import is_stop
        from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer
        from ifagent_ros.core.speech.vad import VadConfig, VoiceActivityDetector

        self._vad = VoiceActivityDetector(VadConfig(min_silence_ms=min_silence_ms))
        self._asr = make_recognizer(AsrConfig(backend="pocketsphinx"))
        self._is_stop = is_stop
        self.reset()

    def reset(self) -> None:
        self._vad.reset()
        self._audio: list[np.ndarray] = []
        self._pushed = 0

    def candidates(self) -> list[tuple[str, int, int, float]]:
        return []

    def push(self, chunk: np.ndarray) -> list[Any]:
        from ifagent_ros.core.speech.stop_detector import StopEvent

        self._audio.append(chunk)
        self._pushed += chunk.shape[0]
        events = []
        for seg in self._vad.push(chunk):
            stream = np.concatenate(self._audio)
            offset = self._pushed - stream.shape[0]
            audio = stream[max(seg.start - offset, 0) : seg.end - offset]
            text = self._asr.transcribe(audio, 0.0, 0.0).text
            if self._is_stop(text):
                events.append(StopEvent(text, self._pushed, 0.0, seg.start, seg.end))
        keep = sum(a.shape[0] for a in self._audio) - 30 * SAMPLE_RATE  # keep the last 30 s
        while keep > 0 and self._audio and self._audio[0].shape[0] <= keep:
            keep -= self._audio.pop(0).shape[0]
        return events


# -- load ----------------------------------------------------------------------------------------
def loaded_figures(
    stream: Stream, make: Callable[[], Any], busy: int | None = None, prefix: str = "loaded_"
) -> dict[str, float]:
    """Push ``stream`` at real time while ``busy`` processes (default: one per core) spin; the
    latency counts from when each chunk would have arrived, so waiting for the CPU is in it."""
    detector = make()
    busy = (os.cpu_count() or 2) if busy is None else busy
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        time.sleep(0.5)
        found, times = run_stream(detector, stream.audio, pace=True)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    fig = figures(score_stream(stream, found), prefix)
    keep = ("stop_recall_tuning", "stop_recall_heldout", "detect_latency_p50_ms",
            "detect_latency_p95_ms", "detect_latency_max_ms")
    out = {k: v for k, v in fig.items() if k.removeprefix(prefix) in keep}
    out[f"{prefix}chunk_p99_ms"] = float(np.percentile(times, 99))
    out[f"{prefix}busy_processes"] = float(busy)
    return out


# -- the benchmark -------------------------------------------------------------------------------
COMPARE_COMBOS = (("en-us", 130), ("en-gb-scotland", 170), ("en-029", 210), ("en-gb-x-rp", 170))


def stop_bench(
    root: str = "runs/stop_corpus",
    *,
    combos: Sequence[tuple[str, int]] = TUNING + HELDOUT,
    noises: Sequence[str] = NOISES,
    config: StopDetectorConfig | None = None,
    loaded: bool = True,
    compare: bool = True,
    compare_combos=COMPARE_COMBOS,
) -> dict[str, float]:
    """Flat figures of the stop detector on the stop corpus (see the module docstring); with
    ``compare``, the same for the VAD + grammar method (``vad_grammar_`` keys) on a subset."""
    config = config or StopDetectorConfig()
    streams = build_streams(tuple(combos), tuple(noises), root=root)
    fig, rows = evaluate(streams, lambda: StopDetector(config))
    fig["stop_recall_no_ptt"] = fig.get("stop_recall", 0.0)  # PTT does not enter: see the doc
    fig["stop_recall_ptt"] = fig["stop_recall_no_ptt"]
    if loaded:
        positives = build_streams((TUNING[1],), ("clean",), neg_share_tuning=0.0, root=root)[0]
        fig.update(loaded_figures(positives, lambda: StopDetector(config), 0, "paced_idle_"))
        fig.update(loaded_figures(positives, lambda: StopDetector(config)))
    if compare:
        subset = [s for s in streams if (s.voice, s.speed) in set(compare_combos)
                  and s.noise in ("clean", "snr10")]
        kws_sub = figures([r for r, s in zip(rows, _row_streams(streams), strict=True)
                           if s in subset], "kws_subset_")
        fig.update(kws_sub)
        alt, _ = evaluate(subset, VadGrammarStop, "vad_grammar_")
        fig.update(alt)
    return fig


def _row_streams(streams: Sequence[Stream]) -> list[Stream]:
    return [s for s in streams for _ in s.items]


def format_table(fig: dict[str, float]) -> str:
    """The figures as an aligned two-column table."""
    width = max(len(k) for k in fig)
    return "\n".join(f"{k:<{width}}  {v:10.3f}" for k, v in fig.items())


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ifagent_ros.bench.stop", description=__doc__)
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    ap.add_argument("--root", default="runs/stop_corpus")
    ap.add_argument("--quick", action="store_true", help="2 tuning + 1 held-out voice, no load")
    ap.add_argument("--no-compare", action="store_true", help="skip the VAD + grammar method")
    ap.add_argument("--no-load", action="store_true", help="skip the loaded-CPU run")
    ap.add_argument("--tune", action="store_true", help="print thresholds tuned on tuning voices")
    args = ap.parse_args(argv)
    combos = (TUNING[0], TUNING[7], HELDOUT[0]) if args.quick else TUNING + HELDOUT
    if args.tune:
        result = tune(build_streams(TUNING, NOISES, root=args.root))
        for budget, (thresholds, recall, false) in result.items():
            print(f"<= {budget:g} false stops/100: recall {recall:.3f}, {false:.2f}/100",
                  json.dumps(thresholds))
        return 0
    fig = stop_bench(args.root, combos=combos, loaded=not (args.quick or args.no_load),
                     compare=not (args.quick or args.no_compare))
    print(format_table(fig))
    if args.json:
        print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
