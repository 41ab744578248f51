"""`ifagent campaign <verb>`: test campaigns.

    ifagent campaign run SCENARIO [--workers N] [--ray auto|local|ADDRESS] [--out runs/NAME]
                                  [--episodes K] [--conditions a,b] [--real PARAMS] [--json]
    ifagent campaign report RUN_DIR ...      report.html + summary.json of a run folder
    ifagent campaign compare RUN_A RUN_B ... two runs side by side
    ifagent campaign gap SIM_RUN REAL_RUN .. the sim-to-real gap

``run`` exits 0 when the campaign ran (failed episodes are results, not errors), 2 on bad input
(scenario, --out, Ray unreachable, real-robot params), 4 when the disk filled up, 130 when
interrupted; a rerun of the same command resumes. report/compare/gap live in
``cli_campaign_report.py``, imported only when chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ifagent_ros.cli_verbs import Verb, add_verbs, run_verb

VERBS: tuple[Verb, ...] = (
    Verb("run", "ifagent_ros.cli_campaign", "add_run_arguments", "run_run",
                 "run (or resume) a scenario: local workers, Ray, or a real robot (--real)"),
    Verb("report", "ifagent_ros.cli_campaign_report", "add_report_arguments",
                 "run_report", "report of a run folder (report.html, summary.json)"),
    Verb("compare", "ifagent_ros.cli_campaign_report", "add_compare_arguments",
                 "run_compare", "compare two run folders"),
    Verb("gap", "ifagent_ros.cli_campaign_report", "add_gap_arguments", "run_gap",
                 "sim-to-real gap between a simulated and a real-robot run"),
)


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    add_verbs(parser, VERBS, command="campaign", metavar="VERB", argv=argv)


def run(args: argparse.Namespace) -> int:
    return run_verb(args)


# ---- campaign run -----------------------------------------------------------------------------

def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _conditions(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give condition names separated by commas, e.g. a,b")
    return names


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", metavar="SCENARIO", help="scenario file (sim/scenarios/*.yaml)")
    parser.add_argument("--workers", type=_positive_int, default=None,
                        help="episodes at once (local workers, default 1; with --ray: at most "
                             "this many Ray tasks at once, default the cluster's CPUs)")
    parser.add_argument("--ray", metavar="auto|local|ADDRESS", default=None,
                        help="run each episode as a Ray task: 'local' starts a private Ray on "
                             "this machine, 'auto' joins the running cluster, or its address "
                             "(HOST:PORT). Multi-machine: --out must be on a shared filesystem")
    parser.add_argument("--out", default=None,
                        help="run folder (default runs/<scenario name>); rerun into it to resume")
    parser.add_argument("--episodes", type=_positive_int, default=None, metavar="K",
                        help="only the first K episodes of each condition")
    parser.add_argument("--conditions", type=_conditions, default=None, metavar="A,B",
                        help="only these conditions")
    parser.add_argument("--real", default=None, metavar="PARAMS",
                        help="real-robot mode: run the episodes on this params file's graph "
                             "(e.g. config/franka.yaml), one at a time, with operator prompts")
    parser.add_argument("--min-free-mb", type=float, default=200.0,
                        help="stop launching episodes below this much free disk (default 200)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures last (stdout)")


def run_run(args: argparse.Namespace) -> int:
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
