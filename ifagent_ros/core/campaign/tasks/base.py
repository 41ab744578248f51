"""The campaign task protocol: everything the scenario, the episode graph, the episode driver and
the metrics need to know about one kind of task, behind one interface.

A task is one module of this package holding one :class:`CampaignTask` object, listed once in
``tasks/__init__.py``'s :data:`~ifagent_ros.core.campaign.tasks.TASKS`. Nothing outside this
package switches on the task kind. :class:`BaseTask` gives the defaults a task overrides.

The parts, in the order a campaign uses them:

- scenario (``scenario.py`` / ``scenario_checks.py``): :attr:`~CampaignTask.world` (the
  world, so the sim node (``types.SIM_NODES``) its params file must run),
  :attr:`~CampaignTask.conditions` (condition -> what its ``model:`` is),
  :attr:`~CampaignTask.task_keys` (the ``task:`` keys that apply),
  :meth:`~CampaignTask.check` (the rest of the ``task:`` section),
  :meth:`~CampaignTask.check_condition`, :attr:`~CampaignTask.fault_kinds`,
  :attr:`~CampaignTask.fault_triggers`, :attr:`~CampaignTask.factors` and
  :attr:`~CampaignTask.link_topics` (randomization), :meth:`~CampaignTask.nodes` (the graph of a
  condition) and :meth:`~CampaignTask.instance` (episode i's task and node overrides);
- graph (``graph_plan.py``, ``campaign_driver_node.py``): :attr:`~CampaignTask.real_start_topic`,
  :attr:`~CampaignTask.key_topics`, :meth:`~CampaignTask.instruction_topic`,
  :attr:`~CampaignTask.moves` and :attr:`~CampaignTask.inputs` (what the driver listens to);
- driver (``episode_driver.py``): :meth:`~CampaignTask.validate_spec`,
  :meth:`~CampaignTask.instruction_at_start`, :meth:`~CampaignTask.instruction_to_send`,
  :meth:`~CampaignTask.ready`, :meth:`~CampaignTask.start_detail`, :meth:`~CampaignTask.end`
  (the end reason's verdict) and :meth:`~CampaignTask.time_limit_verdict`;
- metrics (``metrics.py``): :attr:`~CampaignTask.required_topics`,
  :attr:`~CampaignTask.core_topic`, :attr:`~CampaignTask.success_needs`,
  :attr:`~CampaignTask.expected_topics`, :meth:`~CampaignTask.metrics` and
  :meth:`~CampaignTask.final_metrics`.

ROS-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ifagent_ros.core.campaign.metrics_bag import Joints, Recording, TaskResult, Timeline
from ifagent_ros.core.campaign.types import EpisodeSpec, TaskSpec

if TYPE_CHECKING:
    from ifagent_ros.core.campaign.scenario import ConditionSpec, Scenario
    from ifagent_ros.core.campaign.worlds import WorldFiles

__all__ = ["FAULT_KINDS_ALL", "BaseTask", "CampaignTask", "CheckContext", "DriverView",
           "ModelNeed", "Overrides", "check_scene"]

# What a condition's `model:` is: None (takes none), "file" (a required checkpoint file), "dir"
# (a required local model folder), "optional-dir".
ModelNeed = Literal["file", "dir", "optional-dir"] | None
Overrides = dict[str, dict[str, Any]]
Bad = Callable[[tuple[Any, ...], str], None]
FAULT_KINDS_ALL = ("kill_node", "freeze_camera", "stale_joint_states", "joy_garbage",
                   "odom_jump")


class DriverView(Protocol):
    """What the episode driver has observed, as a task reads it (``EpisodeDriver``)."""

    spec: EpisodeSpec
    objects_at_start: list[dict[str, Any]] | None  # the first ground truth's objects
    sim_user: dict[str, Any] | None                # the simulated person's latest status
    sim_user_success_at: float | None              # ROS time it first reported success
    nav_end: dict[str, Any] | None                 # the planner's status when it ended
    pose: tuple[float, float] | None               # base position from odometry
    true_pose: tuple[float, float] | None          # base position from the simulator


@dataclass
class CheckContext:
    """What a task's scenario check may use: ``bad(loc, message)`` reports a problem at a key of
    the file; ``find(name, dirs, suffix=, want_dir=)`` -> (path or None, paths tried);
    ``closest(word, options)`` -> " (did you mean ...?)" or ""; ``paths`` receives what names
    resolved to (``scene``, ``house:<name>``); ``worlds`` reads house and scene files."""

    bad: Bad
    base: Path                       # the scenario file's folder
    roots: list[Path]                # where names resolve after it (repo, installed share)
    find: Callable[..., tuple[Path | None, list[str]]]
    closest: Callable[[str, Any], str]
    paths: dict[str, str]
    worlds: WorldFiles
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # params file nodes


@runtime_checkable
class CampaignTask(Protocol):
    """One kind of campaign task. See the module docstring for who uses what."""

    kind: str
    world: str                                   # tabletop (sim_node) | house (house_sim_node)
    conditions: Mapping[str, ModelNeed]          # condition -> what its `model:` is
    task_keys: frozenset[str]                    # `task:` keys (besides kind) that apply
    fault_kinds: tuple[str, ...]
    fault_triggers: tuple[str, ...]
    factors: tuple[str, ...]                     # randomization factors that apply
    link_topics: tuple[str, ...]                 # what latency / jitter / drop_rate impair
    real_start_topic: str                        # first message: a robot's graph is up
    key_topics: tuple[str, ...]                  # the recorder needs them before the start
    moves: Literal["arm", "base", "nothing"]     # what motion triggers watch
    inputs: frozenset[str]                       # driver inputs: ground_truth, sim_user,
                                                 # instruction, nav, base_pose
    required_topics: Mapping[str, list[str]]     # topic -> the metrics that need it
    core_topic: str                              # without it the episode measures nothing
    success_needs: str                           # what bag-measured success needs, in words
    expected_topics: frozenset[str]              # what a full episode records

    # scenario
    def nodes(self, condition: str) -> list[str]: ...
    def check(self, sc: Scenario, ctx: CheckContext) -> None: ...
    def check_condition(self, name: str, condition: ConditionSpec,
                        overrides: Overrides, ctx: CheckContext) -> None: ...
    def instance(self, sc: Scenario, condition: str, index: int, scene_seed: int,
                 worlds: WorldFiles) -> tuple[TaskSpec, Overrides]: ...

    # graph
    def instruction_topic(self, value: Callable[[str, str, Any], Any]) -> str: ...

    # driver
    def validate_spec(self, spec: EpisodeSpec) -> None: ...
    def instruction_at_start(self, spec: EpisodeSpec) -> bool: ...
    def instruction_to_send(self, spec: EpisodeSpec) -> str | None: ...
    def ready(self, d: DriverView) -> bool: ...
    def start_detail(self, d: DriverView) -> dict[str, Any]: ...
    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None: ...
    def time_limit_verdict(self, d: DriverView) -> dict[str, Any]: ...

    # metrics
    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult: ...
    def final_metrics(self, values: dict[str, Any], success: bool) -> None: ...


class BaseTask:
    """Defaults: a tabletop task, every fault trigger, no instruction of the driver's own, ready
    once the graph is up, no verdict of its own until the time limit."""

    kind: str = ""
    world: str = "tabletop"
    conditions: Mapping[str, ModelNeed] = {}
    task_keys: frozenset[str] = frozenset()
    fault_kinds: tuple[str, ...] = ("kill_node", "freeze_camera")
    fault_triggers: tuple[str, ...] = ("time", "motion", "instruction")
    factors: tuple[str, ...] = ("latency_s", "jitter_s", "drop_rate")
    link_topics: tuple[str, ...] = ()
    real_start_topic: str = "/joint_states"
    key_topics: tuple[str, ...] = ()
    moves: Literal["arm", "base", "nothing"] = "arm"
    inputs: frozenset[str] = frozenset()
    required_topics: Mapping[str, list[str]] = {}
    core_topic: str = ""
    success_needs: str = ""
    expected_topics: frozenset[str] = frozenset()

    def nodes(self, condition: str) -> list[str]:
        raise NotImplementedError(f"task {self.kind!r} names no graph")

    def check(self, sc: Scenario, ctx: CheckContext) -> None:
        return None

    def check_condition(self, name: str, condition: ConditionSpec, overrides: Overrides,
                        ctx: CheckContext) -> None:
        return None

    def instance(self, sc: Scenario, condition: str, index: int, scene_seed: int,
                 worlds: WorldFiles) -> tuple[TaskSpec, Overrides]:
        raise NotImplementedError(f"task {self.kind!r} builds no episode")

    def instruction_topic(self, value: Callable[[str, str, Any], Any]) -> str:
        return str(value("sim_user_node", "instruction_topic", "/ifagent/instruction"))

    def validate_spec(self, spec: EpisodeSpec) -> None:
        return None

    def instruction_at_start(self, spec: EpisodeSpec) -> bool:
        return False

    def instruction_to_send(self, spec: EpisodeSpec) -> str | None:
        return None

    def ready(self, d: DriverView) -> bool:
        return True

    def start_detail(self, d: DriverView) -> dict[str, Any]:
        return {}

    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None:
        return None

    def time_limit_verdict(self, d: DriverView) -> dict[str, Any]:
        return {"success": None, "valid": True, "by": self.kind}

    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
        raise NotImplementedError(f"task {self.kind!r} has no metrics")

    def final_metrics(self, values: dict[str, Any], success: bool) -> None:
        return None


def check_duration(sc: Scenario, ctx: CheckContext, what: str) -> None:
    """``task.duration_s``: present, > 0 and within the time limit (``what``: the task, in the
    message)."""
    t = sc.task
    if t.duration_s is None:
        ctx.bad(("task",), f"missing key 'duration_s' in task: how long each {what} episode "
                           "watches (seconds)")
    elif not (math.isfinite(t.duration_s) and t.duration_s > 0):
        ctx.bad(("task", "duration_s"), f"task.duration_s must be > 0, got {t.duration_s}")
    elif t.duration_s > sc.time_limit_s:
        ctx.bad(("task", "duration_s"), f"task.duration_s {t.duration_s:g} exceeds "
                                        f"time_limit_s {sc.time_limit_s:g}")


def check_scene(sc: Scenario, ctx: CheckContext) -> None:
    """``task.scene`` (a tabletop scene file): found and readable; fills ``paths["scene"]``."""
    t = sc.task
    if t.scene is None:
        return
    dirs = [ctx.base, ctx.base.parent / "scenes", *(r / "scenes" for r in ctx.roots[1:]),
            *ctx.roots]
    path, tried = ctx.find(t.scene, dirs, suffix=".yaml")
    if path is None:
        ctx.bad(("task", "scene"), f"scene {t.scene!r} not found; tried {', '.join(tried)}")
        return
    try:
        ctx.worlds.check_scene(str(path))
    except Exception as exc:  # noqa: BLE001 - the scene loader's own message says what is wrong
        ctx.bad(("task", "scene"), f"scene {t.scene!r} ({path}) does not load: {exc}")
    ctx.paths["scene"] = str(path)


def first_of(items: Sequence[str], index: int) -> str:
    """Episode ``index``'s pick of a list cycled over the episodes."""
    return items[index % len(items)]
