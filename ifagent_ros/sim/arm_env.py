"""Headless tabletop arm driven by end-effector twists through the project's real executor.

Every twist passes :class:`~ifagent_ros.core.control.executor_core.ExecutorCore` (the executor
node's logic: twist -> damped least squares -> the one safety filter) at ``control_rate_hz``;
its reference goes to PyBullet position control exactly as ``sim_node`` applies the executor's
trajectory points. So demonstrations, the simulated user and the evaluation see the same limits,
workspace box and interventions as the robot. No ROS, no real-time pacing: as fast as the CPU
allows.

    with TabletopArmEnv() as env:
        obs = env.reset(seed=3)
        info = env.step(np.array([0.05, 0, 0, 0, 0, 0]), gripper="close", duration=0.1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pybullet as p

from ifagent_ros.core.control.executor_core import ExecutorConfig, ExecutorCore
from ifagent_ros.core.control.kinematics import ArmKinematics
from ifagent_ros.core.control.robot_model import PANDA_HOME_Q
from ifagent_ros.core.control.safety_filter import SafetyLimits
from ifagent_ros.core.latent_actions.expert import rotation_vector
from ifagent_ros.core.latent_actions.state import DEFAULT_OBJECT_IDS, build_state
from ifagent_ros.core.latent_actions.tasks import ArmObservation, ObjectState
from ifagent_ros.core.worlds.scene import SceneSpec, load_scene, resolve_scene_path
from ifagent_ros.sim.tabletop import MAX_GRIPPER_WIDTH, TabletopConfig, TabletopSim

__all__ = ["ArmEnvConfig", "ArmObservation", "ObjectState", "StepInfo", "TabletopArmEnv"]

GRIPPER_WIDTHS = {"open": MAX_GRIPPER_WIDTH, "close": 0.0}


@dataclass(frozen=True)
class ArmEnvConfig:
    scene: str | Path = "tabletop_default.yaml"
    xy_jitter: float | None = None  # object placement jitter (m); None: the scene's randomize.xy
    physics_rate_hz: float = 200.0  # a multiple of control_rate_hz keeps ticks aligned
    control_rate_hz: float = 100.0
    object_sleep_threshold: float = 0.005  # m/s and rad/s; 0 keeps every object awake
    home_q: tuple[float, ...] = PANDA_HOME_Q
    # The executor as config/sim.yaml's executor_node section sets it (deadman off: no gamepad).
    max_linear_speed: float = 0.25
    max_angular_speed: float = 1.0
    watchdog_timeout_s: float = 0.1
    max_tracking_error: float = 0.15
    limits: SafetyLimits = field(default_factory=lambda: SafetyLimits(
        position_margin=0.05, velocity_scale=0.5, acceleration_scale=0.5,
        workspace_min=(0.15, -0.6, 0.0), workspace_max=(0.85, 0.6, 0.8)))

    def executor_config(self) -> ExecutorConfig:
        return ExecutorConfig(
            control_rate_hz=self.control_rate_hz, require_deadman=False,
            watchdog_timeout_s=self.watchdog_timeout_s, max_linear_speed=self.max_linear_speed,
            max_angular_speed=self.max_angular_speed, max_tracking_error=self.max_tracking_error,
            limits=self.limits)


@dataclass
class StepInfo:
    interventions: dict[str, int]  # safety-filter interventions during this step, by limit
    rejected: str | None  # why the twist or gripper command was refused (the arm then brakes)
    max_joint_speed_ratio: float  # peak measured |qd| / the executor's velocity limit
    mode: str  # executor mode at the end: moving | braking | idle | ...
    ticks: int = 0


class TabletopArmEnv:
    def __init__(self, config: ArmEnvConfig | None = None) -> None:
        self.config = cfg = config or ArmEnvConfig()
        ratio = cfg.physics_rate_hz / cfg.control_rate_hz
        if not (cfg.control_rate_hz > 0 and ratio >= 1 and abs(ratio - round(ratio)) < 1e-9):
            raise ValueError(f"physics_rate_hz ({cfg.physics_rate_hz}) must be a whole multiple "
                             f"of control_rate_hz ({cfg.control_rate_hz})")
        self._substeps = round(ratio)
        scene = load_scene(resolve_scene_path(cfg.scene))
        if cfg.xy_jitter is not None:
            scene = scene.model_copy(update={"randomize": scene.randomize.model_copy(
                update={"xy": float(cfg.xy_jitter)})})
        self.scene: SceneSpec = scene
        self.kin = ArmKinematics()
        self._specs = {o.id: o for o in scene.objects}
        self.object_ids: tuple[str, ...] = tuple(o.id for o in scene.objects)
        self._vmax = np.zeros(7)
        self._simulated_before = 0.0
        self.seed: int | None = None
        self.sim = self._build(None)
        lo, hi = np.asarray(cfg.limits.position_lower), np.asarray(cfg.limits.position_upper)
        if np.any(lo < self.sim.joint_lower) or np.any(hi > self.sim.joint_upper):
            self.sim.close()  # the filter could then command targets the simulator rejects
            raise ValueError(f"executor position limits {lo.tolist()} .. {hi.tolist()} reach "
                             f"outside the URDF's {self.sim.joint_lower.tolist()} .. "
                             f"{self.sim.joint_upper.tolist()}")
        self.executor = self._new_executor()

    # ---- lifecycle ------------------------------------------------------------------------
    def _build(self, seed: int | None) -> TabletopSim:
        cfg = self.config
        sim = TabletopSim(TabletopConfig(scene=self.scene, seed=seed, home_q=tuple(cfg.home_q),
                                         timestep=1.0 / cfg.physics_rate_hz))
        if cfg.object_sleep_threshold > 0:
            # Objects at rest sleep (about half the physics cost of a step goes to their table
            # contacts); contact with the arm or another moving body wakes them.
            for body in sim.object_ids:
                p.changeDynamics(body, -1, activationState=p.ACTIVATION_STATE_ENABLE_SLEEPING,
                                 sleepThreshold=cfg.object_sleep_threshold,
                                 physicsClientId=sim.client_id)
        return sim

    def _new_executor(self) -> ExecutorCore:
        core = ExecutorCore(self.config.executor_config(), self.kin)
        self._vmax = core.filter.vmax.copy()
        return core

    @property
    def simulated_s(self) -> float:
        """Simulated seconds over every episode of this env (for real-time factors)."""
        return self._simulated_before + self.sim.time

    def reset(self, seed: int | None = None, q: np.ndarray | None = None,
              gripper: str = "open") -> ArmObservation:
        """A fresh world: objects placed from ``seed`` (None: the scene's written poses), arm at
        home (or at ``q``), gripper ``open``/``close``, a new executor at rest.

        The world is rebuilt (~0.1 s) rather than teleported back: PyBullet keeps contact
        caches across teleports, so only a rebuild makes an episode a function of its seed and
        actions alone."""
        if gripper not in GRIPPER_WIDTHS:
            raise ValueError(f"gripper must be 'open' or 'close', got {gripper!r}")
        sim = self._build(seed)  # validates the seed's placement before dropping the old world
        if q is not None or gripper != "open":
            try:
                sim.reset_arm(np.asarray(self.config.home_q if q is None else q, dtype=float),
                              GRIPPER_WIDTHS[gripper])
            except ValueError:
                sim.close()
                raise
        self._simulated_before += self.sim.time
        self.sim.close()
        self.sim = sim
        self.executor = self._new_executor()
        self.seed = seed
        return self.observe()

    def close(self) -> None:
        self.sim.close()

    def __enter__(self) -> TabletopArmEnv:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ---- observation ----------------------------------------------------------------------
    def observe(self) -> ArmObservation:
        q = self.sim.arm_positions()
        pos, rot = self.kin.ee_pose(q)
        c = self.sim.client_id
        objects: dict[str, ObjectState] = {}
        for oid in self.object_ids:
            spec = self._specs[oid]
            xyz, quat = p.getBasePositionAndOrientation(self.sim.object_body_id(oid),
                                                        physicsClientId=c)
            x, y, z, w = quat
            yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
            objects[oid] = ObjectState(oid, spec.label, spec.color.name, np.array(xyz), yaw,
                                       tuple(float(s) for s in spec.size))  # type: ignore[arg-type]
        return ArmObservation(time=self.sim.time, q=q, ee_position=pos,
                              ee_rotation=rot, gripper_width=self.sim.gripper_width(),
                              objects=objects)

    def state_vector(self, obs: ArmObservation,
                     object_ids: tuple[str, ...] = DEFAULT_OBJECT_IDS) -> np.ndarray:
        """The latent-action models' state vector (``core.latent_actions.state``)."""
        return build_state(obs.q, obs.ee_position, obs.ee_rotation, obs.gripper_width,
                           {k: o.position for k, o in obs.objects.items()}, object_ids)

    def object_poses(self) -> list[dict[str, Any]]:
        """Ground-truth poses as ``sim_node`` publishes them (``core.schemas.ObjectPose``)."""
        return self.sim.object_poses()

    def ik(self, position: np.ndarray, rotation: np.ndarray | None = None,
           q0: np.ndarray | None = None, iters: int = 200) -> np.ndarray | None:
        """Joint positions placing the TCP at ``position`` (and ``rotation``; default: pointing
        down as at home), or None when damped least squares does not converge inside the
        limits."""
        q = np.asarray(self.config.home_q if q0 is None else q0, dtype=float).copy()
        target_r = self.kin.ee_pose(np.asarray(self.config.home_q))[1] if rotation is None \
            else np.asarray(rotation, dtype=float)
        lim = self.config.limits
        lo = np.asarray(lim.position_lower) + lim.position_margin
        hi = np.asarray(lim.position_upper) - lim.position_margin
        for _ in range(iters):
            pos, rot = self.kin.ee_pose(q)
            err = np.concatenate([np.asarray(position) - pos, rotation_vector(target_r @ rot.T)])
            if np.linalg.norm(err[:3]) < 1e-4 and np.linalg.norm(err[3:]) < 1e-3:
                return q
            qd, _ = self.kin.twist_to_joint_velocity(q, err)
            q = np.clip(q + qd, lo, hi)
        return None

    # ---- stepping -------------------------------------------------------------------------
    def step(self, twist: Any, gripper: str | None = None, duration: float = 0.1) -> StepInfo:
        """Hold ``twist`` ([vx vy vz wx wy wz], m/s and rad/s, base_link) for ``duration`` sim
        seconds through the executor. Never raises on bad input: a malformed or non-finite twist
        (or an unknown gripper command) is rejected with the reason and the arm brakes."""
        rejected: str | None = None
        try:
            tw = np.asarray(twist, dtype=float).reshape(-1)
        except (TypeError, ValueError) as err:
            tw, rejected = np.full(6, np.nan), f"twist rejected: not numeric ({err})"
        if gripper is not None:
            if gripper in GRIPPER_WIDTHS:
                self.sim.set_gripper_width(GRIPPER_WIDTHS[gripper])
            else:
                rejected = rejected or f"gripper command {gripper!r} is not 'open' or 'close'"
        if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration > 0):
            rejected = rejected or f"duration must be a positive number of seconds, got {duration}"
            duration = 1.0 / self.config.control_rate_hz
        ex = self.executor
        before = dict(ex.interventions)
        ticks = max(1, round(duration * self.config.control_rate_hz))
        peak = 0.0
        mode = ex.last_mode
        q, qd = self._arm_state()
        for _ in range(ticks):
            now = self.sim.time
            ex.on_joint_state(q, now)
            if rejected is None:
                rejected = ex.on_twist(tw, ex.config.frame_id, now, now)
            if rejected is not None:
                ex.command = None  # brake now rather than when the watchdog notices
            out = ex.step(now)
            if out is not None:
                self.sim.set_joint_position_targets(out.q, out.v)
                mode = out.mode
            self.sim.step(self._substeps)
            q, qd = self._arm_state()
            peak = max(peak, float(np.max(np.abs(qd) / self._vmax)))
        after = ex.interventions
        delta = {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}
        return StepInfo(delta, rejected, peak, mode, ticks)

    def _arm_state(self) -> tuple[np.ndarray, np.ndarray]:
        js = self.sim.joint_state()
        return js.positions[:7], js.velocities[:7]

