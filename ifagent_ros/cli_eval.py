"""`ifagent eval <what>`: evaluations that print their figures (and one JSON object with --json).

    ifagent eval grounding          referring-expression grounding accuracy per family
    ifagent eval shared-autonomy    teleop vs. BC vs. LILA vs. LILAC with the simulated user
    ifagent eval r2r                vision-and-language navigation on R2R graphs (NE, SR, SPL, ...)
    ifagent eval houses             the same planners in generated simulated houses

Each target lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``; only
the chosen target's module is imported, so ``ifagent eval grounding`` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple


class EvalTarget(NamedTuple):
    name: str
    module: str
    add: str  # name of the function adding the target's arguments
    run: str  # name of the function running it
    help: str


TARGETS: tuple[EvalTarget, ...] = (
    EvalTarget("grounding", "ifagent_ros.cli_eval_grounding", "add_grounding_arguments",
               "run_grounding", "referring-expression grounding accuracy per family"),
    EvalTarget("shared-autonomy", "ifagent_ros.cli_eval_shared_autonomy", "add_arguments", "run",
               "teleop / BC / LILA / LILAC with the simulated user in headless sim"),
    EvalTarget("r2r", "ifagent_ros.cli_eval_r2r", "add_arguments", "run",
               "vision-and-language navigation on R2R graphs: NE, SR, OSR, SPL, nDTW, TL"),
    EvalTarget("houses", "ifagent_ros.cli_eval_houses", "add_arguments", "run",
               "navigation planners on generated simulated houses: SR, SPL, planning time"),
)


def _chosen_target(argv: list[str]) -> str | None:
    """The word after ``eval`` on the command line (argparse has not run yet)."""
    from ifagent_ros.cli import word_after

    return word_after(argv, "eval")


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """Adds every target; imports (and adds the arguments of) only the one named in ``argv``."""
    sub = parser.add_subparsers(dest="eval", required=True, metavar="WHAT")
    chosen = _chosen_target(list(sys.argv[1:] if argv is None else argv))
    for target in TARGETS:
        target_parser = sub.add_parser(target.name, help=target.help, description=target.help)
        target_parser.set_defaults(_eval_target=target)
        if target.name == chosen:
            module = importlib.import_module(target.module)
            getattr(module, target.add)(target_parser)


def run(args: argparse.Namespace) -> int:
    target: EvalTarget = args._eval_target
    module = importlib.import_module(target.module)
    return int(getattr(module, target.run)(args) or 0)
