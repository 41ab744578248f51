"""What the campaign verbs share: argument types, ``--json`` and how figures and errors print.

Exit codes of report/compare/gap: 0 done; 1 ``compare --fail-on-regression`` found a
regression, or an output file could not be written; 2 bad input (no such folder, no or
unreadable campaign.json, no condition in common). A corrupt ``episode.json`` is not fatal: it
is skipped with a warning naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ifagent_ros.core.campaign.run_folder import CampaignError


def int_at_least(minimum: int, too_small: str = "{value} must be >= {minimum}"
                 ) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum`` (``too_small`` formats the refusal)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(too_small.format(value=value, minimum=minimum))
        return value

    return parse


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures last (stdout); text to stderr")


def emit(args: argparse.Namespace, text: str, payload: dict[str, Any]) -> None:
    from ifagent_ros.core.campaign.report import json_ready

    print(text, file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(json_ready(payload), allow_nan=False))


def fail(verb: str, exc: CampaignError, args: argparse.Namespace) -> int:
    print(f"ifagent campaign {verb}: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps({"error": str(exc), "exit_code": exc.exit_code}))
    return exc.exit_code


def warn(verb: str, warnings: list[str]) -> None:
    for w in warnings:
        print(f"ifagent campaign {verb}: warning: {w}", file=sys.stderr)
