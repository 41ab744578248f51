"""The verbs of the `ifagent` command: one table, read lazily.

A verb is a module with ``add_arguments(parser: argparse.ArgumentParser) -> None`` and
``run(args: argparse.Namespace) -> int`` (the exit code) plus one :class:`Verb` line below; a
:class:`Group` gathers verbs under one word (``ifagent eval r2r``). Only the module of the verb
named on the command line is imported, so ``ifagent --help`` and ``ifagent eval grounding`` never
load torch, pybullet or rclpy: put heavy imports wherever you like.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VERBS", "Group", "Verb"]


@dataclass(frozen=True)
class Verb:
    name: str
    module: str  # provides add_arguments(parser) and run(args) -> int
    help: str


@dataclass(frozen=True)
class Group:
    name: str
    help: str
    verbs: tuple[Verb, ...]
    metavar: str = "VERB"


VERBS: tuple[Verb | Group, ...] = (
    Verb("up", "ifagent_ros.cli.up", "run a node graph from a ROS 2 params file"),
    Verb("demo", "ifagent_ros.cli.demo",
         "simulated tabletop demo: a scripted gamepad drives the arm onto a block"),
    Group("bench", "benchmarks (control: teleop -> arm latency; perception: RGB-D and grounding)",
          (Verb("control", "ifagent_ros.cli.bench.control",
                "teleop -> executor -> arm command latency over DDS"),
           Verb("perception", "ifagent_ros.cli.bench.perception",
                "RGB-D perception and grounding against simulator ground truth"),
           Verb("language", "ifagent_ros.cli.bench.language",
                "correction parser vs. LILAC's nearest neighbour; spoken corrections, stops and "
                "unrelated speech per recogniser backend")),
          metavar="WHAT"),
    Verb("ground", "ifagent_ros.cli.ground",
         "ground a referring expression in an object list (JSON file in, one JSON line out)"),
    Verb("parse", "ifagent_ros.cli.parse",
         "parse an operator correction (text in, one Correction JSON line out)"),
    Verb("asr", "ifagent_ros.cli.asr",
         "transcribe a 16 kHz mono WAV file (one SpeechText JSON line)"),
    Group("eval", "evaluations: grounding, shared-autonomy, r2r, houses",
          (Verb("grounding", "ifagent_ros.cli.eval.grounding",
                "referring-expression grounding accuracy per family"),
           Verb("shared-autonomy", "ifagent_ros.cli.eval.shared_autonomy",
                "teleop / BC / LILA / LILAC with the simulated user in headless sim"),
           Verb("r2r", "ifagent_ros.cli.eval.r2r",
                "vision-and-language navigation on R2R graphs: NE, SR, OSR, SPL, nDTW, TL"),
           Verb("houses", "ifagent_ros.cli.eval.houses",
                "navigation planners on generated simulated houses: SR, SPL, planning time")),
          metavar="WHAT"),
    Verb("collect", "ifagent_ros.cli.collect",
         "record scripted demonstrations of the tabletop tasks (dataset + MCAP)"),
    Verb("train", "ifagent_ros.cli.train",
         "train a shared-autonomy model (lilac, lila, bc) on CPU or CUDA"),
    Group("campaign", "test campaigns: run a scenario (local workers or Ray), report, compare, gap",
          (Verb("run", "ifagent_ros.cli.campaign.run",
                "run (or resume) a scenario: local workers, Ray, or a real robot (--real)"),
           Verb("report", "ifagent_ros.cli.campaign.report",
                "report of a run folder (report.html, summary.json)"),
           Verb("compare", "ifagent_ros.cli.campaign.compare", "compare two run folders"),
           Verb("gap", "ifagent_ros.cli.campaign.gap",
                "sim-to-real gap between a simulated and a real-robot run"))),
)
