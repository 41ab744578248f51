"""Campaign task ``vln_houses``: vision-and-language navigation in the simulated houses.

Graph: house_sim_node, base_executor_node and vln_planner_node running the condition's
planner. Each episode is a route the house gives for its scene seed (through the scenario's
:class:`~ifagent_ros.core.campaign.worlds.WorldFiles`). The driver sends the instruction until
the planner shows it and ends the episode when the planner stops, asks or halts on it; the
verdict: the final pose (the simulator's when there is one, else odometry) within
``success_radius_m`` of the goal. A time limit is a failure. Metrics (from the bag): path
length, navigation error, oracle success, SPL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ifagent_ros.core.campaign.metrics_bag import (
    BASE_POSE,
    NAV_STATUS,
    ODOM,
    Joints,
    Recording,
    TaskResult,
    Timeline,
    decimate,
    header_s,
    number,
    stamp_or_log,
)
from ifagent_ros.core.campaign.tasks.base import (
    BaseTask,
    CheckContext,
    DriverView,
    ModelNeed,
    Overrides,
    first_of,
)
from ifagent_ros.core.campaign.types import EVENTS_TOPIC, RAW_PREFIX, EpisodeSpec, TaskSpec
from ifagent_ros.core.vln.planners import PLANNERS

if TYPE_CHECKING:
    from ifagent_ros.core.campaign.scenario import ConditionSpec, Scenario
    from ifagent_ros.core.campaign.worlds import WorldFiles

__all__ = ["SUCCESS_RADIUS_M", "TASK", "VlnHousesTask", "spl"]

SUCCESS_RADIUS_M = 3.0  # R2R's success threshold


def spl(success: bool, shortest_m: float | None, length_m: float | None) -> float | None:
    """Success weighted by path length (Anderson et al. 2018)."""
    if shortest_m is None or length_m is None:
        return None
    denom = max(float(shortest_m), float(length_m))
    return float(success) if denom <= 0.0 else float(success) * float(shortest_m) / denom


class VlnHousesTask(BaseTask):
    kind = "vln_houses"
    world = "house"
    task_keys = frozenset({"houses"})
    fault_kinds = ("kill_node", "freeze_camera", "odom_jump")
    link_topics = ("/odom", "/ifagent/objects")
    real_start_topic = "/odom"
    key_topics = ("/odom",)
    moves: Literal["arm", "base", "nothing"] = "base"
    inputs = frozenset({"nav", "base_pose"})
    required_topics = {ODOM: ["path_length_m", "navigation_error_m", "oracle_success", "spl",
                              "success"],
                       NAV_STATUS: ["success", "spl", "time_to_success_s"],
                       EVENTS_TOPIC: ["navigation_error_m", "oracle_success", "spl", "success"]}
    core_topic = ODOM
    success_needs = f"{ODOM} (or {BASE_POSE}) + {NAV_STATUS} + a start event with the goal"
    expected_topics = frozenset({ODOM, NAV_STATUS})

    @property
    def conditions(self) -> Mapping[str, ModelNeed]:  # type: ignore[override]
        """The planners vln_planner_node's ``planner`` parameter names (``core/vln/planners``
        PLANNERS); one that needs a model takes a local model folder or an LLM URL (overrides),
        so its ``model:`` is optional."""
        return {name: ("optional-dir" if entry.needs_model else None)
                for name, entry in PLANNERS.items()}

    # ---- scenario
    def nodes(self, condition: str) -> list[str]:
        return ["house_sim_node", "base_executor_node", "vln_planner_node"]

    def check(self, sc: Scenario, ctx: CheckContext) -> None:
        t = sc.task
        if not t.houses:
            ctx.bad(("task",), "task.houses is empty; vln_houses needs at least one houses "
                               "name")
        dirs = [ctx.base, ctx.base.parent / "houses",
                *(r / "houses" for r in ctx.roots[1:]), *ctx.roots]
        for j, name in enumerate(t.houses):
            path, tried = ctx.find(name, dirs, suffix=".yaml")
            if path is None:
                ctx.bad(("task", "houses", j), f"house {name!r} not found; tried "
                                               f"{', '.join(tried)}")
                continue
            try:
                ctx.worlds.check_house(str(path))
            except Exception as exc:  # noqa: BLE001 - the loader's message says why
                ctx.bad(("task", "houses", j), f"house {name!r} ({path}) does not load: {exc}")
            ctx.paths[f"house:{name}"] = str(path)

    def check_condition(self, name: str, condition: ConditionSpec, overrides: Overrides,
                        ctx: CheckContext) -> None:
        if PLANNERS[name].needs_model and condition.model is None:
            planner = {**ctx.sections.get("vln_planner_node", {}),
                       **overrides.get("vln_planner_node", {})}
            if not planner.get("llm.url") and not planner.get("llm.path"):
                ctx.bad(("conditions", name), f"condition {name!r} needs a model (model: a "
                        "local model folder) or overrides: {vln_planner_node: {llm.url: ..., "
                        "llm.model: ...}}")

    def instance(self, sc: Scenario, condition: str, index: int, scene_seed: int,
                 worlds: WorldFiles) -> tuple[TaskSpec, Overrides]:
        t = sc.task
        name = first_of(t.houses, index)
        house = sc.resolved(f"house:{name}")
        found = worlds.house_episode(house, scene_seed)
        if found is None:
            from ifagent_ros.core.campaign.scenario import ScenarioError

            raise ScenarioError(f"{sc.name}: house {name!r} gives no episode for scene seed "
                                f"{scene_seed} (too few places 3..20 m apart?)")
        episode = {**found, "success_radius_m": SUCCESS_RADIUS_M}
        planner: dict[str, Any] = {"house": house, "planner": condition,
                                   "planner_seed": scene_seed}
        model = sc.model_path(condition)
        if model:
            planner["llm.path"] = model
        ov: Overrides = {"house_sim_node": {"house": house, "start": episode["start"]},
                         "vln_planner_node": planner}
        return TaskSpec(kind=self.kind, split=t.split, houses=list(t.houses),
                        episode=episode), ov

    # ---- graph
    def instruction_topic(self, value: Callable[[str, str, Any], Any]) -> str:
        return str(value("vln_planner_node", "topics.instruction", "/ifagent/instruction"))

    # ---- driver
    def validate_spec(self, spec: EpisodeSpec) -> None:
        ep = spec.task.episode
        missing = [k for k in ("instruction", "goal", "success_radius_m") if k not in ep]
        if missing:
            raise ValueError(f"vln_houses episode {spec.episode_id}: task.episode lacks "
                             f"{', '.join(missing)}")

    def instruction_to_send(self, spec: EpisodeSpec) -> str | None:
        return str(spec.task.episode["instruction"])

    def start_detail(self, d: DriverView) -> dict[str, Any]:
        ep = d.spec.task.episode
        return {"instruction": ep["instruction"], "goal": list(ep["goal"]),
                "shortest_path_m": ep.get("shortest_path_m"),
                "success_radius_m": ep["success_radius_m"], "house": ep.get("house")}

    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None:
        return None if d.nav_end is None else self._verdict(d, d.nav_end)

    def time_limit_verdict(self, d: DriverView) -> dict[str, Any]:
        return {**self._verdict(d, {"mode": None}), "success": False,
                "note": "the planner never stopped"}

    @staticmethod
    def _verdict(d: DriverView, status: dict[str, Any]) -> dict[str, Any]:
        ep = d.spec.task.episode
        pose = d.true_pose or d.pose
        v: dict[str, Any] = {"by": "nav", "valid": True, "mode": status.get("mode"),
                             "reason": status.get("reason"),
                             "pose_source": "base_pose" if d.true_pose else "odom"}
        if pose is None:
            return {**v, "success": False, "final_position": None, "distance_to_goal_m": None,
                    "note": "no pose received"}
        dist = math.hypot(pose[0] - float(ep["goal"][0]), pose[1] - float(ep["goal"][1]))
        return {**v, "success": dist <= float(ep["success_radius_m"]),
                "final_position": [pose[0], pose[1]], "distance_to_goal_m": dist}

    # ---- metrics
    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
        """Poses from /sim/base_pose (the truth) when recorded, else the raw odometry behind
        the fault relay, else /odom."""
        source = next((s for s in (BASE_POSE, RAW_PREFIX + ODOM, ODOM) if rec.has(s)), ODOM)
        poses = []
        for log_t, msg in rec.messages.get(source, ()):
            p = msg.pose.pose.position
            t = stamp_or_log(header_s(msg), log_t)
            if not (math.isfinite(p.x) and math.isfinite(p.y)):
                rec.skip(source)
            elif tl.within(t):
                poses.append((t, float(p.x), float(p.y)))
        poses.sort()
        xy = np.asarray([(x, y) for _, x, y in poses], float).reshape(-1, 2)
        length = float(np.linalg.norm(np.diff(xy, axis=0), axis=1).sum()) if len(xy) else None
        detail = tl.start or {}
        shortest = detail.get("shortest_path_m")
        values: dict[str, Any] = {
            "pose_source": source, "path_length_m": length, "navigation_error_m": None,
            "oracle_success": None,
            "shortest_path_m": None if shortest is None else float(shortest),
            "planner_stopped": None, "spl": None}
        traj = {"base_xy": decimate([[t - tl.t0, x, y] for t, x, y in poses])} if poses else {}
        goal, radius = detail.get("goal"), detail.get("success_radius_m")
        if goal is None or radius is None or not len(xy):
            why = "no pose in the episode" if not len(xy) else \
                "no start event with 'goal' and 'success_radius_m'"
            return TaskResult(values, None, why, None, traj)
        dist = np.linalg.norm(xy - np.asarray(goal[:2], float), axis=1)
        values["navigation_error_m"] = float(dist[-1])
        values["oracle_success"] = bool(dist.min() <= float(radius))
        navs = [(t, s) for t, s in rec.dicts(NAV_STATUS)
                if tl.within(stamp_or_log(number(s.get("stamp")), t))]
        if not navs:
            return TaskResult(values, None, f"no {NAV_STATUS}: cannot tell whether the planner "
                              "stopped", None, traj)
        stopped = next((stamp_or_log(number(s.get("stamp")), t) for t, s in navs
                        if s.get("mode") == "stopped"), None)
        values["planner_stopped"] = stopped is not None
        success = stopped is not None and float(dist[-1]) <= float(radius)
        return TaskResult(values, success, None,
                          stopped - tl.t0 if success and stopped is not None else None, traj)

    def final_metrics(self, values: dict[str, Any], success: bool) -> None:
        # SPL from the success that counts (an operator's or a verdict's, when given)
        values["spl"] = spl(success, values.get("shortest_path_m"), values.get("path_length_m"))


TASK = VlnHousesTask()
