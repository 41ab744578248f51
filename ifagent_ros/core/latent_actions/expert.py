"""The scripted demonstrator: follows a task's waypoints with normalized 6-D actions at 10 Hz.

Each step (:meth:`ScriptedExpert.act`) it looks at the end effector, the gripper and the objects
(anything shaped like :class:`~ifagent_ros.core.latent_actions.tasks.ArmObservation`) and returns
the normalized action (``state.ActionScale``; clipped to [-1, 1]) and the gripper command:

* linear: a P-controller towards the current waypoint, speed capped (and capped lower on the
  waypoint's slow legs), never slower than a small floor so it arrives; the change per step is
  limited so motions start and stop smoothly;
* angular: turns the gripper back to the orientation it started in (pointing down), so the
  executor's tracking and contact drift do not accumulate;
* gripper: on arriving at a waypoint that opens/closes, it stops, commands the gripper and waits
  until the fingers have settled before moving on.

Until the gripper first closes, the plan is recomputed from the current object poses every step
(a nudged block is still grasped); afterwards it is frozen (the carried block moves with the hand).

:func:`correction_actions` makes the correction segments: one primitive held for 1-2 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ifagent_ros.core.latent_actions.state import ActionScale
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, GripperCommand, TaskInstance, Waypoint


@dataclass(frozen=True)
class ExpertConfig:
    rate_hz: float = 10.0
    max_speed: float = 0.12  # m/s on free legs
    gain: float = 2.5  # 1/s: speed = gain * distance below the cap
    min_speed: float = 0.015  # m/s floor so the P-controller arrives
    max_speed_change: float = 0.05  # m/s per step (0.5 m/s^2 at 10 Hz)
    rotation_gain: float = 1.5  # 1/s
    max_rotation_speed: float = 0.4  # rad/s
    settle_width: float = 0.0008  # m: the fingers stopped when the width changes less per step
    min_wait_steps: int = 3
    max_wait_steps: int = 20
    open_width: float = 0.075  # m: opened when at least this wide
    scale: ActionScale = ActionScale()


def rotation_vector(r: np.ndarray) -> np.ndarray:
    """Axis * angle (rad, 0..pi) of the rotation matrix ``r``."""
    r = np.asarray(r, dtype=float)
    cos = float(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0))
    angle = math.acos(cos)
    if angle < 1e-9:
        return np.zeros(3)
    if math.pi - angle < 1e-4:  # sin ~ 0: the axis from the symmetric part
        b = (r + np.eye(3)) / 2.0
        k = int(np.argmax(np.diag(b)))
        axis = b[:, k] / math.sqrt(max(b[k, k], 1e-12))
        return axis / np.linalg.norm(axis) * angle
    v = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return v * (angle / (2.0 * math.sin(angle)))


@dataclass
class ExpertAction:
    action: np.ndarray  # (6,) normalized, in [-1, 1]
    gripper: GripperCommand  # the state the gripper should be in
    done: bool
    waypoint: str  # label of the waypoint it is heading for ("" when done)


class ScriptedExpert:
    def __init__(self, task: TaskInstance, config: ExpertConfig | None = None) -> None:
        self.task = task
        self.config = config or ExpertConfig()
        self.index = 0
        self.plan: list[Waypoint] | None = None
        self.frozen = False
        self.gripper: GripperCommand = "open"
        self.waiting = 0  # steps spent waiting for the gripper at the current waypoint
        self.last_width: float | None = None
        self.velocity = np.zeros(3)  # m/s commanded last step
        self.reference_rotation: np.ndarray | None = None
        self.steps = 0

    @property
    def done(self) -> bool:
        return self.plan is not None and self.index >= len(self.plan)

    def act(self, obs: Any) -> ExpertAction:
        cfg = self.config
        self.steps += 1
        ee = np.asarray(obs.ee_position, dtype=float)
        rot = np.asarray(obs.ee_rotation, dtype=float)
        width = float(obs.gripper_width)
        if ee.shape != (3,) or rot.shape != (3, 3) or not (
                np.isfinite(ee).all() and np.isfinite(rot).all() and math.isfinite(width)):
            raise ValueError("expert observation needs a finite 3-D ee_position, 3x3 ee_rotation "
                             f"and gripper_width (got {ee}, {rot.shape}, {width})")
        if self.reference_rotation is None:
            self.reference_rotation = rot.copy()
        if not self.frozen:
            self.plan = self.task.waypoints(obs.objects)
        assert self.plan is not None
        angular = self._angular(rot)
        while self.index < len(self.plan):
            wp = self.plan[self.index]
            offset = np.asarray(wp.position, dtype=float) - ee
            dist = float(np.linalg.norm(offset))
            if not self.waiting and dist > wp.tolerance:
                break
            if not self._gripper_ready(wp, width):  # hold still while the fingers move
                self.velocity = np.zeros(3)
                twist = np.concatenate([np.zeros(3), angular])
                return ExpertAction(self._normalize(twist), self.gripper, False, wp.label)
            self.index += 1
            self.waiting = 0
            self.last_width = None
        else:
            self.velocity = np.zeros(3)
            return ExpertAction(self._normalize(np.concatenate([np.zeros(3), angular])),
                                self.gripper, True, "")
        cap = min(cfg.max_speed, wp.max_speed or math.inf)
        speed = max(min(cap, cfg.gain * dist), min(cfg.min_speed, cap))
        # Do not overshoot within one step (the executor's response lags a little).
        speed = min(speed, dist * cfg.rate_hz)
        want = offset / dist * speed
        change = want - self.velocity
        step = float(np.linalg.norm(change))
        if step > cfg.max_speed_change:
            want = self.velocity + change * (cfg.max_speed_change / step)
        self.velocity = want
        twist = np.concatenate([want, angular])
        return ExpertAction(self._normalize(twist), self.gripper, False, wp.label)

    def _gripper_ready(self, wp: Waypoint, width: float) -> bool:
        """Commands the waypoint's gripper state; True once it has taken effect."""
        cfg = self.config
        if wp.gripper is None or (wp.gripper == self.gripper and self.waiting == 0
                                  and self._settled_state(wp.gripper, width)):
            return True
        if wp.gripper == "close":
            self.frozen = True  # from here on the plan no longer follows the objects
        self.gripper = wp.gripper
        self.waiting += 1
        moved = math.inf if self.last_width is None else abs(width - self.last_width)
        self.last_width = width
        if self.waiting >= cfg.max_wait_steps:
            return True
        if self.waiting < cfg.min_wait_steps:
            return False
        if wp.gripper == "open":
            return width >= cfg.open_width
        return moved < cfg.settle_width

    def _settled_state(self, command: GripperCommand, width: float) -> bool:
        return width >= self.config.open_width if command == "open" else False

    def _angular(self, rot: np.ndarray) -> np.ndarray:
        cfg = self.config
        assert self.reference_rotation is not None
        w = cfg.rotation_gain * rotation_vector(self.reference_rotation @ rot.T)
        n = float(np.linalg.norm(w))
        return w * (cfg.max_rotation_speed / n) if n > cfg.max_rotation_speed else w

    def _normalize(self, twist: np.ndarray) -> np.ndarray:
        return np.clip(self.config.scale.from_twist(twist), -1.0, 1.0)


def correction_actions(primitive: str, steps: int, speed: float = 1.0) -> np.ndarray:
    """(steps, 6) normalized actions holding ``primitive`` at ``speed`` (0..1 of full scale)."""
    if primitive not in PRIMITIVES:
        raise KeyError(f"unknown correction primitive {primitive!r}; known: "
                       f"{', '.join(PRIMITIVES)}")
    if not (0.0 < speed <= 1.0) or steps < 1:
        raise ValueError(f"need 0 < speed <= 1 and steps >= 1, got {speed}, {steps}")
    return np.tile(PRIMITIVES[primitive].twist * speed, (int(steps), 1))


def plan_correction(primitive: str, ee_position: np.ndarray, rng: np.random.Generator,
                    rate_hz: float = 10.0, scale: ActionScale = ActionScale(),
                    box_min: tuple[float, float, float] = (0.25, -0.45, 0.04),
                    box_max: tuple[float, float, float] = (0.78, 0.45, 0.5),
                    ) -> tuple[int, float] | None:
    """Steps (10-20 at 10 Hz) and speed for a correction segment from ``ee_position`` that keeps
    a linear primitive inside ``box`` (well inside the executor's workspace, so the label is what
    the arm really does); None when not even 1 s at 40 % speed fits."""
    prim = PRIMITIVES[primitive]
    steps = int(rng.integers(round(rate_hz), 2 * round(rate_hz) + 1))
    speed = float(rng.uniform(0.5, 1.0))
    if prim.kind == "rotation":
        return steps, speed
    axis = np.asarray(prim.axis)
    k = int(np.argmax(np.abs(axis)))
    room = (box_max[k] - ee_position[k]) if axis[k] > 0 else (ee_position[k] - box_min[k])
    while room < steps / rate_hz * speed * scale.linear:
        if steps > round(rate_hz):
            steps -= 1
        elif speed > 0.4:
            speed = max(0.4, speed - 0.1)
        else:
            return None
    return steps, speed
