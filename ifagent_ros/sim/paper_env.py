"""The twist-driven tabletop arm (:class:`~ifagent_ros.sim.arm_env.TabletopArmEnv`) on one of
LILAC's five tasks: same executor, limits and stepping; the world is the task's.

Each ``reset(seed)`` samples a fresh layout and start pose of the task from ``seed``
(:mod:`~ifagent_ros.core.latent_actions.paper_tasks`; ``seed=None``: every range's centre, the
arm at home) and rebuilds the world: the arm and the table of the tabletop simulator with no scene
objects, then the task's objects (:mod:`~ifagent_ros.sim.paper_objects`).

When an object leaves the table the episode ends failed: :meth:`outcome` says so with the
reason, and from then on every :meth:`step` holds the arm still (a zero twist through the
executor, gripper unchanged) and reports the reason as ``StepInfo.rejected``.

    with PaperArmEnv("open_drawer") as env:
        obs = env.reset(seed=3)
        info = env.step(np.array([-0.05, 0, 0, 0, 0, 0]), duration=0.1)
        env.outcome()        # Outcome(status="running" | "success" | "failed", reason)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pybullet as p

from ifagent_ros.core.latent_actions.paper_tasks import (
    TABLE_X,
    TABLE_Y,
    Outcome,
    PaperTaskInstance,
    Split,
    paper_family,
)
from ifagent_ros.core.latent_actions.state import build_state
from ifagent_ros.core.latent_actions.tasks import ArmObservation
from ifagent_ros.core.worlds.scene import SceneSpec, TableSpec
from ifagent_ros.sim.arm_env import ArmEnvConfig, StepInfo, TabletopArmEnv
from ifagent_ros.sim.paper_objects import (
    DRAWER_URDF,
    SHELF_URDF,
    PaperBody,
    read_states,
    spawn_task_objects,
)
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim

__all__ = ["PaperArmEnv"]


class PaperArmEnv(TabletopArmEnv):
    def __init__(self, task: str, config: ArmEnvConfig | None = None, split: Split = "train",
                 drawer_urdf: str | Path = DRAWER_URDF,
                 shelf_urdf: str | Path = SHELF_URDF) -> None:
        self.family = paper_family(task)  # PaperTaskError naming the known tasks
        self.split: Split = split
        self.drawer_urdf, self.shelf_urdf = drawer_urdf, shelf_urdf
        self.task: PaperTaskInstance = self.family.nominal(split)
        self._next_task: PaperTaskInstance | None = None
        self.bodies: dict[str, PaperBody] = {}
        self.failure: str | None = None
        self._start_objects: dict = {}
        super().__init__(config)  # builds the nominal world through _build(None)
        self.scene = self._paper_scene()
        self._specs = {}
        self.object_ids = self.family.objects
        self._after_build()

    def _paper_scene(self) -> SceneSpec:
        return SceneSpec(name=f"paper_{self.family.name}", table=TableSpec(x=TABLE_X, y=TABLE_Y),
                         objects=[])

    # ---- lifecycle ------------------------------------------------------------------------
    def _build(self, seed: int | None) -> TabletopSim:
        if self._next_task is not None:
            task, self._next_task = self._next_task, None
        elif seed is None:
            task = self.family.nominal(self.split)
        else:
            task = self.family.sample(np.random.default_rng(seed), self.split)
        cfg = self.config
        sim = TabletopSim(TabletopConfig(scene=self._paper_scene(),
                                         home_q=tuple(task.params["start_q"]),
                                         timestep=1.0 / cfg.physics_rate_hz))
        try:
            bodies = spawn_task_objects(task.family, task.params, sim.client_id,
                                        self.drawer_urdf, self.shelf_urdf)
        except Exception:
            sim.close()
            raise
        if cfg.object_sleep_threshold > 0:
            for b in bodies.values():
                if b.movable:
                    p.changeDynamics(b.body, -1,
                                     activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING,
                                     sleepThreshold=cfg.object_sleep_threshold,
                                     physicsClientId=sim.client_id)
        self.task, self.bodies = task, bodies
        return sim

    def _after_build(self) -> None:
        self.failure = None
        self._start_objects = read_states(self.bodies, self.sim.client_id)

    def reset(self, seed: int | None = None, q: np.ndarray | None = None,
              gripper: str = "open") -> ArmObservation:
        """A fresh world with the task sampled from ``seed`` (see the module docstring); the arm
        at the task's start pose unless ``q`` is given."""
        obs = super().reset(seed, q, gripper)
        if q is None and gripper != "open":  # the base class put the arm at home: undo that
            self.sim.reset_arm(np.asarray(self.task.params["start_q"]), 0.0)
            self.executor = self._new_executor()
            obs = self.observe()
        self._after_build()
        return obs

    def reset_task(self, task: PaperTaskInstance, q: np.ndarray | None = None,
                   gripper: str = "open") -> ArmObservation:
        """A fresh world laid out as ``task`` (of this env's family) says."""
        if task.family != self.family.name:
            raise ValueError(f"this env runs '{self.family.name}', not '{task.family}'")
        self._next_task = task
        try:
            return self.reset(None, q, gripper)
        finally:
            self._next_task = None

    # ---- observation ----------------------------------------------------------------------
    def observe(self) -> ArmObservation:
        q = self.sim.arm_positions()
        pos, rot = self.kin.ee_pose(q)
        return ArmObservation(time=self.sim.time, q=q, ee_position=pos, ee_rotation=rot,
                              gripper_width=self.sim.gripper_width(),
                              objects=dict(read_states(self.bodies, self.sim.client_id)))

    def state_vector(self, obs: ArmObservation,
                     object_ids: tuple[str, ...] | None = None) -> np.ndarray:
        ids = self.object_ids if object_ids is None else object_ids
        return build_state(obs.q, obs.ee_position, obs.ee_rotation, obs.gripper_width,
                           {k: o.position for k, o in obs.objects.items()}, ids)

    def object_poses(self) -> list[dict]:
        return [{"id": oid, "label": o.label, "color": o.color,
                 "position": tuple(o.position.tolist()),
                 "orientation": tuple(o.orientation.tolist()), "size": tuple(o.size)}
                for oid, o in read_states(self.bodies, self.sim.client_id).items()]

    def outcome(self, obs: ArmObservation | None = None) -> Outcome:
        """The task's outcome now: success, running, or failed (an object left the table)."""
        if self.failure is not None:
            return Outcome("failed", self.failure)
        obs = obs or self.observe()
        return self.task.outcome(obs.objects, self._start_objects, obs.gripper_width,
                                 obs.ee_position)

    # ---- stepping -------------------------------------------------------------------------
    def step(self, twist: object, gripper: str | None = None, duration: float = 0.1) -> StepInfo:
        """:meth:`TabletopArmEnv.step`; once an object has left the table the arm holds still
        (zero twist, gripper unchanged) and ``rejected`` carries the reason."""
        if self.failure is not None:
            info = super().step(np.zeros(6), None, duration)
            info.rejected = self.failure
            return info
        info = super().step(twist, gripper, duration)
        out = self.outcome()
        if out.status == "failed":
            self.failure = out.reason
            self.executor.command = None  # brake now, then hold
            info.rejected = info.rejected or out.reason
        return info
