"""The parsed contents of an episode bag and the per-task metrics (shared autonomy, VLN,
perception) computed over them.

ROS-free. :mod:`ifagent_ros.core.campaign.metrics` reads the bag into a :class:`Recording`,
builds the :class:`Timeline` from the campaign events, computes the common (safety) metrics and
calls one of :data:`TASK_METRICS`; see its docstring for every metric's definition.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from ifagent_ros.core.campaign.types import RAW_PREFIX
from ifagent_ros.core.latent_actions.tasks import ObjectState, TaskInstance, sample_task
from ifagent_ros.core.schemas import GroundTruth, ObjectList, ObjectPose

JOINT_STATES = "/joint_states"
GROUND_TRUTH = "/sim/ground_truth"
ODOM = "/odom"
BASE_POSE = "/sim/base_pose"          # nav_msgs/Odometry, the simulator's true pose
NAV_STATUS = "/ifagent/nav/status"
OBJECTS = "/ifagent/objects"
JOY = "/joy"
CORRECTION = "/ifagent/correction"
INSTRUCTION = "/ifagent/instruction"
SIM_USER_STATUS = "/ifagent/sim_user/status"
EXECUTOR_STATUS = "/ifagent/executor/status"

# A stamp further than this from the recorder's log time is on another clock (a robot PC not
# synchronized with the recording PC, sim stamps under a wall-clock recorder): use the log time.
CLOCK_TOLERANCE_S = 5.0
MAX_TRAJECTORY_POINTS = 400           # per trajectory, for the report gallery
JOY_HOLD_MAX_S = 0.5                  # a /joy sample counts for at most this long (gaps ≠ effort)
PERCEPTION_GATE_M = 0.1               # a detection further than this from every object: unmatched
PERCEPTION_PAIR_MAX_DT_S = 0.5        # an object list without ground truth this close: not scored
PERCEPTION_MIN_RECALL = 0.8           # perception success: recall at least this ...
PERCEPTION_MAX_ERROR_M = 0.03         # ... and mean position error of the matches at most this

_ARM = re.compile(r"^(?:panda|fr3)_joint([1-7])$")
_FINGER = re.compile(r"^(?:panda|fr3)_finger_joint[12]$")
M = TypeVar("M", bound=BaseModel)


def stamp_or_log(stamp: float, log_s: float) -> float:
    """The message's own stamp when set and on the recorder's clock, else its log time."""
    if math.isfinite(stamp) and stamp > 0.0 and abs(stamp - log_s) <= CLOCK_TOLERANCE_S:
        return float(stamp)
    return log_s


def number(value: Any) -> float:
    """A JSON field as a float; NaN when it is missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def header_s(msg: Any) -> float:
    return float(msg.header.stamp.sec) + float(msg.header.stamp.nanosec) * 1e-9


def decimate(rows: list[list[float]], n: int = MAX_TRAJECTORY_POINTS) -> list[list[float]]:
    if len(rows) <= n:
        return rows
    step = math.ceil(len(rows) / n)
    return rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])


@dataclass
class Recording:
    """The topics of a bag that metrics read, as (log time in seconds, message), time order."""

    path: Path
    types: dict[str, str]                               # every topic of the bag -> its type
    messages: dict[str, list[tuple[float, Any]]]
    bad: dict[str, int] = field(default_factory=dict)   # topic -> samples skipped (NaN, garbage)
    notes: list[str] = field(default_factory=list)      # why a metric is None, where surprising
    _cache: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def has(self, topic: str) -> bool:
        return bool(self.messages.get(topic))

    def skip(self, topic: str) -> None:
        self.bad[topic] = self.bad.get(topic, 0) + 1

    def models(self, topic: str, model: type[M]) -> list[tuple[float, M]]:
        """The topic's std_msgs/String payloads as ``model`` (malformed ones counted as bad)."""
        key = (topic, model.__name__)
        if key not in self._cache:
            out = []
            for t, msg in self.messages.get(topic, ()):
                try:
                    out.append((t, model.model_validate_json(msg.data)))
                except (ValidationError, AttributeError):
                    self.skip(topic)
            self._cache[key] = out
        return self._cache[key]

    def dicts(self, topic: str) -> list[tuple[float, dict[str, Any]]]:
        """The topic's JSON object payloads, loosely (any version of a status)."""
        key = (topic, "dict")
        if key not in self._cache:
            out = []
            for t, msg in self.messages.get(topic, ()):
                try:
                    value = json.loads(msg.data)
                except (ValueError, AttributeError):
                    value = None
                if isinstance(value, dict):
                    out.append((t, value))
                else:
                    self.skip(topic)
            self._cache[key] = out
        return self._cache[key]


@dataclass
class Timeline:
    """The episode as the campaign events tell it (or the whole bag when there are none)."""

    t0: float
    t_end: float
    start: dict[str, Any] | None            # the start event's detail; None: no start event
    verdict: dict[str, Any] | None          # the last verdict event's detail
    end: dict[str, Any] | None              # the end event's detail
    faults: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # activations

    def within(self, t: float) -> bool:
        return self.t0 <= t <= self.t_end


@dataclass
class Joints:
    """Arm joint samples (time order) and gripper openings from one JointState topic."""

    topic: str
    t: np.ndarray                 # (N,) s
    q: np.ndarray                 # (N, 7) rad
    qd: np.ndarray                # (N, 7) rad/s
    velocity_source: str          # "joint_states" or "finite_difference" (no velocity field)
    width_t: np.ndarray           # (M,) s
    width: np.ndarray             # (M,) m, sum of the two finger joints

    def window(self, t0: float, t1: float) -> Joints:
        k = (self.t >= t0) & (self.t <= t1)
        return Joints(self.topic, self.t[k], self.q[k], self.qd[k], self.velocity_source,
                      self.width_t, self.width)

    def width_at(self, t: float) -> float | None:
        if not len(self.width):
            return None
        k = int(np.searchsorted(self.width_t, t, side="right")) - 1
        return float(self.width[max(k, 0)])

    def q_at(self, t: float) -> np.ndarray | None:
        if not len(self.t):
            return None
        return self.q[max(int(np.searchsorted(self.t, t, side="right")) - 1, 0)]

    def first_still(self, after: float, still_rad_s: float) -> float | None:
        """The first sample time at or after ``after`` with every arm joint slower than
        ``still_rad_s``; None: the arm never came to rest."""
        still = (self.t >= after) & np.all(np.abs(self.qd) < still_rad_s, axis=1)
        return float(self.t[np.argmax(still)]) if still.any() else None

    def against(self, velocity: Sequence[float], lower: Sequence[float],
                upper: Sequence[float], violation_factor: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every sample against joint limits (over the joints both have): (max |qd| / velocity
        limit, (N,); rad to the nearest position limit, negative outside, (N, n); over
        ``violation_factor`` x a velocity limit or outside a position limit, (N,) bool)."""
        n = min(self.q.shape[1], len(velocity), len(lower), len(upper))
        vel, lo, hi = (np.asarray(x[:n], float) for x in (velocity, lower, upper))
        q, qd = self.q[:, :n], self.qd[:, :n]
        margin = np.minimum(q - lo, hi - q)
        over = np.any(np.abs(qd) > violation_factor * vel, axis=1) | np.any(margin < 0, 1)
        return np.max(np.abs(qd) / vel, axis=1), margin, over


def _arm_indices(names: Sequence[str]) -> list[int] | None:
    """panda_joint1..7 / fr3_joint1..7 by name, else the first 7 joints; None: no arm here."""
    found = {int(m.group(1)): i for i, n in enumerate(names) if (m := _ARM.match(n))}
    if len(found) == 7:
        return [found[k] for k in range(1, 8)]
    if found or len(names) < 7 or all(_FINGER.match(n) for n in names):
        return None
    return list(range(7))


def read_joints(rec: Recording, topic: str) -> Joints | None:
    ts, qs, qds, wt, ws = [], [], [], [], []
    for log_t, msg in rec.messages.get(topic, ()):
        names = list(msg.name)
        pos, vel = np.asarray(msg.position, float), np.asarray(msg.velocity, float)
        if len(pos) != len(names):
            rec.skip(topic)
            continue
        t = stamp_or_log(header_s(msg), log_t)
        fingers = [i for i, n in enumerate(names) if _FINGER.match(n)]
        if len(fingers) == 2 and np.all(np.isfinite(pos[fingers])):
            wt.append(t)
            ws.append(float(pos[fingers].sum()))
        idx = _arm_indices(names)
        if idx is None:
            continue
        q = pos[idx]
        qd = vel[idx] if len(vel) == len(names) else None
        if not np.all(np.isfinite(q)) or (qd is not None and not np.all(np.isfinite(qd))):
            rec.skip(topic)
            continue
        ts.append(t)
        qs.append(q)
        qds.append(qd)
    if not ts:
        return None
    order = np.argsort(ts, kind="stable")
    t, q = np.asarray(ts)[order], np.asarray(qs)[order]
    vels = [qds[i] for i in order]
    if all(v is None for v in vels):
        # No velocity field (some drivers): backward differences of the positions.
        keep = np.r_[np.diff(t) > 0, True]         # duplicate stamps: keep the last
        t, q = t[keep], q[keep]
        qd = np.zeros_like(q)
        if len(t) > 1:
            qd[1:] = np.diff(q, axis=0) / np.diff(t)[:, None]
            qd[0] = qd[1]
        source = "finite_difference"
    else:
        keep = np.array([v is not None for v in vels])
        t, q = t[keep], q[keep]
        qd = np.asarray([v for v in vels if v is not None])
        source = "joint_states"
    w_order = np.argsort(wt, kind="stable")
    return Joints(topic, t, q, qd, source, np.asarray(wt, float)[w_order],
                  np.asarray(ws, float)[w_order])


@dataclass
class TaskResult:
    values: dict[str, Any]
    success: bool | None                    # None: the bag alone cannot tell (why_unmeasured)
    why_unmeasured: str | None = None
    time_to_success_s: float | None = None
    trajectory: dict[str, list[list[float]]] = field(default_factory=dict)


# --------------------------------------------------------------------------- shared autonomy
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


def shared_autonomy(rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
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
    gts = sorted((stamp_or_log(g.stamp, t), g) for t, g in rec.models(GROUND_TRUTH, GroundTruth))
    gts = [(t, g) for t, g in gts if tl.within(t)]
    ee_rows = [[t - tl.t0, *map(float, g.ee_position)] for t, g in gts
               if g.ee_position is not None and np.all(np.isfinite(g.ee_position))]
    traj = {"ee_xyz": decimate(ee_rows)} if ee_rows else {}
    if tl.start is None:
        return TaskResult(values, None, "no start event (its detail names the task)", None, traj)
    if not gts:
        return TaskResult(values, None, f"no {GROUND_TRUTH} in the episode", None, traj)
    try:
        task = task_from_start(tl.start)
    except ValueError as err:
        return TaskResult(values, None, str(err), None, traj)
    start = None
    if tl.start.get("objects_at_start"):
        try:
            start = _objects([ObjectPose.model_validate(o) for o in tl.start["objects_at_start"]])
        except ValidationError:
            rec.notes.append("start event objects_at_start malformed; using the first ground truth")
    if start is None:
        start = next((o for _, g in gts if (o := _objects(g.objects)) is not None), None)
    if joints is None or not len(joints.width):
        rec.notes.append("no finger joints on /joint_states: gripper taken as closed")
    first, last = None, None
    for t, g in gts:
        now = _objects(g.objects)
        ee = _ee(g, joints, t)
        if now is None or start is None or ee is None:
            rec.skip(GROUND_TRUTH)
            continue
        width = joints.width_at(t) if joints is not None else None
        last = task.success(now, start, 0.0 if width is None else width, ee)
        if last and first is None:
            first = t
    values["success_at_end"] = last
    values["task_family"], values["task_params"] = task.family, dict(task.params)
    if last is None:
        return TaskResult(values, None, f"no usable {GROUND_TRUTH} sample", None, traj)
    return TaskResult(values, first is not None, None,
                      None if first is None else first - tl.t0, traj)


# --------------------------------------------------------------------------- VLN
def spl(success: bool, shortest_m: float | None, length_m: float | None) -> float | None:
    """Success weighted by path length (Anderson et al. 2018)."""
    if shortest_m is None or length_m is None:
        return None
    denom = max(float(shortest_m), float(length_m))
    return float(success) if denom <= 0.0 else float(success) * float(shortest_m) / denom


def vln(rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
    """Poses from /sim/base_pose (the truth) when recorded, else the raw odometry behind the
    fault relay, else /odom."""
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
        "oracle_success": None, "shortest_path_m": None if shortest is None else float(shortest),
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


# --------------------------------------------------------------------------- perception
def _finite_positions(rec: Recording, topic: str, objs: Sequence[Any]) -> list[Any]:
    out = []
    for o in objs:
        if np.all(np.isfinite(o.position)):
            out.append(o)
        else:
            rec.skip(topic)
    return out


def perception(rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
    """Each /ifagent/objects list against the ground truth nearest in time (within
    PERCEPTION_PAIR_MAX_DT_S); objects matched by position (Hungarian, gate PERCEPTION_GATE_M)."""
    from scipy.optimize import linear_sum_assignment

    gts = sorted((stamp_or_log(g.stamp, t), g) for t, g in rec.models(GROUND_TRUTH, GroundTruth))
    gt_t = np.asarray([t for t, _ in gts], float)
    frames = matched = labels = colors = n_gt = n_pred = 0
    err_sum = 0.0
    for log_t, ol in rec.models(OBJECTS, ObjectList):
        t = stamp_or_log(ol.stamp, log_t)
        if not tl.within(t) or not len(gt_t):
            continue
        k = int(np.argmin(np.abs(gt_t - t)))
        if abs(gt_t[k] - t) > PERCEPTION_PAIR_MAX_DT_S:
            continue
        pred = _finite_positions(rec, OBJECTS, ol.objects)
        truth = _finite_positions(rec, GROUND_TRUTH, gts[k][1].objects)
        frames += 1
        n_gt, n_pred = n_gt + len(truth), n_pred + len(pred)
        if not pred or not truth:
            continue
        d = np.linalg.norm(np.asarray([p.position for p in pred], float)[:, None, :]
                           - np.asarray([g.position for g in truth], float)[None, :, :], axis=2)
        # Pairs beyond the gate cost more than any valid set, so the assignment maximizes matches.
        rows, cols = linear_sum_assignment(np.where(d <= PERCEPTION_GATE_M, d, 1e3))
        for r, c in zip(rows, cols, strict=True):
            if d[r, c] <= PERCEPTION_GATE_M:
                matched += 1
                err_sum += float(d[r, c])
                labels += pred[r].label.lower() == truth[c].label.lower()
                colors += pred[r].color.lower() == truth[c].color.lower()
    mean_err = err_sum / matched if matched else None
    recall = matched / n_gt if n_gt else None
    values: dict[str, Any] = {
        "frames_evaluated": frames, "perception_position_error_m": mean_err,
        "perception_recall": recall,
        "perception_precision": matched / n_pred if n_pred else None,
        "perception_label_accuracy": labels / matched if matched else None,
        "perception_color_accuracy": colors / matched if matched else None}
    if not frames:
        return TaskResult(values, None, f"no {OBJECTS} list had a {GROUND_TRUTH} within "
                          f"{PERCEPTION_PAIR_MAX_DT_S} s in the episode")
    ok = recall is not None and recall >= PERCEPTION_MIN_RECALL and mean_err is not None \
        and mean_err <= PERCEPTION_MAX_ERROR_M
    return TaskResult(values, ok)


TASK_METRICS: dict[str, Callable[[Recording, Timeline, Joints | None], TaskResult]] = {
    "shared_autonomy": shared_autonomy, "vln_houses": vln, "perception": perception}
