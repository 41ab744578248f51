"""Campaign task ``shared_autonomy``: the simulated person does a tabletop task (a
``core/latent_actions`` task family) through a condition's interface (teleop, BC, LILA, LILAC).

Also the one success rule of a shared-autonomy episode (:class:`SuccessJudge`), which the
in-process evaluation (``bench/shared_autonomy.py``), the episode driver and the bag metrics all
apply: the episode is a success from the first sample on which the task's physical check holds
(a later slip does not undo it; that sample's time is the time to success), with an unknown
gripper opening taken as closed (:data:`UNKNOWN_GRIPPER_WIDTH`); the episode then goes on for
:data:`SETTLE_S` so the objects settle before it ends.

Graph: sim_node, executor_node and sim_user_node, plus teleop_node (the teleop interface) or
shared_autonomy_node and correction_node (a model's). The episode starts once the first ground
truth is in (its objects are the start state the metrics compare with) and ends when the
person says done, or :data:`SETTLE_S` after the person first reports success. Metrics (from the
bag): physical success re-judged on /sim/ground_truth, stick effort, corrections, instructions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import ValidationError

from ifagent_ros.core.campaign.metrics_bag import (
    CORRECTION,
    GROUND_TRUTH,
    INSTRUCTION,
    JOINT_STATES,
    JOY,
    SAFETY_METRICS,
    SIM_USER_STATUS,
    TWIST,
    Joints,
    Recording,
    TaskResult,
    Timeline,
    decimate,
    header_s,
    stamp_or_log,
)
from ifagent_ros.core.campaign.tasks.base import (
    BaseTask,
    CheckContext,
    DriverView,
    ModelNeed,
    Overrides,
    check_scene,
    first_of,
)
from ifagent_ros.core.campaign.types import EVENTS_TOPIC, EpisodeSpec, TaskSpec
from ifagent_ros.core.latent_actions.conditions import CONDITIONS, get_condition
from ifagent_ros.core.latent_actions.tasks import (
    TASK_FAMILIES,
    ObjectState,
    TaskInstance,
    sample_task,
)
from ifagent_ros.core.schemas import GroundTruth, ObjectPose

if TYPE_CHECKING:
    from ifagent_ros.core.campaign.scenario import Scenario
    from ifagent_ros.core.campaign.worlds import WorldFiles

__all__ = ["JOY_HOLD_MAX_S", "SETTLE_S", "TASK", "UNKNOWN_GRIPPER_WIDTH", "SharedAutonomyTask",
           "SuccessJudge", "settled", "task_from_start"]

SETTLE_S = 1.0              # after the first success, before the episode ends (objects settle)
UNKNOWN_GRIPPER_WIDTH = 0.0  # m: an opening nobody measured counts as closed (holds the object)
JOY_HOLD_MAX_S = 0.5         # a /joy sample counts for at most this long (gaps are not effort)


# --------------------------------------------------------------------------- the success rule
def settled(first_success_at: float | None, now: float, settle_s: float = SETTLE_S) -> bool:
    """Whether an episode that first succeeded at ``first_success_at`` may end at ``now``."""
    return first_success_at is not None and now - first_success_at >= settle_s


@dataclass
class SuccessJudge:
    """The shared-autonomy success rule over a stream of samples (one per step of the
    evaluation, one per ground-truth message of a bag). ``start``: the objects at the start."""

    task: TaskInstance
    start: Mapping[str, ObjectState]
    settle_s: float = SETTLE_S
    first_success: float | None = None   # time of the first sample the check held on
    last: bool | None = None             # the check on the latest sample

    def observe(self, t: float, objects: Mapping[str, ObjectState],
                gripper_width: float | None, ee_position: Any) -> bool:
        """Judge one sample; True if the task's physical check holds on it."""
        width = UNKNOWN_GRIPPER_WIDTH if gripper_width is None \
            or not math.isfinite(gripper_width) else float(gripper_width)
        self.last = bool(self.task.success(objects, self.start, width, ee_position))
        if self.last and self.first_success is None:
            self.first_success = t
        return self.last

    @property
    def success(self) -> bool:
        return self.first_success is not None

    def settled(self, now: float) -> bool:
        """The episode may end: it succeeded at least ``settle_s`` ago."""
        return settled(self.first_success, now, self.settle_s)


# --------------------------------------------------------------------------- metrics helpers
def _yaw(q: Sequence[float]) -> float:
    x, y, z, w = q
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def _objects(poses: Sequence[ObjectPose]) -> dict[str, ObjectState] | None:
    """As sim_user_node builds them; None if a pose is not finite."""
    if not all(np.all(np.isfinite([*o.position, *o.orientation, *o.size])) for o in poses):
        return None
    return {o.id: ObjectState(o.id, o.label, o.color, np.asarray(o.position, float),
                              _yaw(o.orientation), tuple(o.size)) for o in poses}


def task_from_start(detail: dict[str, Any]) -> TaskInstance:
    """The task as sim_user_node samples it: ``sample_task(family, default_rng(task_seed),
    split)``; ``task_params`` in the detail, when present, overrides the sampled params."""
    family, seed = detail.get("family"), detail.get("task_seed")
    if family is None or seed is None:
        raise ValueError("the start event's detail lacks 'family' and/or 'task_seed'")
    split = detail.get("split", "heldout")
    if split not in ("train", "heldout"):
        raise ValueError(f"the start event's split must be train or heldout, got {split!r}")
    try:
        task = sample_task(str(family), np.random.default_rng(int(seed)), split)
    except KeyError as err:
        raise ValueError(str(err.args[0])) from err
    if isinstance(detail.get("task_params"), dict):
        task = TaskInstance(task.family, dict(detail["task_params"]), task.text, split)
    return task


def _stick_effort(rec: Recording, tl: Timeline) -> float | None:
    """∫ min(1, |left stick|) dt over /joy, whether or not RB (the deadman) is held: the effort
    is the person's, not what reached the robot. Each sample holds until the next one, at most
    JOY_HOLD_MAX_S."""
    samples = []
    for log_t, msg in rec.messages.get(JOY, ()):
        axes = np.asarray(msg.axes, float)
        if len(axes) < 2 or not np.all(np.isfinite(axes[:2])):
            rec.skip(JOY)
            continue
        t = stamp_or_log(header_s(msg), log_t)
        if tl.within(t):
            samples.append((t, min(1.0, math.hypot(axes[0], axes[1]))))
    if not samples:
        return None
    samples.sort()
    ends = [t for t, _ in samples[1:]] + [tl.t_end]
    return float(sum(m * min(max(e - t, 0.0), JOY_HOLD_MAX_S)
                     for (t, m), e in zip(samples, ends, strict=True)))


def _ee(gt: GroundTruth, joints: Joints | None, t: float) -> np.ndarray | None:
    if gt.ee_position is not None and np.all(np.isfinite(gt.ee_position)):
        return np.asarray(gt.ee_position, float)
    q = joints.q_at(t) if joints is not None else None
    return None if q is None else np.asarray(_kinematics().ee_pose(q)[0], float)


@lru_cache(maxsize=1)
def _kinematics() -> Any:
    from ifagent_ros.core.control.kinematics import ArmKinematics  # pinocchio: only if needed

    return ArmKinematics()


# --------------------------------------------------------------------------- the task
class SharedAutonomyTask(BaseTask):
    kind = "shared_autonomy"
    world = "tabletop"
    task_keys = frozenset({"families", "split", "scene"})
    fault_kinds = ("kill_node", "freeze_camera", "stale_joint_states", "joy_garbage")
    factors = ("object_xy_jitter_m", "friction_scale", "mass_scale", "latency_s", "jitter_s",
               "drop_rate", "asr_word_error_rate", "user_skill", "user_reaction_delay_s")
    link_topics = ("/joint_states", "/joy")
    real_start_topic = "/joint_states"
    key_topics = ("/joint_states",)
    moves: Literal["arm", "base", "nothing"] = "arm"
    inputs = frozenset({"ground_truth", "sim_user", "instruction"})
    required_topics = {JOINT_STATES: ["success", *SAFETY_METRICS],
                       GROUND_TRUTH: ["success", "time_to_success_s"],
                       EVENTS_TOPIC: ["success", "time_to_success_s"]}
    core_topic = JOINT_STATES
    success_needs = f"{GROUND_TRUTH} + {JOINT_STATES} + a start event"
    expected_topics = frozenset({JOINT_STATES, GROUND_TRUTH, TWIST, JOY})

    @property
    def conditions(self) -> Mapping[str, ModelNeed]:  # type: ignore[override]
        """The shared-autonomy conditions (``core/latent_actions/conditions.py``): a model's
        checkpoint file is required, teleop takes none."""
        return {name: ("file" if c.model_file else None) for name, c in CONDITIONS.items()}

    # ---- scenario
    def nodes(self, condition: str) -> list[str]:
        if get_condition(condition).interface == "teleop":
            return ["sim_node", "executor_node", "teleop_node", "sim_user_node"]
        return ["sim_node", "executor_node", "shared_autonomy_node", "correction_node",
                "sim_user_node"]

    def check(self, sc: Scenario, ctx: CheckContext) -> None:
        t = sc.task
        if not t.families:
            ctx.bad(("task",), f"task.families is empty; shared_autonomy needs at least one of "
                               f"{', '.join(TASK_FAMILIES)}")
        for j, fam in enumerate(t.families):
            if fam not in TASK_FAMILIES:
                ctx.bad(("task", "families", j), f"unknown task family {fam!r}"
                        f"{ctx.closest(fam, TASK_FAMILIES)}; known: {', '.join(TASK_FAMILIES)}")
        check_scene(sc, ctx)

    def instance(self, sc: Scenario, condition: str, index: int, scene_seed: int,
                 worlds: WorldFiles) -> tuple[TaskSpec, Overrides]:
        t = sc.task
        family = first_of(t.families, index)
        sim: dict[str, Any] = {"seed": scene_seed}
        if t.scene:
            sim["scene"] = sc.resolved("scene")
        ov: Overrides = {
            "sim_node": sim,
            "sim_user_node": {"task": family, "seed": scene_seed, "condition": condition,
                              "split": t.split}}
        if get_condition(condition).model_file is not None:
            ov["shared_autonomy_node"] = {"model_path": sc.model_path(condition)}
        return TaskSpec(kind=self.kind, family=family, split=t.split, scene=t.scene,
                        episode={"family": family, "task_seed": scene_seed}), ov

    # ---- driver
    def instruction_at_start(self, spec: EpisodeSpec) -> bool:
        # without an instruction-taking node (teleop) the person has the task from the start
        return "shared_autonomy_node" not in spec.nodes

    def ready(self, d: DriverView) -> bool:
        return d.spec.real or d.objects_at_start is not None

    def start_detail(self, d: DriverView) -> dict[str, Any]:
        task, ep = d.spec.task, d.spec.task.episode
        return {"family": task.family or ep.get("family"),
                "task_seed": ep.get("task_seed", d.spec.scene_seed), "split": task.split,
                "objects_at_start": d.objects_at_start or []}

    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None:
        s = d.sim_user or {}
        if settled(d.sim_user_success_at, now) or s.get("done"):
            return self._verdict(s)
        return None

    def time_limit_verdict(self, d: DriverView) -> dict[str, Any]:
        return self._verdict(d.sim_user or {})

    @staticmethod
    def _verdict(s: dict[str, Any]) -> dict[str, Any]:
        v: dict[str, Any] = {"success": bool(s.get("success")), "valid": True, "by": "sim_user",
                             "time_to_success_s": s.get("time_to_success_s"),
                             "corrections": s.get("corrections", 0)}
        if not s:
            v["note"] = "no status from the simulated person"
        return v

    # ---- metrics
    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
        instructions = [m.data for _, m in rec.messages.get(INSTRUCTION, ())]
        sim_user = rec.dicts(SIM_USER_STATUS)
        values: dict[str, Any] = {
            "stick_effort_s": _stick_effort(rec, tl),
            "corrections": sum(tl.within(t) for t, _ in rec.messages.get(CORRECTION, ())),
            # whole bag (the person may say it before the start event); a resend is not counted
            "instruction_count": sum(1 for i, s in enumerate(instructions)
                                     if i == 0 or s != instructions[i - 1]),
            "sim_user_success": bool(sim_user[-1][1].get("success")) if sim_user else None,
            "success_at_end": None,
        }
        gts = sorted((stamp_or_log(g.stamp, t), g)
                     for t, g in rec.models(GROUND_TRUTH, GroundTruth))
        gts = [(t, g) for t, g in gts if tl.within(t)]
        ee_rows = [[t - tl.t0, *map(float, g.ee_position)] for t, g in gts
                   if g.ee_position is not None and np.all(np.isfinite(g.ee_position))]
        traj = {"ee_xyz": decimate(ee_rows)} if ee_rows else {}
        if tl.start is None:
            return TaskResult(values, None, "no start event (its detail names the task)", None,
                              traj)
        if not gts:
            return TaskResult(values, None, f"no {GROUND_TRUTH} in the episode", None, traj)
        try:
            task = task_from_start(tl.start)
        except ValueError as err:
            return TaskResult(values, None, str(err), None, traj)
        start = None
        if tl.start.get("objects_at_start"):
            try:
                start = _objects([ObjectPose.model_validate(o)
                                  for o in tl.start["objects_at_start"]])
            except ValidationError:
                rec.notes.append("start event objects_at_start malformed; using the first "
                                 "ground truth")
        if start is None:
            start = next((o for _, g in gts if (o := _objects(g.objects)) is not None), None)
        if joints is None or not len(joints.width):
            rec.notes.append("no finger joints on /joint_states: gripper taken as closed")
        judge = SuccessJudge(task, start) if start is not None else None
        for t, g in gts:
            now = _objects(g.objects)
            ee = _ee(g, joints, t)
            if now is None or judge is None or ee is None:
                rec.skip(GROUND_TRUTH)
                continue
            judge.observe(t, now, joints.width_at(t) if joints is not None else None, ee)
        last = judge.last if judge is not None else None
        values["success_at_end"] = last
        values["task_family"], values["task_params"] = task.family, dict(task.params)
        if judge is None or last is None:
            return TaskResult(values, None, f"no usable {GROUND_TRUTH} sample", None, traj)
        first = judge.first_success
        return TaskResult(values, judge.success, None,
                          None if first is None else first - tl.t0, traj)


TASK = SharedAutonomyTask()
