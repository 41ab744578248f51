"""`ifagent bench <what>`: benchmarks that print their figures (and one JSON object with --json)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", required=True, metavar="WHAT")
    control = sub.add_parser("control", help="teleop -> executor -> arm command latency over DDS")
    control.add_argument(
        "--duration", type=float, default=30.0, help="seconds of streaming per run"
    )
    control.add_argument("--rate", type=float, default=500.0, help="/joy rate in Hz")
    control.add_argument(
        "--processes",
        action="store_true",
        help="also run with one process per node (after one process)",
    )
    control.add_argument("--domain-id", type=int, default=None)
    control.add_argument(
        "--executor",
        default="events_shared",
        choices=["events_shared", "events", "per_node", "multi"],
        help="how the in-process graph spins (see ifagent_ros.bringup.GraphHandle)",
    )
    control.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )
    perception = sub.add_parser(
        "perception", help="RGB-D perception and grounding against simulator ground truth")
    perception.add_argument("--scenes", type=int, default=50, help="random scenes (>= 1)")
    perception.add_argument("--seed", type=int, default=0)
    perception.add_argument("--track-scenes", type=int, default=10,
                            help="scenes in which objects are pushed for the tracking figures")
    perception.add_argument("--track-frames", type=int, default=30, help="frames per push run")
    perception.add_argument("--expressions", type=int, default=600,
                            help="generated referring expressions for grounding accuracy")
    perception.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )
    language = sub.add_parser(
        "language", help="correction parser vs. LILAC's nearest neighbour; spoken corrections, "
        "stops and unrelated speech per recogniser backend")
    language.add_argument("--no-asr", action="store_true",
                          help="parser figures only (skip synthesizing and decoding speech)")
    language.add_argument("--no-baseline", action="store_true",
                          help="skip the MiniLM nearest-neighbour baseline (loads a model)")
    language.add_argument("--backend", default="whisper,pocketsphinx",
                          help="comma-separated recogniser backends (default: both)")
    language.add_argument("--asr-full", action="store_true",
                          help="the full corpus: every command and stop in every voice x "
                          "condition (~3000 utterances, slow)")
    language.add_argument("--limit", type=int, default=None,
                          help="only the first N utterances of the corpus (kinds interleaved)")
    language.add_argument("--latency-n", type=int, default=20,
                          help="commands fed at real-time pace for release -> correction (0: no)")
    language.add_argument("--corpus-dir", default="runs/speech_corpus",
                          help="where the rendered corpus is cached")
    language.add_argument("--whisper-model", default="base", help="base | small | PATH")
    language.add_argument("--device", default="auto", help="whisper device: auto | cpu | cuda")
    language.add_argument("--threads", type=int, default=2, help="whisper CPU threads")
    language.add_argument("--no-stop-detector", action="store_true",
                          help="skip the always-on stop detector figures")
    language.add_argument("--details", default=None, metavar="JSONL",
                          help="write one line per utterance and backend (labels, transcript, "
                          "outcome) to this file")
    language.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def run(args: argparse.Namespace) -> int:
    if args.bench == "control":
        return _control(args)
    if args.bench == "perception":
        return _perception(args)
    if args.bench == "language":
        return _language(args)
    raise SystemExit(f"unknown benchmark {args.bench!r}")


def _control(args: argparse.Namespace) -> int:
    from ifagent_ros.bench.control import format_table, run_control_bench, summarize

    modes = [False, True] if args.processes else [False]
    rows = []
    for processes in modes:
        label = "one process per node" if processes else "one process"
        print(
            f"bench control: {label}, /joy at {args.rate:.0f} Hz for {args.duration:.0f} s ...",
            flush=True,
        )
        result = run_control_bench(
            args.duration,
            args.rate,
            processes=processes,
            domain_id=args.domain_id,
            executor=args.executor,
        )
        rows.append(result.figures())
    print(format_table(rows))
    summary = summarize(rows)
    print(
        f"p99 latency {summary['p99_ms']} ms in one process (goal <= 2 ms: "
        f"{'met' if summary['meets_goal'] else 'NOT met'}); MoveIt Servo's default period is 10 ms"
    )
    if args.json:
        print(json.dumps(summary))
    return 0


def _perception(args: argparse.Namespace) -> int:
    from ifagent_ros.bench.perception import (
        PerceptionBenchConfig,
        format_table,
        run_perception_bench,
    )

    if args.scenes < 1 or args.track_scenes < 0 or args.track_frames < 1:
        raise SystemExit("bench perception: --scenes and --track-frames must be >= 1, "
                         "--track-scenes >= 0")
    cfg = PerceptionBenchConfig(scenes=args.scenes, seed=args.seed,
                                track_scenes=min(args.track_scenes, args.scenes),
                                track_frames=args.track_frames,
                                grounding_expressions=args.expressions)
    print(f"bench perception: {cfg.scenes} random scenes ({cfg.min_objects}-{cfg.max_objects} "
          f"objects), {cfg.track_scenes} x {cfg.track_frames} pushed frames, "
          f"{cfg.grounding_expressions} expressions ...", flush=True)

    def progress(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            print(f"  {done}/{total} scenes", flush=True)

    result = run_perception_bench(cfg, progress)
    figures = result.figures()
    print(format_table(figures))
    if result.confusion_color:
        wrong = {f"{g}->{o}": n for (g, o), n in result.confusion_color.items() if g != o}
        print(f"colour confusions: {wrong or 'none'}")
        wrong = {f"{g}->{o}": n for (g, o), n in result.confusion_shape.items() if g != o}
        print(f"shape confusions: {wrong or 'none'}")
    if args.json:
        print(json.dumps(figures))
    return 0


def _language(args: argparse.Namespace) -> int:
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
