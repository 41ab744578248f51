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
from collections.abc import Sequence

from ifagent_ros.cli_verbs import Verb, add_verbs, run_verb

TARGETS: tuple[Verb, ...] = (
    Verb("grounding", "ifagent_ros.cli_eval_grounding", "add_grounding_arguments",
               "run_grounding", "referring-expression grounding accuracy per family"),
    Verb("shared-autonomy", "ifagent_ros.cli_eval_shared_autonomy", "add_arguments", "run",
               "teleop / BC / LILA / LILAC with the simulated user in headless sim"),
    Verb("r2r", "ifagent_ros.cli_eval_r2r", "add_arguments", "run",
               "vision-and-language navigation on R2R graphs: NE, SR, OSR, SPL, nDTW, TL"),
    Verb("houses", "ifagent_ros.cli_eval_houses", "add_arguments", "run",
               "navigation planners on generated simulated houses: SR, SPL, planning time"),
)


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> None:
    """Adds every target; imports (and adds the arguments of) only the one named in ``argv``."""
    add_verbs(parser, TARGETS, command="eval", metavar="WHAT", argv=argv)


def run(args: argparse.Namespace) -> int:
    return run_verb(args)
