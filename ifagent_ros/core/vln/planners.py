"""The planner registry: every navigation planner by name, built from one set of options.

``ifagent eval r2r``, ``ifagent eval houses`` and ``vln_planner_node`` (through the supervisor)
all build their planner here, so a name means the same planner everywhere::

    planner = make_planner("random", seed=3)
    planner = make_planner("llm", llm_url="http://localhost:8000/v1", llm_model="qwen")

A new planner is one module with a class implementing
:class:`~ifagent_ros.core.vln.types.Planner` plus one line in :data:`PLANNERS`. The class is
imported only when it is built (the rule planner loads its lexicon, the LLM one transformers).
It is built with ``Class.from_options(options)`` when it has that classmethod, else ``Class()``.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any

from ifagent_ros.core.vln.types import Planner

__all__ = ["PLANNERS", "PlannerEntry", "PlannerOptions", "make_planner", "planner_names"]


@dataclass(frozen=True)
class PlannerOptions:
    """Everything a planner may be built from; each planner reads the fields it needs."""

    seed: int = 0  # random choices (random walk), per episode
    max_moves: int | None = None  # moves before the planner stops by itself; None: its default
    llm_url: str = ""  # OpenAI-compatible endpoint (with llm_model) ...
    llm_model: str = ""
    llm_path: str = ""  # ... or a local transformers causal LM folder
    llm_api_key: str | None = None  # None: $IFAGENT_LLM_API_KEY or $OPENAI_API_KEY


@dataclass(frozen=True)
class PlannerEntry:
    target: str  # "package.module:Class"
    help: str
    needs_model: bool = False  # an LLM or other model the caller must point at


PLANNERS: dict[str, PlannerEntry] = {
    "rule": PlannerEntry("ifagent_ros.core.vln.planner:RulePlanner",
                         "rule-based: sub-goals over an online map (default, no model)"),
    "stop": PlannerEntry("ifagent_ros.core.vln.baselines:StopPlanner",
                         "baseline: stop at the start"),
    "random": PlannerEntry("ifagent_ros.core.vln.baselines:RandomWalkPlanner",
                           "baseline: seeded random walk of five moves"),
    "nearest-object": PlannerEntry("ifagent_ros.core.vln.baselines:NearestObjectPlanner",
                                   "baseline: breadth-first to the last-mentioned landmark"),
    "llm": PlannerEntry("ifagent_ros.core.vln.llm:LLMPlanner",
                        "an LLM choosing each move (llm_url + llm_model, or llm_path)",
                        needs_model=True),
}


def planner_names(*, with_models: bool = True) -> tuple[str, ...]:
    """The registered names in registry order; ``with_models=False`` leaves out those that need
    a model (what ``--planner all`` runs)."""
    return tuple(n for n, e in PLANNERS.items() if with_models or not e.needs_model)


def make_planner(name: str = "rule", **options: Any) -> Planner:
    """The planner registered as ``name``, built from :class:`PlannerOptions` ``options``.

    ValueError for an unknown name or option (naming the known ones) and for options the
    planner cannot use (an LLM planner with no backend)."""
    entry = PLANNERS.get(name)
    if entry is None:
        raise ValueError(f"unknown planner {name!r}: use one of {', '.join(PLANNERS)}")
    fields = {f.name for f in dataclasses.fields(PlannerOptions)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ValueError(f"unknown planner option(s) {', '.join(unknown)}: use "
                         f"{', '.join(sorted(fields))}")
    opts = PlannerOptions(**options)
    module, _, attr = entry.target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    from_options = getattr(cls, "from_options", None)
    return from_options(opts) if from_options is not None else cls()
