"""The two stop paths and their union on the stop corpus: what the node runs.

Paths: ``kws_`` is the keyphrase spotter (:class:`~.stop_detector.StopDetector`), ``segment_``
the segment path (:class:`~.stop_segments.SegmentStopSpotter`: silero-vad segments decoded by
Whisper), ``union_`` fires when either fires (two StopListeners in parallel); its latency is the
earlier of the two. Each (voice, speed, noise) stream of :mod:`.stop_corpus` is pushed in 100 ms
chunks through each path (not paced, as ``bench/stop.py`` does): a positive is heard when an
event falls between its start and the next sentence, its latency is (event sample - end of the
stop phrase) / 16 kHz plus the processing time of the push that returned it (for the segment
path: the VAD and the Whisper decode); a negative (correction or unrelated sentence) with any
event is a false stop. Tuning and held-out voices are reported apart; the segment path's
numbers were chosen on tuning voices only (``stop_segments.PROMPT_MEASUREMENT``).

Cost: ``*_rtf`` is CPU time per second of corpus audio (mostly chit-chat); ``*_rtf_silence``
on 60 s without speech (a low noise floor). The loaded run pushes positives-only streams at real
time into two :class:`~.stop_listener.StopListener` threads (as the node does) while two
busy-loop processes spin, latency counting from when each chunk arrived.

``python -m ifagent_ros.bench.stop_union --json`` prints a table, then one JSON object (last).

Measured (2-core dev VM shared with other jobs, CPU int8, default combos: 4 tuning voices at one
speed each + the 3 held-out voices, clean/20 dB/10 dB; 180 + 135 stops, 411 + 465 negatives):

path (keyphrase thresholds)     recall tun | held   false/100 tun | held   latency p50 / p95
keyphrase (RECALL, default)     52 % | 34 %         9.0 | 5.6              47 / 202 ms
keyphrase (PRECISE)             17 % |  6 %         1.0 | 1.3              40 / 358 ms
segment (min_logprob -0.65)     71 % | 62 %         1.5 | 4.9              521 / 1025 ms
union with RECALL keyphrase     88 % | 72 %        10.2 | 9.2              181 / 830 ms
union with PRECISE keyphrase    75 % | 64 %         2.4 | 6.2              465 / 958 ms

Segment path: clean 90 % | 87 %, 10 dB 60 % | 40 %; Whisper decode p50 274 ms, p95 402 ms per
segment; 22 segments decoded per minute of corpus; RTF 0.108 on the corpus, 0.004 on silence
(keyphrase: 0.039 and 0.038). Paced, positives-only streams (en-us 170 + en-us-nyc 190, clean,
30 stops) through two StopListeners: union recall 100 % idle and with both cores busy; union
latency p50 / p95 107 / 705 ms idle, 111 / 818 ms loaded (segment path alone 501 / 1136 ms
idle, 631 / 1239 ms loaded; keyphrase alone 42 / 224 ms, 41 / 232 ms).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ifagent_ros.bench.stop import CHUNK, figures, format_table, run_stream, score_stream
from ifagent_ros.bench.stop_corpus import HELDOUT, NOISES, TUNING, Stream, build_streams
from ifagent_ros.core.speech.audio import SAMPLE_RATE
from ifagent_ros.core.speech.stop_detector import (
    PRECISE_THRESHOLDS,
    RECALL_THRESHOLDS,
    StopDetector,
    StopDetectorConfig,
)
from ifagent_ros.core.speech.stop_segments import SegmentStopConfig, SegmentStopSpotter

# one speed per tuning voice (all 12 tuning combos with --full) and every held-out voice
DEFAULT_COMBOS = (("en-us", 130), ("en-gb-scotland", 170), ("en-029", 210),
                  ("en-gb-x-rp", 170), *HELDOUT)
NEGATIVE_KINDS = ("correction", "unrelated")
SWEEP = (-0.5, -0.6, -0.65, -0.7, -0.8, -1.0)  # log-prob floors reported for the segment path


def union_rows(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the same sentences scored for two paths -> the union's (earlier latency)."""
    out = []
    for ra, rb in zip(a, b, strict=True):
        row = dict(ra, fired=ra["fired"] or rb["fired"])
        lat = [r["latency_ms"] for r in (ra, rb) if "latency_ms" in r]
        row.pop("latency_ms", None)
        if lat:
            row["latency_ms"] = min(lat)
        out.append(row)
    return out


def path_figures(rows: Sequence[dict[str, Any]], prefix: str) -> dict[str, float]:
    """bench/stop.py's figures plus false stops per 100 negatives (corrections + unrelated)."""
    fig = figures(rows, prefix)
    for split in ("tuning", "heldout", None):
        neg = [r["fired"] for r in rows if r["kind"] in NEGATIVE_KINDS
               and (split is None or r["split"] == split)]
        if neg:
            key = f"{prefix}false_stops_per_100" + (f"_{split}" if split else "")
            fig[key] = 100.0 * float(np.mean(neg))
    for split in ("tuning", "heldout"):
        for noise in NOISES:
            pos = [r["fired"] for r in rows if r["kind"] == "stop" and r["split"] == split
                   and r["noise"] == noise]
            if pos:
                fig[f"{prefix}stop_recall_{split}_{noise}"] = float(np.mean(pos))
    return fig


def silence(seconds: float = 60.0, level: float = 30.0, seed: int = 0) -> np.ndarray:
    """``seconds`` of white noise at ``level`` LSB std (a quiet room through a microphone)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0.0, level, int(seconds * SAMPLE_RATE)), -32768, 32767).astype(
        np.int16
    )


def loaded_union(
    streams: Sequence[Stream], kws: Any, seg: Any, busy: int, prefix: str
) -> dict[str, float]:
    """Push ``streams`` at real time into two StopListeners (one per path) while ``busy``
    processes spin; recall and latency (from when each chunk arrived) of each path and the
    union."""
    from ifagent_ros.core.speech.stop_listener import StopListener

    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    rows: dict[str, list[dict[str, Any]]] = {"kws_": [], "segment_": []}
    try:
        time.sleep(0.5 if busy else 0.0)
        for stream in streams:
            heard: dict[str, list[tuple[int, float]]] = {"kws_": [], "segment_": []}
            listeners = {}
            for name, det in (("kws_", kws), ("segment_", seg)):
                det.reset()
                listeners[name] = StopListener(det, lambda h, n=name: heard[n].append(
                    (h.sample, (h.detected_at - h.pushed_at) * 1000.0)))
            t0 = time.perf_counter()
            for i in range(0, stream.audio.shape[0], CHUNK):
                part = stream.audio[i : i + CHUNK]
                time.sleep(max(0.0, t0 + (i + part.shape[0]) / SAMPLE_RATE - time.perf_counter()))
                for listener in listeners.values():
                    listener.push(part)
            time.sleep(2.0)  # let the last decode finish
            for name, listener in listeners.items():
                listener.close()
                rows[name] += score_stream(stream, sorted(heard[name]))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    rows["union_"] = union_rows(rows["kws_"], rows["segment_"])
    out: dict[str, float] = {}
    keep = ("stop_recall", "detect_latency_p50_ms", "detect_latency_p95_ms",
            "detect_latency_max_ms")
    for name, r in rows.items():
        fig = figures(r, "")
        out.update({f"{prefix}{name}{k}": v for k, v in fig.items() if k in keep})
    out[f"{prefix}busy_processes"] = float(busy)
    return out


def union_bench(
    root: str = "runs/stop_corpus",
    *,
    combos: Sequence[tuple[str, int]] = DEFAULT_COMBOS,
    noises: Sequence[str] = NOISES,
    kws_config: StopDetectorConfig | None = None,
    segment_config: SegmentStopConfig | None = None,
    sweep: Sequence[float] = SWEEP,
    loaded: bool = True,
    log: Any = None,
) -> dict[str, float]:
    """Flat figures of the keyphrase path, the segment path and their union (module doc).

    The segment path runs once with its log-prob floor off; its events carry Whisper's mean
    log-prob as ``score``, so the figures at ``segment_config.min_logprob`` and at each
    ``sweep`` floor (``sweep_<floor>_...`` keys, for choosing it on the tuning voices) are the
    events over that floor."""
    segment_config = segment_config or SegmentStopConfig()
    floor = segment_config.min_logprob
    kws = StopDetector(kws_config)
    seg = SegmentStopSpotter(replace(segment_config, min_logprob=-np.inf))
    streams = build_streams(tuple(combos), tuple(noises), root=root)
    rows: dict[str, list[dict[str, Any]]] = {"kws_": [], "segment_": []}
    seg_found: list[list[tuple[int, float, float]]] = []
    times: dict[str, list[float]] = {"kws_": [], "segment_": []}
    decode_ms: list[float] = []
    seconds = decoded = segments = skipped = 0.0
    for k, stream in enumerate(streams):
        found, t = run_stream(kws, stream.audio)
        rows["kws_"] += score_stream(stream, found)
        times["kws_"] += t
        scored, t = run_stream(seg, stream.audio)
        seg_found.append(scored)
        times["segment_"] += t
        decode_ms += [d.seconds * 1000 for d in seg.decodes]
        decoded += seg.decoded
        segments += seg.segments
        skipped += seg.skipped_long
        seconds += stream.audio.shape[0] / SAMPLE_RATE
        if log:
            log(f"{k + 1}/{len(streams)} {stream.voice} {stream.speed} {stream.noise}")

    def seg_rows(min_logprob: float) -> list[dict[str, Any]]:
        out = []
        for stream, scored in zip(streams, seg_found, strict=True):
            out += score_stream(stream, [x for x in scored if x[2] > min_logprob])
        return out

    fig: dict[str, float] = {}
    rows["segment_"] = seg_rows(floor)
    rows["union_"] = union_rows(rows["kws_"], rows["segment_"])
    for name in ("union_", "segment_", "kws_"):
        fig.update(path_figures(rows[name], name))
    fig["segment_min_logprob"] = float(floor)
    keep = ("stop_recall_tuning", "stop_recall_heldout", "false_stops_per_100_tuning",
            "false_stops_per_100_heldout")
    for value in sweep:
        srows = seg_rows(value)
        for name, r in (("segment_", srows), ("union_", union_rows(rows["kws_"], srows))):
            f = path_figures(r, "")
            fig.update({f"sweep_{value:g}_{name}{k}": f[k] for k in keep if k in f})
    for name, t in times.items():
        fig[f"{name}rtf"] = float(np.sum(t) / 1000 / seconds)
        fig[f"{name}chunk_p99_ms"] = float(np.percentile(t, 99))
    fig["union_rtf"] = fig["kws_rtf"] + fig["segment_rtf"]
    if decode_ms:
        fig["segment_decode_p50_ms"] = float(np.percentile(decode_ms, 50))
        fig["segment_decode_p95_ms"] = float(np.percentile(decode_ms, 95))
    fig["segment_decoded_per_minute"] = 60.0 * decoded / seconds
    fig["segment_skipped_long_share"] = skipped / max(segments, 1.0)
    seg = SegmentStopSpotter(segment_config, recognizer=seg.recognizer)
    quiet = silence()
    for name, det in (("kws_", kws), ("segment_", seg)):
        _, t = run_stream(det, quiet)
        fig[f"{name}rtf_silence"] = float(np.sum(t) / 1000 / (quiet.shape[0] / SAMPLE_RATE))
    fig["corpus_seconds"] = seconds
    if loaded:
        positives = build_streams((TUNING[1], HELDOUT[0]), ("clean",), neg_share_tuning=0.0,
                                  neg_share_heldout=0.0, root=root)
        fig.update(loaded_union(positives, kws, seg, 0, "paced_idle_"))
        fig.update(loaded_union(positives, kws, seg, 2, "loaded_"))
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ifagent_ros.bench.stop_union",
                                 description=__doc__)
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    ap.add_argument("--root", default="runs/stop_corpus")
    ap.add_argument("--full", action="store_true", help="all 12 tuning combos (slow)")
    ap.add_argument("--quick", action="store_true", help="2 tuning + 1 held-out, clean and 10 dB")
    ap.add_argument("--noises", default=",".join(NOISES), help="e.g. clean,snr10")
    ap.add_argument(
        "--kws",
        choices=("recall", "precise"),
        default="recall",
        help="the keyphrase thresholds: stop_detector's RECALL_ or PRECISE_THRESHOLDS",
    )
    ap.add_argument("--no-load", action="store_true", help="skip the paced and loaded runs")
    args = ap.parse_args(argv)
    combos = TUNING + HELDOUT if args.full else DEFAULT_COMBOS
    noises = tuple(args.noises.split(","))
    if args.quick:
        combos, noises = (TUNING[0], TUNING[7], HELDOUT[0]), ("clean", "snr10")
    thresholds = PRECISE_THRESHOLDS if args.kws == "precise" else RECALL_THRESHOLDS
    fig = union_bench(args.root, combos=combos, noises=noises, loaded=not args.no_load,
                      kws_config=StopDetectorConfig(thresholds=dict(thresholds)),
                      log=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_table(fig))
    if args.json:
        print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
