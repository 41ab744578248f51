"""`ifagent bench language`: the correction parser vs. LILAC's nearest neighbour on the held-out
corpus; with speech, spoken corrections, stops and unrelated speech per recogniser backend."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-asr", action="store_true",
                        help="parser figures only (skip synthesizing and decoding speech)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the MiniLM nearest-neighbour baseline (loads a model)")
    parser.add_argument("--backend", default="whisper,pocketsphinx",
                        help="comma-separated recogniser backends (default: both)")
    parser.add_argument("--asr-full", action="store_true",
                        help="the full corpus: every command and stop in every voice x "
                        "condition (~3000 utterances, slow)")
    parser.add_argument("--limit", type=int, default=None,
                        help="only the first N utterances of the corpus (kinds interleaved)")
    parser.add_argument("--latency-n", type=int, default=20,
                        help="commands fed at real-time pace for release -> correction (0: no)")
    parser.add_argument("--corpus-dir", default="runs/speech_corpus",
                        help="where the rendered corpus is cached")
    parser.add_argument("--whisper-model", default="base", help="base | small | PATH")
    parser.add_argument("--device", default="auto", help="whisper device: auto | cpu | cuda")
    parser.add_argument("--threads", type=int, default=2, help="whisper CPU threads")
    parser.add_argument("--no-stop-detector", action="store_true",
                        help="skip the always-on stop detector figures")
    parser.add_argument("--details", default=None, metavar="JSONL",
                        help="write one line per utterance and backend (labels, transcript, "
                        "outcome) to this file")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.bench.language import format_parser_table, parser_bench

    print("bench language: correction parser on the held-out half of the corpus ...", flush=True)
    parser = parser_bench(baseline=not args.no_baseline)
    print(format_parser_table(parser))
    figures = {k: v for k, v in parser.items() if isinstance(v, int | float | bool)}
    if not args.no_asr:
        from ifagent_ros.bench.language import BACKENDS, format_speech_table, speech_bench

        backends = tuple(b.strip() for b in args.backend.split(",") if b.strip())
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown or not backends:
            raise SystemExit(f"bench language: --backend takes {', '.join(BACKENDS)}, "
                             f"not {args.backend!r}")
        if args.limit is not None and args.limit < 1:
            raise SystemExit("bench language: --limit must be >= 1")
        print(f"bench language: spoken corpus through {', '.join(backends)} ...", flush=True)
        speech = speech_bench(
            backends, corpus_dir=args.corpus_dir, full=args.asr_full, limit=args.limit,
            latency_n=args.latency_n, whisper_model=args.whisper_model, device=args.device,
            threads=args.threads, detector=not args.no_stop_detector, details=args.details,
            log=lambda line: print(line, flush=True))
        print(format_speech_table(speech, backends))
        figures.update({k: v for k, v in speech.items()
                        if v is None or isinstance(v, int | float | bool)})
    if args.json:
        print(json.dumps(figures))
    return 0
