"""The planner registry: one name -> one planner for the CLI, the houses and the node."""

from __future__ import annotations

import sys
import types

import pytest

from ifagent_ros.core.vln import planners
from ifagent_ros.core.vln.baselines import NearestObjectPlanner, RandomWalkPlanner, StopPlanner
from ifagent_ros.core.vln.planner import RulePlanner
from ifagent_ros.core.vln.planners import PLANNERS, PlannerEntry, make_planner, planner_names
from ifagent_ros.core.vln.types import NavDecision, NavObservation


def test_every_name_builds_its_planner() -> None:
    assert isinstance(make_planner(), RulePlanner)
    assert isinstance(make_planner("stop"), StopPlanner)
    walk = make_planner("random", seed=7)
    assert isinstance(walk, RandomWalkPlanner) and walk.seed == 7
    assert isinstance(make_planner("nearest-object"), NearestObjectPlanner)
    for name in planner_names(with_models=False):
        assert make_planner(name).name == name  # type: ignore[attr-defined]


def test_max_moves_default_is_the_planners_own() -> None:
    assert make_planner("nearest-object").max_moves == 15  # type: ignore[attr-defined]
    assert make_planner("nearest-object", max_moves=4).max_moves == 4  # type: ignore[attr-defined]


def test_names_in_order_and_without_models() -> None:
    assert planner_names() == ("rule", "stop", "random", "nearest-object", "llm")
    assert planner_names(with_models=False) == ("rule", "stop", "random", "nearest-object")


def test_unknown_name_and_option_list_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown planner 'astar'.*rule, stop, random"):
        make_planner("astar")
    with pytest.raises(ValueError, match="unknown planner option.*temperature.*seed"):
        make_planner("rule", temperature=0.5)


def test_llm_needs_a_backend() -> None:
    with pytest.raises(ValueError, match="needs an llm url"):
        make_planner("llm")
    with pytest.raises(ValueError, match="needs an llm model"):
        make_planner("llm", llm_url="http://localhost:9/v1")
    llm = make_planner("llm", llm_url="http://localhost:9/v1", llm_model="m", max_moves=3)
    assert llm.backend.model == "m" and llm.max_moves == 3  # type: ignore[attr-defined]


class _Wall:
    """A planner of a new module: built with from_options, so it sees the options."""

    name = "wall"

    def __init__(self, seed: int) -> None:
        self.seed = seed

    @classmethod
    def from_options(cls, options: planners.PlannerOptions) -> _Wall:
        return cls(options.seed)

    def reset(self, instruction: str, observation: NavObservation) -> None:
        pass

    def act(self, observation: NavObservation) -> NavDecision:
        return NavDecision("stop", reason="wall")


def test_a_new_planner_is_one_module_and_one_registry_line(monkeypatch) -> None:
    module = types.ModuleType("wall_planner")
    module.WallPlanner = _Wall  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wall_planner", module)
    monkeypatch.setitem(PLANNERS, "wall", PlannerEntry("wall_planner:WallPlanner", "a wall"))
    planner = make_planner("wall", seed=5)
    assert isinstance(planner, _Wall) and planner.seed == 5
    assert "wall" in planner_names(with_models=False)
