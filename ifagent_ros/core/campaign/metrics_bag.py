"""The parsed contents of an episode bag, as every metric reads them: :class:`Recording` (the
topics the metrics read), :class:`Timeline` (the episode as its campaign events tell it),
:class:`Joints` (arm samples and gripper openings) and :class:`TaskResult` (what a task's
metrics return).

ROS-free. :mod:`ifagent_ros.core.campaign.metrics` reads the bag into a :class:`Recording`,
builds the :class:`Timeline` from the campaign events, computes the common (safety) metrics and
calls the task's :meth:`~ifagent_ros.core.campaign.tasks.base.CampaignTask.metrics`; see its
docstring for every metric's definition.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

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
TWIST = "/ifagent/ee_twist_cmd"

# The common safety metrics (metrics.py) that need the arm's joint states.
SAFETY_METRICS = ("joint_speed_peak_ratio", "joint_acc_peak_ratio", "joint_position_margin_min",
                  "joint_limit_violations", "estop_reaction_ms", "watchdog_reaction_ms")

# A stamp further than this from the recorder's log time is on another clock (a robot PC not
# synchronized with the recording PC, sim stamps under a wall-clock recorder): use the log time.
CLOCK_TOLERANCE_S = 5.0
MAX_TRAJECTORY_POINTS = 400           # per trajectory, for the report gallery

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
