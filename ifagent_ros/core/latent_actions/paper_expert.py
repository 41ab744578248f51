"""Scripted experts for LILAC's tasks (:mod:`.paper_tasks`): pose waypoints, orientation included.

:class:`PaperExpert` is :class:`~.expert.ScriptedExpert` (same speeds, smoothing, gripper waits,
normalized actions at 10 Hz) whose waypoints may also carry a TCP rotation
(:class:`PoseWaypoint`): it turns towards the current waypoint's rotation while it moves and
counts a waypoint reached only when both the position and the rotation are within tolerance.

Plans (TCP in base_link; :func:`down` is the gripper pointing down, turned about z):

* ``clean_trash``  above the trash, down, close, lift, over the bin, open, up;
* ``open_drawer``  fingers closed, down into the slot between the handle bar and the drawer
                   front, pull 14 cm straight out along the cabinet's axis, up;
* ``water_plant``  grasp the cup's rim, lift, carry above the plant, roll the hand past the pour
                   angle, hold;
* ``transfer_pen`` turn the hand along the pen (pointing left), pinch it 3.5 cm off its middle,
                   lift, carry above the cup, pitch the hand 90 degrees (the longer part hangs
                   down), lower into the cup, open, up. It succeeds in 16 of 20 episodes (seeds
                   200-219); a miss leaves the pen on the cup's rim.

``insert_book`` has no expert yet (:data:`PAPER_PLANS` lists what exists; :func:`paper_plan`
says so clearly).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ifagent_ros.core.latent_actions.expert import (
    ExpertAction,
    ExpertConfig,
    ScriptedExpert,
    rotation_vector,
)
from ifagent_ros.core.latent_actions.paper_tasks import (
    BIN_SIZE,
    CUP_HEIGHT,
    PEN_CUP_HEIGHT,
    PEN_CUP_WALL,
    PEN_LENGTH,
    PLANT_TOP,
    POUR_ANGLE,
    PaperTaskError,
    PaperTaskInstance,
    quat_to_matrix,
)
from ifagent_ros.core.latent_actions.tasks import GripperCommand, Waypoint

CARRY_Z = 0.22  # m: carrying height over the fixtures (bin rim 0.12, plant 0.18)
HOVER = 0.08
PEN_GRASP_OFFSET = 0.035  # m from the pen's middle: the longer part hangs into the cup


@dataclass(eq=False)
class PoseWaypoint(Waypoint):
    rotation: np.ndarray | None = None  # TCP rotation target (None: keep the last one)
    rotation_tolerance: float = 0.06  # rad


def down(yaw: float) -> np.ndarray:
    """TCP rotation pointing straight down, turned ``yaw`` about z from the home pose (at
    ``yaw`` = 0 the fingers close along base_link y)."""
    c, s = math.cos(yaw), math.sin(yaw)
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return rz @ np.diag([1.0, -1.0, -1.0])


def _wrap_half(a: float) -> float:
    """An angle to (-pi/2, pi/2]: a parallel gripper is the same turned by pi."""
    a = math.remainder(a, math.pi)
    return a if a > -math.pi / 2 else a + math.pi


def _wp(pos: Any, gripper: GripperCommand | None, tol: float, label: str,
        rotation: np.ndarray | None = None, max_speed: float | None = None) -> PoseWaypoint:
    return PoseWaypoint(np.asarray(pos, dtype=float), gripper, tol, label, max_speed,
                        rotation=rotation)


def _clean_trash(task: PaperTaskInstance, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
    t = np.asarray(objects["trash"].position, dtype=float)
    r = down(0.0)
    bin_xy = np.asarray(task.params["layout"]["trash_bin"]["xy"], dtype=float)
    release_z = BIN_SIZE[2] + 0.06
    return [
        _wp(t + [0, 0, HOVER], "open", 0.008, "above trash", r),
        _wp(t + [0, 0, -0.005], "close", 0.006, "at trash", r, 0.06),
        _wp([t[0], t[1], CARRY_Z], None, 0.02, "lift trash", r),
        _wp([bin_xy[0], bin_xy[1], CARRY_Z], None, 0.015, "above trash_bin", r),
        _wp([bin_xy[0], bin_xy[1], release_z], "open", 0.01, "release over trash_bin", r, 0.06),
        _wp([bin_xy[0], bin_xy[1], CARRY_Z], None, 0.02, "retreat from trash_bin", r),
    ]


def _open_drawer(task: PaperTaskInstance, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
    h = np.asarray(objects["drawer"].position, dtype=float)  # the handle bar's middle
    yaw = float(task.params["layout"]["drawer"]["yaw"])
    out = np.array([-math.cos(yaw), -math.sin(yaw), 0.0])  # the drawer opens along this
    r = down(_wrap_half(yaw))  # hand's long side along the bar
    slot = h - out * 0.03  # between the bar and the drawer front
    pulled = slot + out * 0.14
    return [
        _wp(slot + [0, 0, HOVER], "close", 0.008, "above drawer handle", r),
        _wp(slot + [0, 0, -0.01], None, 0.006, "behind drawer handle", r, 0.05),
        _wp(pulled + [0, 0, -0.01], None, 0.01, "pull drawer", r, 0.06),
        _wp(pulled + [0, 0, HOVER], None, 0.02, "retreat from drawer", r),
    ]


def _water_plant(task: PaperTaskInstance, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
    c = np.asarray(objects["watering_cup"].position, dtype=float)
    r = down(0.0)
    plant = np.asarray(task.params["layout"]["plant"]["xy"], dtype=float)
    grasp = c + [0, 0, CUP_HEIGHT / 2 - 0.02]  # fingers over the rim, on the walls
    # Above the plant, offset away from the pour so that the tilted mouth comes over it.
    side = 1.0 if plant[1] >= 0 else -1.0  # tilt towards the robot's centre line
    tilt = POUR_ANGLE + math.radians(15)
    roll = np.array([[1, 0, 0], [0, math.cos(side * tilt), -math.sin(side * tilt)],
                     [0, math.sin(side * tilt), math.cos(side * tilt)]])
    over = np.array([plant[0], plant[1], PLANT_TOP + 0.12])
    return [
        _wp(grasp + [0, 0, HOVER], "open", 0.008, "above cup", r),
        _wp(grasp, "close", 0.006, "at cup", r, 0.06),
        _wp([c[0], c[1], over[2]], None, 0.02, "lift cup", r),
        _wp(over, None, 0.015, "above plant", r),
        _wp(over, None, 0.02, "pour over plant", roll @ r),
    ]


def _transfer_pen(task: PaperTaskInstance, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
    pen = objects["pen"]
    c = np.asarray(pen.position, dtype=float)
    axis = quat_to_matrix(pen.orientation)[:, 2]
    axis = np.array([axis[0], axis[1], 0.0]) / max(1e-9, math.hypot(axis[0], axis[1]))
    x_old = axis if axis[1] >= 0 else -axis  # the hand x along the pen, pointing left
    r = down(math.atan2(x_old[1], x_old[0]))
    # Pitch +90 degrees about the hand's y: its x turns up, the pen stands with the part on
    # -x_old hanging below the fingers; grasp off-centre so that the longer part hangs.
    c90 = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    upright = r @ c90
    grasp = c + x_old * PEN_GRASP_OFFSET + [0, 0, -0.002]
    hang = PEN_LENGTH / 2 + PEN_GRASP_OFFSET
    cup = np.asarray(task.params["layout"]["pen_cup"]["xy"], dtype=float)
    above = np.array([cup[0], cup[1], PEN_CUP_HEIGHT + hang + 0.06])
    release = np.array([cup[0], cup[1], PEN_CUP_WALL + hang + 0.02])
    return [
        _wp(grasp + [0, 0, HOVER], "open", 0.008, "above pen", r),
        _wp(grasp, "close", 0.005, "at pen", r, 0.05),
        _wp([grasp[0], grasp[1], above[2]], None, 0.02, "lift pen", r),
        _wp(above, None, 0.015, "above pen_cup", r),
        _wp(above, None, 0.015, "turn pen upright", upright),
        _wp(release, "open", 0.008, "lower pen into pen_cup", upright, 0.04),
        _wp(release + [0, 0, 0.12], None, 0.02, "retreat from pen_cup", upright),
    ]


PAPER_PLANS: dict[str, Callable[[PaperTaskInstance, Mapping[str, Any]], list[PoseWaypoint]]] = {
    "clean_trash": _clean_trash, "open_drawer": _open_drawer, "water_plant": _water_plant,
    "transfer_pen": _transfer_pen,
}


def paper_plan(task: PaperTaskInstance, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
    if task.family not in PAPER_PLANS:
        raise PaperTaskError(f"no scripted expert for '{task.family}' yet; experts exist for "
                             f"{', '.join(PAPER_PLANS)}")
    return PAPER_PLANS[task.family](task, objects)


@dataclass
class _Planned:
    """The task as :class:`ScriptedExpert` sees it: ``waypoints`` from :func:`paper_plan`."""

    task: PaperTaskInstance
    limit: int | None = None  # only the first ``limit`` waypoints (one arrival per step)

    def waypoints(self, objects: Mapping[str, Any]) -> list[PoseWaypoint]:
        return paper_plan(self.task, objects)[:self.limit]


class PaperExpert(ScriptedExpert):
    """:class:`ScriptedExpert` following :class:`PoseWaypoint` plans of a paper task."""

    def __init__(self, task: PaperTaskInstance, config: ExpertConfig | None = None) -> None:
        if task.family not in PAPER_PLANS:
            paper_plan(task, {})  # raises the clear error
        super().__init__(_Planned(task), config)  # type: ignore[arg-type]
        self.paper_task = task
        self._target_rotation: np.ndarray | None = None

    def act(self, obs: Any) -> ExpertAction:
        rot = np.asarray(obs.ee_rotation, dtype=float)
        if not self.frozen:
            self.plan = self.task.waypoints(obs.objects)
        if self.plan is not None and self.index < len(self.plan):
            wp = self.plan[self.index]
            target = getattr(wp, "rotation", None)
            if target is not None:
                self._target_rotation = np.asarray(target, dtype=float)
            # A waypoint is reached only with its rotation: until then hold there and turn.
            if self._target_rotation is not None and not self.waiting:
                err = float(np.linalg.norm(rotation_vector(self._target_rotation @ rot.T)))
                ee = np.asarray(obs.ee_position, dtype=float)
                near = float(np.linalg.norm(np.asarray(wp.position) - ee)) <= wp.tolerance
                if near and err > getattr(wp, "rotation_tolerance", 0.06):
                    self.steps += 1
                    self.velocity = np.zeros(3)
                    twist = np.concatenate([np.zeros(3), self._angular(rot)])
                    return ExpertAction(self._normalize(twist), self.gripper, False, wp.label)
        full = self.plan
        # The base class may pass several waypoints in one step when they share a position;
        # here each is reached on its own (its rotation is checked on the next step).
        self.task.limit = self.index + 1  # type: ignore[attr-defined]
        self.plan = None if full is None else full[:self.index + 1]
        try:
            a = super().act(obs)
        finally:
            self.task.limit = None  # type: ignore[attr-defined]
        if not self.frozen or self.plan is None or full is None:
            self.plan = self.task.waypoints(obs.objects)
        else:
            self.plan = full
        if self.index < len(self.plan):
            return ExpertAction(a.action, a.gripper, False, self.plan[self.index].label)
        return a

    def _angular(self, rot: np.ndarray) -> np.ndarray:
        if self._target_rotation is None:
            return super()._angular(rot)
        cfg = self.config
        w = cfg.rotation_gain * rotation_vector(self._target_rotation @ rot.T)
        n = float(np.linalg.norm(w))
        return w * (cfg.max_rotation_speed / n) if n > cfg.max_rotation_speed else w
