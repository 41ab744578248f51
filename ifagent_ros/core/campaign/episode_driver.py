"""The episode driver's logic: when an episode starts and ends, when faults fire, the verdict.

ROS-free and pure: :class:`EpisodeDriver` takes observations (ROS time in seconds, parsed
messages) and returns :class:`Action` s for ``campaign_driver_node`` to carry out (publish an
event, a fault command or the instruction, kill a node, end the episode). The rules:

- start: once the graph is up (the first /clock in sim; the task's ``real_start_topic`` on a
  robot), the recorder has every key topic and the task is ready (shared autonomy in sim: the
  first ground truth is in, its objects are the start state the metrics compare with);
- faults: ``time`` at ``at_s`` of episode time; ``motion`` at the first arm joint faster than
  :data:`MOTION_RAD_S` (or base faster than :data:`MOTION_M_S`) after ``at_s``;
  ``instruction`` once the instruction is out and ``at_s`` has passed. Each fires once; one
  with ``duration_s > 0`` is switched off again after it, in episode (ROS) time (kill_node never
  is: nothing restarts). The command tells the relay, which times on the wall clock,
  ``duration_s / time_scale``, so that its own expiry agrees;
- end: when the task says so, with its verdict (:meth:`CampaignTask.end
  <ifagent_ros.core.campaign.tasks.base.CampaignTask.end>`: shared autonomy when the simulated
  person says done, or ``SETTLE_S`` after it first reports success; VLN when the planner stops,
  asks or halts on our instruction; perception after ``task.duration_s``); a real robot when
  the operator's verdict arrives; anything at ``time_limit_s`` of episode time (the task's
  time-limit verdict). A task with an instruction of the driver's own (VLN) has it sent until
  the planner shows it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ifagent_ros.core.campaign.tasks import get_task
from ifagent_ros.core.campaign.types import (
    CampaignEvent,
    EpisodeSpec,
    FaultCommand,
    FaultSpec,
)

__all__ = ["MOTION_M_S", "MOTION_RAD_S", "Action", "EpisodeDriver", "read_operator_verdict"]

MOTION_RAD_S = 0.05   # an arm joint faster than this: the arm moves
MOTION_M_S = 0.05     # the base faster than this: the base moves
INSTRUCTION_REPEAT_S = 1.0
NAV_END_MODES = ("stopped", "asking", "halted")
RELAYED = ("freeze_camera", "stale_joint_states", "joy_garbage", "odom_jump")

ActionKind = Literal["event", "fault_command", "kill", "instruction", "end"]


@dataclass(frozen=True)
class Action:
    """``event``: publish ``payload`` (CampaignEvent); ``fault_command``: publish ``payload``
    (FaultCommand); ``kill``: kill node ``payload`` (str); ``instruction``: publish text
    ``payload``; ``end``: end the episode, reason ``payload`` (then call :meth:`finish`)."""

    kind: ActionKind
    payload: Any


@dataclass
class _Fault:
    spec: FaultSpec
    seed: int
    fired_at: float | None = None  # ROS time it fired
    ends_at: float | None = None   # episode time it ends (duration_s > 0, not kill_node)
    expired: bool = False


@dataclass
class EpisodeDriver:
    spec: EpisodeSpec
    arm_joints: Sequence[str] = field(default_factory=lambda: [f"panda_joint{i}"
                                                               for i in range(1, 8)])
    # None: the task says (shared autonomy without an instruction-taking node, teleop: the
    # person has the task from the start, so "instruction" faults count from the start).
    instruction_at_start: bool | None = None

    def __post_init__(self) -> None:
        self.task = get_task(self.spec.task.kind)
        self.task.validate_spec(self.spec)
        if self.instruction_at_start is None:
            self.instruction_at_start = self.task.instruction_at_start(self.spec)
        self.kind = self.spec.task.kind
        self.graph_up = False
        self.start_stamp: float | None = None
        self.ended: str | None = None
        self.verdict: dict[str, Any] | None = None
        self.faults = [_Fault(f, (self.spec.seed * 100 + i) % 2**31)
                       for i, f in enumerate(self.spec.faults)]
        self.objects_at_start: list[dict[str, Any]] | None = None
        self.motion_at: float | None = None      # the latest ROS time the robot moved
        self.instruction_at: float | None = None
        self._instruction_sent_at = -math.inf
        self._instruction_acknowledged = False
        self._prev_q: tuple[float, dict[str, float]] | None = None
        # What the tasks read (tasks.base.DriverView):
        self.sim_user: dict[str, Any] | None = None        # the simulated person's status
        self.sim_user_success_at: float | None = None      # it first reported success
        self.nav_end: dict[str, Any] | None = None         # the planner's status as it ended
        self.pose: tuple[float, float] | None = None       # from odometry
        self.true_pose: tuple[float, float] | None = None  # from the simulator
        self._operator: dict[str, Any] | None = None

    # ------------------------------------------------------------------ observations
    @property
    def started(self) -> bool:
        return self.start_stamp is not None

    def episode_time(self, now: float) -> float:
        return 0.0 if self.start_stamp is None else now - self.start_stamp

    def observe_graph_up(self) -> None:
        self.graph_up = True

    def observe_ground_truth(self, objects: list[dict[str, Any]]) -> None:
        if self.objects_at_start is None:
            self.objects_at_start = list(objects)

    def observe_joint_state(self, now: float, names: Sequence[str], positions: Sequence[float],
                            velocities: Sequence[float]) -> bool:
        """True if an arm joint moves faster than MOTION_RAD_S (velocities, or position
        differences when the message carries none)."""
        arm = set(self.arm_joints)
        speeds: list[float] = []
        if len(velocities) == len(names):
            speeds = [abs(v) for n, v in zip(names, velocities, strict=True) if n in arm]
        elif len(positions) == len(names):
            q = {n: float(p) for n, p in zip(names, positions, strict=True) if n in arm}
            if self._prev_q is not None and now > self._prev_q[0]:
                dt = now - self._prev_q[0]
                speeds = [abs(q[n] - p) / dt for n, p in self._prev_q[1].items() if n in q]
            self._prev_q = (now, q)
        moving = any(math.isfinite(s) and s > MOTION_RAD_S for s in speeds)
        if moving and self.started:
            self.motion_at = now
        return moving

    def observe_odom(self, now: float, x: float, y: float, vx: float, vy: float) -> bool:
        """True if the base moves faster than MOTION_M_S."""
        if math.isfinite(x) and math.isfinite(y):
            self.pose = (x, y)
        moving = math.isfinite(vx) and math.isfinite(vy) and math.hypot(vx, vy) > MOTION_M_S
        if moving and self.started:
            self.motion_at = now
        return moving

    def observe_base_pose(self, x: float, y: float) -> None:
        if math.isfinite(x) and math.isfinite(y):
            self.true_pose = (x, y)

    def observe_instruction(self, now: float) -> None:
        """The instruction went out (seen on its topic, shared autonomy; the person may send it
        before the start event, then it counts from the start)."""
        if self.instruction_at is None:
            self.instruction_at = now

    def observe_sim_user(self, now: float, status: dict[str, Any]) -> None:
        self.sim_user = status
        if status.get("success") and self.sim_user_success_at is None and self.started:
            self.sim_user_success_at = now

    def observe_nav(self, status: dict[str, Any]) -> None:
        ours = status.get("instruction") == self.spec.task.episode.get("instruction")
        if not ours:
            return
        self._instruction_acknowledged = True
        if status.get("mode") in NAV_END_MODES and self.nav_end is None and self.started:
            self.nav_end = status

    def observe_operator_verdict(self, verdict: dict[str, Any]) -> None:
        """EPISODE_DIR/verdict.json: {"success": bool, "valid": bool, "note": str}."""
        if not isinstance(verdict.get("success"), bool) or not isinstance(verdict.get("valid"),
                                                                          bool):
            raise ValueError(f"operator verdict needs boolean success and valid, got {verdict}")
        self._operator = verdict

    # ------------------------------------------------------------------ decisions
    def ready(self, recorder_ready: bool) -> bool:
        if not self.graph_up or not recorder_ready:
            return False
        return self.task.ready(self)

    def step(self, now: float, *, recorder_ready: bool = True) -> list[Action]:
        """Everything due at ROS time ``now``."""
        if self.ended is not None:
            return []
        out: list[Action] = []
        if not self.started:
            if not self.ready(recorder_ready):
                return out
            self.start_stamp = now
            out.append(self._event(now, "start", self._start_detail()))
            if self.instruction_at_start:
                self.instruction_at = now
        t = self.episode_time(now)
        text = self.task.instruction_to_send(self.spec)
        if text is not None and not self._instruction_acknowledged \
                and now - self._instruction_sent_at >= INSTRUCTION_REPEAT_S:
            self._instruction_sent_at = now
            if self.instruction_at is None:
                self.instruction_at = now
            out.append(Action("instruction", text))
        out += self._faults(now, t)
        reason = self._end_reason(now, t)
        if reason is not None:
            if self.verdict is not None:
                out.append(self._event(now, "verdict", self.verdict))
            self.ended = reason
            out.append(Action("end", reason))
        return out

    def finish(self, now: float, reason: str, nodes_alive: Sequence[str],
               nodes_dead: Sequence[str], error: str | None = None) -> CampaignEvent:
        """The ``end`` event (also for an end the driver did not decide: error, SIGTERM)."""
        self.ended = self.ended or reason
        detail: dict[str, Any] = {"reason": reason, "nodes_alive": list(nodes_alive),
                                  "nodes_dead": list(nodes_dead),
                                  "episode_time_s": self.episode_time(now)}
        if error:
            detail["error"] = error
        return CampaignEvent(stamp=now, event="end", episode_id=self.spec.episode_id,
                             detail=detail)

    # ------------------------------------------------------------------ internals
    def _event(self, now: float, event: str, detail: dict[str, Any]) -> Action:
        return Action("event", CampaignEvent(stamp=now, event=event,  # type: ignore[arg-type]
                                             episode_id=self.spec.episode_id, detail=detail))

    def _start_detail(self) -> dict[str, Any]:
        return {"task": self.spec.task.model_dump(), "condition": self.spec.condition,
                "seed": self.spec.seed, "scene_seed": self.spec.scene_seed,
                "time_scale": self.spec.time_scale, "real": self.spec.real,
                **self.task.start_detail(self)}

    def _due(self, f: _Fault, t: float) -> bool:
        if t < f.spec.at_s:
            return False
        if f.spec.trigger == "time":
            return True
        if f.spec.trigger == "motion":
            return self.motion_at is not None and self.episode_time(self.motion_at) >= f.spec.at_s
        return self.instruction_at is not None

    def _faults(self, now: float, t: float) -> list[Action]:
        """Faults ending now, then faults starting now (a fault that ends when the next one
        starts is over first). A time-triggered fault ends ``duration_s`` after its scheduled
        time, an event-triggered one ``duration_s`` after it fired."""
        out: list[Action] = []
        for f in self.faults:
            s = f.spec
            if f.ends_at is not None and not f.expired and t >= f.ends_at - 1e-9:
                f.expired = True
                out.append(self._event(now, "fault", {**s.model_dump(), "active": False}))
                out.append(Action("fault_command", FaultCommand(
                    kind=s.kind, active=False, magnitude=s.magnitude, seed=f.seed)))
        for f in self.faults:
            s = f.spec
            if f.fired_at is None and self._due(f, t):
                f.fired_at = now
                if s.duration_s > 0 and s.kind != "kill_node":
                    f.ends_at = (s.at_s if s.trigger == "time" else t) + s.duration_s
                out.append(self._event(now, "fault", {**s.model_dump(), "active": True}))
                if s.kind == "kill_node":
                    out.append(Action("kill", s.target))
                else:
                    # The relay times faults on the wall clock: the same span at time_scale.
                    out.append(Action("fault_command", FaultCommand(
                        kind=s.kind, active=True, duration_s=s.duration_s / self.spec.time_scale,
                        magnitude=s.magnitude, seed=f.seed)))
        return out

    def _end_reason(self, now: float, t: float) -> str | None:
        if self.spec.real:
            if self._operator is not None:
                self.verdict = {"success": self._operator["success"],
                                "valid": self._operator["valid"], "by": "operator",
                                "note": str(self._operator.get("note", ""))}
                return "operator"
            return "time_limit" if t >= self.spec.time_limit_s else None
        verdict = self.task.end(self, now, t)
        if verdict is not None:
            self.verdict = verdict
            return "done"
        if t < self.spec.time_limit_s:
            return None
        self.verdict = self.task.time_limit_verdict(self)
        return "time_limit"


def read_operator_verdict(path: str | Path) -> dict[str, Any] | None:
    """The operator's verdict file (EPISODE_DIR/verdict.json, written by the runner), or None
    while there is none or it is still being written; ValueError if it is not a JSON object."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        verdict = json.loads(path.read_text())
    except ValueError:
        return None  # being written: read it at the next tick
    if not isinstance(verdict, dict):
        raise ValueError(f"{path}: a verdict is a JSON object, got {verdict!r}")
    return verdict
