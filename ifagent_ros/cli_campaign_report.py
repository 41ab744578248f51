"""`ifagent campaign report|compare|gap`: read run folders, print figures (the dispatcher is
``cli_campaign.py``).

    ifagent campaign report RUN_DIR [--html FILE] [--summary FILE] [--json]
    ifagent campaign compare RUN_A RUN_B [--alpha 0.05] [--fail-on-regression] [--json]
    ifagent campaign gap SIM_RUN REAL_RUN [--seed 0] [--resamples 5000] [--json]

Exit codes: 0 done; 1 ``compare --fail-on-regression`` found a regression, or an output file
could not be written; 2 bad input (no such folder, no or unreadable campaign.json, no condition
in common). A corrupt ``episode.json`` is not fatal: it is skipped with a warning naming it.
With ``--json`` the text goes to stderr and ONE JSON object is printed last on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ifagent_ros.core.campaign.run_folder import CampaignError

EXIT_REGRESSION = 1


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures last (stdout); text to stderr")


def _emit(args: argparse.Namespace, text: str, payload: dict[str, Any]) -> None:
    from ifagent_ros.core.campaign.report import json_ready

    print(text, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(json_ready(payload), allow_nan=False))


def _fail(verb: str, exc: CampaignError, args: argparse.Namespace) -> int:
    print(f"ifagent campaign {verb}: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": str(exc), "exit_code": exc.exit_code}))
    return exc.exit_code


def _warn(verb: str, warnings: list[str]) -> None:
    for w in warnings:
        print(f"ifagent campaign {verb}: warning: {w}", file=sys.stderr)


# ---- report -----------------------------------------------------------------------------------

def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder (runs/NAME)")
    parser.add_argument("--html", default=None, metavar="FILE",
                        help="where to write the page (default RUN_DIR/report.html)")
    parser.add_argument("--summary", default=None, metavar="FILE",
                        help="where to write the figures (default RUN_DIR/summary.json)")
    _json_flag(parser)


def run_report(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.report import write_report

    try:
        result = write_report(args.run_dir, args.html, args.summary)
    except CampaignError as exc:
        return _fail("report", exc, args)
    _warn("report", result.warnings)
    s = result.summary
    lines = [f"campaign {s['campaign']}: {s['counts']['finished']} finished, "
             f"{s['counts']['failed']} failed, {s['counts']['invalid']} invalid, "
             f"{s['counts']['pending']} pending"]
    for cond, v in s["success"].items():
        rate = "-" if v["rate"] is None else (
            f"{v['rate']:.0%} [{v['ci95_low']:.0%}, {v['ci95_high']:.0%}]")
        lines.append(f"  {cond}: success {v['successes']}/{v['n']} {rate}")
    lines += [f"wrote {result.html_path}", f"wrote {result.summary_path}"]
    _emit(args, "\n".join(lines), {"html": str(result.html_path),
                                   "summary_file": str(result.summary_path), **s})
    return 0


# ---- compare ----------------------------------------------------------------------------------

def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be in (0, 1), e.g. 0.05")
    return value


def add_compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="the reference run folder")
    parser.add_argument("run_b", metavar="RUN_B", help="the run folder to check against it")
    parser.add_argument("--alpha", type=_alpha, default=0.05,
                        help="significance level of the flags (default 0.05)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help=f"exit {EXIT_REGRESSION} when a metric of B is significantly worse")
    _json_flag(parser)


def run_compare(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.compare import compare, format_compare
    from ifagent_ros.core.campaign.report import load_run

    try:
        result = compare(load_run(args.run_a), load_run(args.run_b), alpha=args.alpha)
    except CampaignError as exc:
        return _fail("compare", exc, args)
    _emit(args, format_compare(result), result)
    return EXIT_REGRESSION if args.fail_on_regression and result["has_regression"] else 0


# ---- gap --------------------------------------------------------------------------------------

def _resamples(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 100:
        raise argparse.ArgumentTypeError(f"{value}: use at least 100 resamples")
    return value


def add_gap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sim_run", metavar="SIM_RUN", help="the simulated run folder")
    parser.add_argument("real_run", metavar="REAL_RUN", help="the real-robot run folder")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--resamples", type=_resamples, default=5000,
                        help="bootstrap resamples (default 5000)")
    _json_flag(parser)


def run_gap(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.compare import format_gap, gap
    from ifagent_ros.core.campaign.report import load_run

    try:
        result = gap(load_run(args.sim_run), load_run(args.real_run), seed=args.seed,
                     n_boot=args.resamples)
    except CampaignError as exc:
        return _fail("gap", exc, args)
    _emit(args, format_gap(result), result)
    return 0
