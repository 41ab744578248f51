"""`ifagent campaign gap SIM_RUN REAL_RUN [--seed 0] [--resamples 5000] [--json]`: the same
metrics from a simulated and a real-robot run side by side, the gap and its interval."""

from __future__ import annotations

import argparse

from ifagent_ros.cli.campaign.common import add_json_flag, emit, fail, int_at_least
from ifagent_ros.core.campaign.run_folder import CampaignError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sim_run", metavar="SIM_RUN", help="the simulated run folder")
    parser.add_argument("real_run", metavar="REAL_RUN", help="the real-robot run folder")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--resamples", default=5000,
                        type=int_at_least(100, "{value}: use at least {minimum} resamples"),
                        help="bootstrap resamples (default 5000)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.compare import format_gap, gap
    from ifagent_ros.core.campaign.report import load_run

    try:
        result = gap(load_run(args.sim_run), load_run(args.real_run), seed=args.seed,
                     n_boot=args.resamples)
    except CampaignError as exc:
        return fail("gap", exc, args)
    emit(args, format_gap(result), result)
    return 0
