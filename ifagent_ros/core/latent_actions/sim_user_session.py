"""The simulated person in a live node graph (ROS-free; ``sim_user_node`` feeds it messages).

:class:`SimUserSession` wraps a :class:`~ifagent_ros.core.latent_actions.sim_user.SimulatedUser`
with what a person at a real rig has: the objects it sees (the first view is the start scene
the task is judged against), the arm it sees (joint positions through forward kinematics; older
than ``stale_s``: it cannot see the arm and only the pad's idle message goes out), the
interface's status display, and an instruction it repeats every ``repeat_s`` until the
interface shows it (a message sent before the subscription matched is lost). It judges the task
by the one shared-autonomy success rule (``core/campaign/tasks/shared_autonomy.SuccessJudge``,
as the in-process evaluation and a campaign's metrics do) and reports :class:`SimUserStatus`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel

from ifagent_ros.core.latent_actions.sim_user import SimulatedUser, UserOutput
from ifagent_ros.core.latent_actions.tasks import ArmObservation, ObjectState

if TYPE_CHECKING:
    from ifagent_ros.core.campaign.tasks.shared_autonomy import SuccessJudge

ForwardKinematics = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class SimUserStatus(BaseModel):
    """``/ifagent/sim_user/status`` (version 1)."""

    version: int = 1
    stamp: float
    task: str
    condition: str
    instruction: str
    instruction_acknowledged: bool
    phase: str
    waypoint: str | None = None
    waypoint_index: int = 0
    distance: float | None = None  # m, end effector to the current waypoint
    corrections: int = 0
    said: list[str] = []
    success: bool = False
    time_to_success_s: float | None = None
    done: bool = False


@dataclass
class Tick:
    """One gamepad period: the message to send, the instruction to (re)send, what to log."""

    out: UserOutput
    instruction: str | None = None
    unseen: str | None = None  # why the person could not look at the arm this time
    events: list[str] = field(default_factory=list)


class SimUserSession:
    def __init__(self, user: SimulatedUser, condition: str, forward_kinematics: ForwardKinematics,
                 *, stale_s: float = 0.5, repeat_s: float = 1.0) -> None:
        self.user = user
        self.task = user.task
        self.condition = condition
        self._fk = forward_kinematics
        self._stale_s = stale_s
        self._repeat_s = repeat_s
        self._q: np.ndarray | None = None
        self._width: float | None = None  # None: no finger joint seen yet
        self._q_at: float | None = None
        self._objects: dict[str, ObjectState] | None = None
        self._success_judge: SuccessJudge | None = None  # from the first view of the objects
        self.acknowledged = user.interface == "teleop"  # teleop_node takes no instruction
        self._instruction_sent_at = -math.inf
        self._t0: float | None = None
        self.success = False
        self.time_to_success: float | None = None
        self.distance: float | None = None

    # ------------------------------------------------------------------ what it sees
    def on_objects(self, objects: Mapping[str, ObjectState]) -> None:
        self._objects = dict(objects)
        if self._success_judge is None:
            from ifagent_ros.core.campaign.tasks.shared_autonomy import SuccessJudge

            self._success_judge = SuccessJudge(self.task, self._objects)

    def on_arm(self, q: np.ndarray, gripper_width: float | None, now: float) -> None:
        """7 arm joint positions (ignored unless finite) and the finger opening when known."""
        q = np.asarray(q, dtype=float)
        if q.shape != (7,) or not np.all(np.isfinite(q)):
            return
        if gripper_width is not None:
            self._width = float(gripper_width)
        self._q, self._q_at = q, now

    def on_interface_status(self, status: Mapping[str, Any]) -> None:
        """shared_autonomy_node's status: acknowledges the instruction once it shows it."""
        if status.get("instruction") == self.task.text:
            self.acknowledged = True
        self.user.observe_status(dict(status))

    def on_teleop_status(self, mode: str, stamp: float) -> None:
        self.user.observe_status({"teleop_mode": mode, "stamp": stamp})

    # ------------------------------------------------------------------ the person
    def tick(self, now: float) -> Tick:
        instruction = None
        if not self.acknowledged and now - self._instruction_sent_at >= self._repeat_s:
            instruction, self._instruction_sent_at = self.task.text, now
        unseen = None
        events: list[str] = []
        fresh = self._q_at is not None and abs(now - self._q_at) <= self._stale_s
        if fresh and self._objects is not None and self._q is not None:
            if self._t0 is None:
                self._t0 = now
            pos, rot = self._fk(self._q)
            seen_width = self._width if self._width is not None else 0.08
            obs = ArmObservation(now, self._q.copy(), np.asarray(pos), np.asarray(rot),
                                 seen_width, dict(self._objects))
            try:
                self.user.observe(obs)
            except ValueError as exc:  # NaN pose, clock jumped back: the person looks away
                unseen = str(exc)
            else:
                if self._judge(obs, now):
                    events.append(f"task done in {self.time_to_success:.1f} s")
        out = self.user.step(now)
        if out.speech:
            events.append(f"said {out.speech!r}")
        return Tick(out, instruction, unseen, events)

    def _judge(self, obs: ArmObservation, now: float) -> bool:
        """Updates the distance to the waypoint; True when the task has just succeeded."""
        tr = self.user.tracker
        wp = tr.plan[tr.index] if tr.index < len(tr.plan) else None
        self.distance = None if wp is None else float(np.linalg.norm(wp.position
                                                                     - obs.ee_position))
        judge = self._success_judge
        if self.success or judge is None:
            return False
        judge.observe(now, obs.objects, self._width, obs.ee_position)
        if judge.first_success is None:
            return False
        self.success = True
        self.time_to_success = judge.first_success - (self._t0 or now)
        return True

    # ------------------------------------------------------------------ status
    def status(self, now: float) -> SimUserStatus:
        tr = self.user.tracker
        wp = tr.plan[tr.index] if tr.index < len(tr.plan) else None
        return SimUserStatus(
            stamp=now, task=self.task.family, condition=self.condition,
            instruction=self.task.text, instruction_acknowledged=self.acknowledged,
            phase=self.user.phase, waypoint=wp.label if wp else None, waypoint_index=tr.index,
            distance=self.distance, corrections=self.user.counts["corrections"],
            said=list(self.user.said), success=self.success,
            time_to_success_s=self.time_to_success, done=self.user.done)


__all__ = ["SimUserSession", "SimUserStatus", "Tick"]
