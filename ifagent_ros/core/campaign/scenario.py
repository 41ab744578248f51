"""Scenario files of test campaigns: schema, loader (errors name file, line and key), expansion
into :class:`~ifagent_ros.core.campaign.types.EpisodeSpec` s.

    scenario = load_scenario("scenarios/lilac_tabletop.yaml")
    specs = expand(scenario)            # conditions x episodes, randomization sampled

Paired design: episode ``i`` of every condition shares its ``scene_seed`` (base seed + i), so
the scene, the task, the simulated person and the randomization are the same across
conditions; only the condition (and its own episode ``seed``) differs. What a task kind allows
(conditions, ``task:`` keys, faults, randomization) and what its episodes are come from its
``core/campaign/tasks`` module; house and scene files are read through a
:class:`~ifagent_ros.core.campaign.worlds.WorldFiles`. Format: see ``scenarios/README.md``.
ROS-free.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

import ifagent_ros
from ifagent_ros.core.campaign import randomization as rnd
from ifagent_ros.core.campaign.tasks import get_task
from ifagent_ros.core.campaign.types import EpisodeSpec, FaultSpec, TaskKind
from ifagent_ros.core.campaign.worlds import WorldFiles, default_worlds

__all__ = [
    "PACKAGE_ROOT", "ConditionSpec", "Scenario", "ScenarioError", "ScenarioFault",
    "TaskConfig", "condition_nodes", "expand", "load_scenario", "scenario_sha256",
]

PACKAGE_ROOT = Path(ifagent_ros.__file__).resolve().parents[1]
SEED_STRIDE = 100_000  # condition k's default seeds start at base seed + k * SEED_STRIDE


class ScenarioError(ValueError):
    """A scenario file is wrong; the message names the file, the line and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskConfig(_Strict):
    """The ``task:`` section. Which keys besides ``kind`` apply: the task's ``task_keys``."""

    kind: TaskKind
    families: list[str] = Field(default_factory=list)   # shared_autonomy
    split: Literal["train", "heldout"] = "heldout"       # shared_autonomy phrasings
    houses: list[str] = Field(default_factory=list)      # vln_houses
    scene: str | None = None                              # shared_autonomy / perception
    duration_s: float | None = None                       # perception


class ConditionSpec(_Strict):
    model: str | None = None          # checkpoint (file) or local model folder
    seed: int | None = None           # its own base seed (default: base seed + k * 100000)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)  # node -> {param: value}


class ScenarioFault(FaultSpec):
    conditions: list[str] | None = None  # None: every condition


class Scenario(_Strict):
    name: str
    description: str = ""
    params_file: str
    task: TaskConfig
    conditions: dict[str, ConditionSpec]
    episodes: int
    seed: int = 0
    time_limit_s: float = 60.0
    wall_limit_s: float | None = None
    time_scale: float = 1.0
    record: bool = True
    record_topics: list[str] = Field(default_factory=list)
    randomization: dict[str, rnd.FactorRange] = Field(default_factory=dict)
    faults: list[ScenarioFault] = Field(default_factory=list)
    faults_on_real: bool = False
    # node -> {param: value} for every condition whose graph has the node (a condition's own
    # overrides win); e.g. a smaller camera for a study that only needs snapshots
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # Filled by load_scenario: the file; the absolute paths its names resolved to (keys
    # "params_file", "model:<condition>", "scene", "house:<name>"); the params file's sim_node
    # parameters (the nominal camera of the randomization).
    _source: Path | None = PrivateAttr(default=None)
    _paths: dict[str, str] = PrivateAttr(default_factory=dict)
    _sim_params: dict[str, Any] = PrivateAttr(default_factory=dict)
    _worlds: WorldFiles | None = PrivateAttr(default=None)

    @field_validator("conditions", mode="before")
    @classmethod
    def _empty_condition(cls, v: Any) -> Any:  # `teleop:` with nothing after it means {}
        return {k: ({} if c is None else c) for k, c in v.items()} if isinstance(v, dict) else v

    @property
    def source(self) -> Path | None:
        return self._source

    def resolved(self, key: str) -> str:
        """Absolute path a name of the file resolved to (params_file, model:<cond>, scene,
        house:<name>)."""
        return self._paths[key]

    def model_path(self, condition: str) -> str:
        """The condition's resolved model path, "" when it names none."""
        return self._paths.get(f"model:{condition}", "")

    def scene_path(self) -> str:
        """The tabletop scene of the episodes: the scenario's ``task.scene`` (resolved), else
        the params file's sim_node ``scene``."""
        return self._paths.get("scene") or str(self._sim_params.get("scene",
                                                                    "tabletop_default.yaml"))

    @property
    def worlds(self) -> WorldFiles:
        """What reads its house and scene files (the simulator's unless load_scenario got
        another)."""
        if self._worlds is None:
            self._worlds = default_worlds()
        return self._worlds

    def condition_seed(self, k: int) -> int:
        name = list(self.conditions)[k]
        own = self.conditions[name].seed
        return own if own is not None else self.seed + SEED_STRIDE * k

    def default_wall_limit_s(self, time_scale: float | None = None) -> float:
        ts = self.time_scale if time_scale is None else time_scale
        return max(120.0, 4.0 * self.time_limit_s / ts + 60.0)


def condition_nodes(kind: str, condition: str) -> list[str]:
    """The nodes of an episode's graph for a task kind and condition."""
    return get_task(kind).nodes(condition)


# ---- loading ----------------------------------------------------------------------------------

def load_scenario(path: str | Path, worlds: WorldFiles | None = None) -> Scenario:
    """Read, validate and resolve a scenario file; :class:`ScenarioError` says what is wrong.
    ``worlds``: what reads the house and scene files (default: the simulator's readers)."""
    path = Path(path).expanduser()
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file: {exc.strerror or exc}") \
            from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ScenarioError(f"{where}:{line}: not valid YAML: "
                            f"{getattr(exc, 'problem', None) or exc}") from exc
    from ifagent_ros.core.campaign.scenario_checks import (  # it imports this module's models
        Lines,
        check_scenario,
        duplicate_keys,
        pydantic_message,
        where_name,
    )

    lines = Lines(root)
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}:1: a scenario is a map of keys (name, task, conditions, "
                            f"...), got {type(data).__name__}")
    dups = duplicate_keys(root)
    if dups:
        raise ScenarioError("\n".join(
            f"{where}:{ln}: duplicate key {key!r} in {where_name(p)}"
            for ln, key, p in dups))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(pydantic_message(err, where, lines, Scenario)) from None
    scenario._source = path.resolve()
    scenario._worlds = worlds
    problems = check_scenario(scenario, lines)
    if problems:
        raise ScenarioError("\n".join(f"{where}:{ln}: {msg}" for ln, msg in sorted(problems)))
    return scenario


def scenario_sha256(path: str | Path) -> str:
    """Hex SHA-256 of the scenario file's bytes (a resume must run the same file)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---- expansion --------------------------------------------------------------------------------

def _merge(*layers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for node, params in layer.items():
            out.setdefault(node, {}).update(params)
    return out


def expand(scenario: Scenario, *, campaign_name: str | None = None,
           real: bool = False) -> list[EpisodeSpec]:
    """Every episode of the scenario: conditions in file order, ``episodes`` each.

    ``real``: a real-robot campaign: no randomization (values, links, domain overrides) and no
    faults unless the scenario says ``faults_on_real: true``.
    """
    campaign = campaign_name or scenario.name
    time_scale = 1.0 if real else scenario.time_scale  # a robot runs at the wall clock
    wall = scenario.wall_limit_s or scenario.default_wall_limit_s(time_scale)
    if "params_file" not in scenario._paths:
        raise ScenarioError(f"scenario {scenario.name!r} was not loaded with load_scenario "
                            f"(its paths are not resolved)")
    params_file = scenario.resolved("params_file")
    task_kind = get_task(scenario.task.kind)
    specs: list[EpisodeSpec] = []
    for k, (cond, cspec) in enumerate(scenario.conditions.items()):
        faults = [FaultSpec(**f.model_dump(exclude={"conditions"})) for f in scenario.faults
                  if f.conditions is None or cond in f.conditions]
        if real and not scenario.faults_on_real:
            faults = []
        base = scenario.condition_seed(k)
        nodes = task_kind.nodes(cond)
        common = {n: p for n, p in scenario.overrides.items() if n in nodes}
        for i in range(scenario.episodes):
            scene_seed = scenario.seed + i
            task, task_ov = task_kind.instance(scenario, cond, i, scene_seed, scenario.worlds)
            values: dict[str, float] = {}
            r_ov: dict[str, dict[str, Any]] = {}
            links = {}
            if not real:
                values = rnd.sample(scenario.randomization, scene_seed)
                r_ov, links = rnd.apply(values, scenario.task.kind, scenario._sim_params,
                                        seed=scene_seed)
            specs.append(EpisodeSpec(
                campaign=campaign, episode_id=f"{cond}-{i:04d}", condition=cond, index=i,
                seed=base + i, scene_seed=scene_seed, task=task, params_file=params_file,
                nodes=nodes, overrides=_merge(task_ov, common, r_ov, cspec.overrides),
                randomization=values,
                links=links, faults=faults, time_limit_s=float(scenario.time_limit_s),
                wall_limit_s=float(wall), time_scale=float(time_scale), record=scenario.record,
                record_topics=list(scenario.record_topics), real=real))
    return specs
