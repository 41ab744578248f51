"""`ifagent bench control`: teleop -> executor -> arm command latency over DDS (one process,
and with --processes one process per node)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of streaming per run"
    )
    parser.add_argument("--rate", type=float, default=500.0, help="/joy rate in Hz")
    parser.add_argument(
        "--processes",
        action="store_true",
        help="also run with one process per node (after one process)",
    )
    parser.add_argument("--domain-id", type=int, default=None)
    parser.add_argument(
        "--executor",
        default="events_shared",
        choices=["events_shared", "events", "per_node", "multi"],
        help="how the in-process graph spins (see ifagent_ros.bringup.GraphHandle)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def run(args: argparse.Namespace) -> int:
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
