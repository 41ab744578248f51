"""`ifagent campaign compare RUN_A RUN_B [--alpha 0.05] [--fail-on-regression] [--json]`: two run
folders side by side, one significance test per metric."""

from __future__ import annotations

import argparse

from ifagent_ros.cli.campaign.common import add_json_flag, emit, fail
from ifagent_ros.core.campaign.run_folder import CampaignError

EXIT_REGRESSION = 1


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be in (0, 1), e.g. 0.05")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", metavar="RUN_A", help="the reference run folder")
    parser.add_argument("run_b", metavar="RUN_B", help="the run folder to check against it")
    parser.add_argument("--alpha", type=_alpha, default=0.05,
                        help="significance level of the flags (default 0.05)")
    parser.add_argument("--fail-on-regression", action="store_true",
                        help=f"exit {EXIT_REGRESSION} when a metric of B is significantly worse")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.compare import compare, format_compare
    from ifagent_ros.core.campaign.report import load_run

    try:
        result = compare(load_run(args.run_a), load_run(args.run_b), alpha=args.alpha)
    except CampaignError as exc:
        return fail("compare", exc, args)
    emit(args, format_compare(result), result)
    return EXIT_REGRESSION if args.fail_on_regression and result["has_regression"] else 0
