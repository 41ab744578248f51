"""`ifagent campaign run SCENARIO`: run (or resume) a test campaign.

    ifagent campaign run SCENARIO [--workers N] [--ray auto|local|ADDRESS] [--out runs/NAME]
                                  [--episodes K] [--conditions a,b] [--real PARAMS] [--json]

Exits 0 when the campaign ran (failed episodes are results, not errors), 2 on bad input
(scenario, --out, Ray unreachable, real-robot params), 4 when the disk filled up, 130 when
interrupted; a rerun of the same command resumes.
"""

from __future__ import annotations

import argparse
import json
import sys

from ifagent_ros.cli.campaign.common import add_json_flag, int_at_least


def _conditions(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give condition names separated by commas, e.g. a,b")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (scenarios/*.yaml)")
    parser.add_argument("--workers", type=int_at_least(1), default=None,
                        help="episodes at once (local workers, default 1; with --ray: at most "
                             "this many Ray tasks at once, default the cluster's CPUs)")
    parser.add_argument("--ray", metavar="auto|local|ADDRESS", default=None,
                        help="run each episode as a Ray task: 'local' starts a private Ray on "
                             "this machine, 'auto' joins the running cluster, or its address "
                             "(HOST:PORT). Multi-machine: --out must be on a shared filesystem")
    parser.add_argument("--out", default=None,
                        help="run folder (default runs/<scenario name>); rerun into it to resume")
    parser.add_argument("--episodes", type=int_at_least(1), default=None, metavar="K",
                        help="only the first K episodes of each condition")
    parser.add_argument("--conditions", type=_conditions, default=None, metavar="A,B",
                        help="only these conditions")
    parser.add_argument("--real", default=None, metavar="PARAMS",
                        help="real-robot mode: run the episodes on this params file's graph "
                             "(e.g. config/franka.yaml), one at a time, with operator prompts")
    parser.add_argument("--min-free-mb", type=float, default=200.0,
                        help="stop launching episodes below this much free disk (default 200)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.progress import summary_lines
    from ifagent_ros.core.campaign.runner import CampaignError, run_campaign

    try:
        result = run_campaign(
            args.scenario, args.out, workers=args.workers, ray=args.ray,
            episodes=args.episodes, conditions=args.conditions, real=args.real,
            progress=sys.stderr, min_free_mb=args.min_free_mb)
    except CampaignError as exc:
        print(f"ifagent campaign run: {exc}", file=sys.stderr)
        return exc.exit_code
    summary = "\n".join(summary_lines(result))
    print(summary, file=sys.stderr if args.json else sys.stdout)
    if result.message:
        print(result.message, file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json()))
    return result.exit_code
