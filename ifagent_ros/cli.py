"""The `ifagent` command. Each subcommand lives in its own module.

To add one, append a `Subcommand(name, module, help)` to SUBCOMMANDS. The module provides
`add_arguments(parser: argparse.ArgumentParser) -> None` and `run(args: argparse.Namespace) -> int`
(the exit code). A module is imported only when its subcommand is chosen, so keep heavy imports
(torch, pybullet, rclpy) wherever you like: `ifagent --help` never loads them.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import sys
from collections.abc import Sequence
from typing import NamedTuple


class Subcommand(NamedTuple):
    name: str
    module: str  # provides add_arguments(parser) and run(args) -> int
    help: str


SUBCOMMANDS: list[Subcommand] = [
    Subcommand("up", "ifagent_ros.cli_up", "run a node graph from a ROS 2 params file"),
    Subcommand(
        "demo",
        "ifagent_ros.cli_demo",
        "simulated tabletop demo: a scripted gamepad drives the arm onto a block",
    ),
    Subcommand("bench", "ifagent_ros.cli_bench",
               "benchmarks (control: teleop -> arm latency; perception: RGB-D and grounding)"),
    Subcommand("ground", "ifagent_ros.cli_ground",
               "ground a referring expression in an object list (JSON file in, one JSON line out)"),
    Subcommand("parse", "ifagent_ros.cli_parse",
               "parse an operator correction (text in, one Correction JSON line out)"),
    Subcommand("asr", "ifagent_ros.cli_asr",
               "transcribe a 16 kHz mono WAV file (one SpeechText JSON line)"),
    Subcommand("eval", "ifagent_ros.cli_eval",
               "evaluations: grounding, shared-autonomy, r2r, houses"),
    Subcommand("collect", "ifagent_ros.cli_collect",
               "record scripted demonstrations of the tabletop tasks (dataset + MCAP)"),
    Subcommand("train", "ifagent_ros.cli_train",
               "train a shared-autonomy model (lilac, lila, bc) on CPU or CUDA"),
    Subcommand("campaign", "ifagent_ros.cli_campaign",
               "test campaigns: run a scenario (local workers or Ray), report, compare, gap"),
]

LOG_FORMAT = "[ifagent] %(levelname)s %(name)s: %(message)s"


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The first positional argument (the subcommand), skipping top-level options."""
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg == "--log-level":
            skip_next = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in `argv` gets its arguments (imports its module)."""
    parser = argparse.ArgumentParser(
        prog="ifagent",
        description="ifagent_ros: instruction-following robot agent on ROS 2, with or without "
        "a ROS install.",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of the ifagent messages (default: INFO)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen_command(argv)
    for cmd in SUBCOMMANDS:
        sub_parser = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        sub_parser.set_defaults(_module=cmd.module)
        if cmd.name == chosen:
            try:
                module = importlib.import_module(cmd.module)
            except ImportError as exc:
                parser.error(f"cannot load the {cmd.name!r} subcommand ({cmd.module}): {exc}")
            if len(inspect.signature(module.add_arguments).parameters) > 1:
                module.add_arguments(sub_parser, argv)  # dispatchers that import lazily
            else:
                module.add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
