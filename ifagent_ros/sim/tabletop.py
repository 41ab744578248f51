"""ROS-free PyBullet tabletop world: a Franka Panda, a table and objects from a scene file.

World frame == ``base_link`` == ``panda_link0``: the robot base stands at the origin, the table top
is the plane z = 0. PyBullet runs headless (DIRECT) on a private physics client, so several worlds
can live in one process; every PyBullet call passes ``physicsClientId``.

    sim = TabletopSim(TabletopConfig(scene="tabletop_default.yaml", seed=3))
    sim.set_joint_position_targets(q)   # or set_joint_velocities(qd); set_gripper_width(0.04)
    sim.step(240)
    names, pos, vel, eff = sim.joint_state()
    frame = sim.render_camera()         # rgb, metric depth, K, optical-frame pose
    sim.close()
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pybullet as p
import pybullet_data

from ifagent_ros.core.control.robot_model import PANDA_HOME_Q
from ifagent_ros.core.worlds.scene import (
    ObjectSpec,
    SceneSpec,
    load_scene,
    resolve_scene_path,
    sample_placements,
)
from ifagent_ros.sim.bodies import create_floor, create_object, create_table
from ifagent_ros.sim.camera import CameraConfig, CameraFrame, render
from ifagent_ros.sim.tabletop_domain import DomainConfig, jitter_placements, jitter_rgba
from ifagent_ros.sim.world import PyBulletWorld

ARM_JOINT_NAMES: tuple[str, ...] = tuple(f"panda_joint{i}" for i in range(1, 8))
FINGER_JOINT_NAMES: tuple[str, ...] = ("panda_finger_joint1", "panda_finger_joint2")
EE_LINK_NAME = "panda_grasptarget"
HOME_Q: tuple[float, ...] = PANDA_HOME_Q
MAX_GRIPPER_WIDTH = 0.08
PANDA_URDF = os.path.join(pybullet_data.getDataPath(), "franka_panda", "panda.urdf")
_LIMIT_TOL = 1e-6  # targets exactly on a limit (up to float noise) are accepted


@dataclass
class TabletopConfig:
    scene: str | Path | SceneSpec = "tabletop_default.yaml"  # name in scenes, path or spec
    seed: int | None = None  # None: poses as written; an int: jittered per the scene's randomize
    timestep: float = 1.0 / 240.0
    gravity: float = -9.81
    home_q: tuple[float, ...] = HOME_Q
    gripper_width: float = MAX_GRIPPER_WIDTH  # initial opening
    self_collision: bool = False
    position_gain: float = 0.3  # PyBullet POSITION_CONTROL gains: high enough to track a stream
    velocity_gain: float = 1.0
    gripper_force: float = 20.0  # N per finger (the URDF's effort limit)
    gripper_speed: float = 0.1  # m/s per finger
    camera: CameraConfig = field(default_factory=CameraConfig)
    scene_dirs: tuple[str | Path, ...] = ()  # searched before the repo's scenes
    # Per-episode perturbations (object xy jitter, colours, friction, mass), drawn from ``seed``.
    domain: DomainConfig = field(default_factory=DomainConfig)

    def __post_init__(self) -> None:
        if self.domain.needs_seed and self.seed is None:
            raise ValueError("domain.object_xy_jitter / domain.colour_jitter need a seed >= 0 "
                             "(parameter seed), so that the randomized world is reproducible")
        if not (math.isfinite(self.timestep) and 0.0 < self.timestep <= 0.05):
            raise ValueError(f"timestep must be in (0, 0.05] s, got {self.timestep}")
        if len(self.home_q) != len(ARM_JOINT_NAMES):
            raise ValueError(f"home_q needs {len(ARM_JOINT_NAMES)} values, got {len(self.home_q)}")


@dataclass(frozen=True)
class WorldState:
    """Everything a renderer needs to redraw the world (see ``snapshot``/``apply_snapshot``)."""

    time: float
    joint_positions: tuple[float, ...]  # 7 arm joints then 2 fingers
    object_poses: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]  # (xyz, xyzw)


class JointStateSample(NamedTuple):
    names: list[str]
    positions: np.ndarray
    velocities: np.ndarray
    efforts: np.ndarray


class TabletopSim(PyBulletWorld):
    def __init__(self, config: TabletopConfig | None = None) -> None:
        self.config = config or TabletopConfig()
        cfg = self.config
        if isinstance(cfg.scene, SceneSpec):
            self.scene: SceneSpec = cfg.scene
        else:
            self.scene = load_scene(resolve_scene_path(cfg.scene, cfg.scene_dirs))
        placements = sample_placements(self.scene, cfg.seed)  # validates before connecting
        if cfg.domain.object_xy_jitter > 0.0 and cfg.seed is not None:
            placements = jitter_placements(self.scene, placements, cfg.domain.object_xy_jitter,
                                           cfg.seed)
        self._connect()
        try:
            self._build(placements)
        except Exception:
            self.close()
            raise

    def _build(self, placements: Sequence[Any]) -> None:
        cfg, c = self.config, self.client_id
        p.setGravity(0.0, 0.0, cfg.gravity, physicsClientId=c)
        p.setTimeStep(cfg.timestep, physicsClientId=c)
        p.setPhysicsEngineParameter(deterministicOverlappingPairs=1, physicsClientId=c)
        flags = p.URDF_ENABLE_CACHED_GRAPHICS_SHAPES
        if cfg.self_collision:
            flags |= p.URDF_USE_SELF_COLLISION
        self.robot_id = p.loadURDF(PANDA_URDF, [0.0, 0.0, 0.0], useFixedBase=True, flags=flags,
                                   physicsClientId=c)
        index: dict[str, int] = {}
        links: dict[str, int] = {}
        lower, upper, vmax, fmax = [], [], [], []
        for j in range(p.getNumJoints(self.robot_id, physicsClientId=c)):
            info = p.getJointInfo(self.robot_id, j, physicsClientId=c)
            index[info[1].decode()] = j
            links[info[12].decode()] = j
        for name in ARM_JOINT_NAMES:
            info = p.getJointInfo(self.robot_id, index[name], physicsClientId=c)
            lower.append(info[8])
            upper.append(info[9])
            fmax.append(info[10])
            vmax.append(info[11])
        self._arm_idx = [index[n] for n in ARM_JOINT_NAMES]
        self._finger_idx = [index[n] for n in FINGER_JOINT_NAMES]
        self._ee_link = links[EE_LINK_NAME]
        self.joint_lower = np.array(lower)
        self.joint_upper = np.array(upper)
        self.velocity_limits = np.array(vmax)
        self.effort_limits = np.array(fmax)
        for f in self._finger_idx:  # grippy fingertips so grasped blocks do not slide out
            p.changeDynamics(self.robot_id, f, lateralFriction=1.5, spinningFriction=0.01,
                             physicsClientId=c)
        self.table_id = create_table(self.scene.table, c)
        self.floor_id = create_floor(-self.scene.table.height, c)
        self.object_ids: list[int] = [create_object(o, pl, c)
                                      for o, pl in zip(self._rendered_objects(), placements,
                                                       strict=True)]
        self._scale_dynamics()
        self.reset_arm(cfg.home_q, cfg.gripper_width)

    def _rendered_objects(self) -> list[ObjectSpec]:
        """The scene's objects as built: colours jittered (``domain.colour_jitter``); the colour
        *name* (ground truth) stays. ``self.scene`` keeps the file's values."""
        objs, jitter = self.scene.objects, self.config.domain.colour_jitter
        if jitter == 0.0 or self.config.seed is None:
            return list(objs)
        rgbas = jitter_rgba([o.color.rgba for o in objs], jitter, self.config.seed)
        return [o.model_copy(update={"color": o.color.model_copy(update={"rgba": rgba})})
                for o, rgba in zip(objs, rgbas, strict=True)]

    def _scale_dynamics(self) -> None:
        d, c = self.config.domain, self.client_id
        if d.friction_scale == 1.0 and d.mass_scale == 1.0:
            return  # leave PyBullet's values untouched: defaults behave exactly as before
        for body in self.object_ids:
            mass, friction = p.getDynamicsInfo(body, -1, physicsClientId=c)[:2]
            p.changeDynamics(body, -1, mass=mass * d.mass_scale,
                             lateralFriction=friction * d.friction_scale, physicsClientId=c)

    # ---- basics -------------------------------------------------------------------------
    @property
    def joint_names(self) -> list[str]:
        return [*ARM_JOINT_NAMES, *FINGER_JOINT_NAMES]

    def step(self, n: int = 1) -> None:
        for _ in range(int(n)):
            p.stepSimulation(physicsClientId=self.client_id)
            self._steps += 1

    # ---- arm and gripper commands ---------------------------------------------------------
    def _vector(self, values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
        try:
            v = np.asarray(values, dtype=float).reshape(-1)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{what}: not a numeric vector ({err})") from None
        if v.shape != (len(ARM_JOINT_NAMES),):
            raise ValueError(f"{what}: expected {len(ARM_JOINT_NAMES)} values, got {v.size}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{what}: contains NaN or inf: {v.tolist()}")
        return v

    def check_positions(self, q: Sequence[float] | np.ndarray, what: str = "q") -> np.ndarray:
        """Validated copy of a 7-vector of joint positions; ValueError names the bad joint."""
        v = self._vector(q, what)
        bad = (v < self.joint_lower - _LIMIT_TOL) | (v > self.joint_upper + _LIMIT_TOL)
        if np.any(bad):
            j = int(np.argmax(bad))
            raise ValueError(f"{what}: {ARM_JOINT_NAMES[j]} = {v[j]:.4f} outside its limits "
                             f"[{self.joint_lower[j]:.4f}, {self.joint_upper[j]:.4f}]")
        return v

    def check_velocities(self, qd: Sequence[float] | np.ndarray, what: str = "qd") -> np.ndarray:
        v = self._vector(qd, what)
        bad = np.abs(v) > self.velocity_limits + _LIMIT_TOL
        if np.any(bad):
            j = int(np.argmax(bad))
            raise ValueError(f"{what}: {ARM_JOINT_NAMES[j]} velocity {v[j]:.4f} exceeds "
                             f"{self.velocity_limits[j]:.4f} rad/s")
        return v

    def set_joint_position_targets(self, q: Sequence[float] | np.ndarray,
                                   qd: Sequence[float] | np.ndarray | None = None) -> None:
        """Position control towards ``q`` with velocity feed-forward ``qd`` (clipped to limits).

        Raises ValueError (and leaves the previous command in force) for a wrong length, NaN/inf
        or a target outside the URDF joint limits.
        """
        q = self.check_positions(q)
        ff = np.zeros_like(q) if qd is None else self._vector(qd, "qd")
        ff = np.clip(ff, -self.velocity_limits, self.velocity_limits)
        # Per joint (not the array call) because only this one honours maxVelocity.
        for j, qj, vj, fj, vmax in zip(self._arm_idx, q, ff, self.effort_limits,
                                       self.velocity_limits, strict=True):
            p.setJointMotorControl2(
                self.robot_id, j, p.POSITION_CONTROL, targetPosition=float(qj),
                targetVelocity=float(vj), force=float(fj), maxVelocity=float(vmax),
                positionGain=self.config.position_gain, velocityGain=self.config.velocity_gain,
                physicsClientId=self.client_id)

    def set_joint_velocities(self, qd: Sequence[float] | np.ndarray) -> None:
        """Velocity control; rejects wrong length, NaN/inf and speeds beyond the URDF limits."""
        qd = self.check_velocities(qd)
        p.setJointMotorControlArray(
            self.robot_id, self._arm_idx, p.VELOCITY_CONTROL, targetVelocities=qd.tolist(),
            forces=self.effort_limits.tolist(), physicsClientId=self.client_id)

    def hold_position(self) -> None:
        """Hold the arm where it is now (what a controller does on stale or bad input)."""
        self.set_joint_position_targets(np.clip(self.arm_positions(), self.joint_lower,
                                                self.joint_upper))

    def set_gripper_width(self, width: float) -> float:
        """Command the finger opening (each finger width/2); returns the width after clipping."""
        w = float(width)
        if not math.isfinite(w):
            raise ValueError(f"gripper width must be finite, got {width}")
        w = min(max(w, 0.0), MAX_GRIPPER_WIDTH)
        for f in self._finger_idx:
            p.setJointMotorControl2(self.robot_id, f, p.POSITION_CONTROL, targetPosition=w / 2.0,
                                    force=self.config.gripper_force,
                                    maxVelocity=self.config.gripper_speed,
                                    physicsClientId=self.client_id)
        return w

    def reset_arm(self, q: Sequence[float] | np.ndarray,
                  gripper_width: float | None = None) -> None:
        """Teleport the arm to ``q`` (zero velocity) and hold it there."""
        qv = self.check_positions(q)
        w = MAX_GRIPPER_WIDTH if gripper_width is None else float(gripper_width)
        for j, qj in zip(self._arm_idx, qv, strict=True):
            p.resetJointState(self.robot_id, j, float(qj), 0.0, physicsClientId=self.client_id)
        w = self.set_gripper_width(w)
        for f in self._finger_idx:
            p.resetJointState(self.robot_id, f, w / 2.0, 0.0, physicsClientId=self.client_id)
        self.set_joint_position_targets(qv)

    # ---- state ----------------------------------------------------------------------------
    def joint_state(self) -> JointStateSample:
        """Arm joints panda_joint1..7 then the two finger joints (metres)."""
        states = p.getJointStates(self.robot_id, self._arm_idx + self._finger_idx,
                                  physicsClientId=self.client_id)
        return JointStateSample(self.joint_names, np.array([s[0] for s in states]),
                                np.array([s[1] for s in states]),
                                np.array([s[3] for s in states]))

    def arm_positions(self) -> np.ndarray:
        states = p.getJointStates(self.robot_id, self._arm_idx, physicsClientId=self.client_id)
        return np.array([s[0] for s in states])

    def gripper_width(self) -> float:
        states = p.getJointStates(self.robot_id, self._finger_idx, physicsClientId=self.client_id)
        return float(states[0][0] + states[1][0])

    def ee_position(self) -> np.ndarray:
        """Position of ``panda_grasptarget`` (the TCP) in base_link."""
        return np.array(self.ee_pose()[0])

    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """TCP position and quaternion (x, y, z, w) in base_link."""
        s = p.getLinkState(self.robot_id, self._ee_link, computeForwardKinematics=True,
                           physicsClientId=self.client_id)
        return np.array(s[4]), np.array(s[5])

    def object_poses(self) -> list[dict[str, Any]]:
        """Current object poses as dicts matching ``core.schemas.ObjectPose``."""
        out = []
        for obj, body in zip(self.scene.objects, self.object_ids, strict=True):
            pos, orn = p.getBasePositionAndOrientation(body, physicsClientId=self.client_id)
            out.append({"id": obj.id, "label": obj.label, "color": obj.color.name,
                        "position": tuple(pos), "orientation": tuple(orn),
                        "size": tuple(obj.size)})
        return out

    def object_body_id(self, object_id: str) -> int:
        for obj, body in zip(self.scene.objects, self.object_ids, strict=True):
            if obj.id == object_id:
                return body
        raise KeyError(f"no object {object_id!r} in scene '{self.scene.name}'")

    def set_object_pose(self, object_id: str, position: Sequence[float], yaw: float) -> None:
        """Teleport one object (at rest) to ``position`` (bounding-box centre) and ``yaw``."""
        pos = [float(v) for v in position]
        if len(pos) != 3 or not all(math.isfinite(v) for v in [*pos, yaw]):
            raise ValueError(f"object pose must be 3 finite values and a finite yaw, got {pos}")
        body = self.object_body_id(object_id)
        p.resetBasePositionAndOrientation(body, pos, p.getQuaternionFromEuler([0.0, 0.0, yaw]),
                                          physicsClientId=self.client_id)
        p.resetBaseVelocity(body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                            physicsClientId=self.client_id)

    def snapshot(self) -> WorldState:
        c = self.client_id
        poses = tuple(p.getBasePositionAndOrientation(b, physicsClientId=c)
                      for b in self.object_ids)
        return WorldState(self.time, tuple(self.joint_state().positions.tolist()), poses)

    def apply_snapshot(self, state: WorldState) -> None:
        """Teleport robot and objects to ``state`` (for a render-only copy of the world)."""
        c = self.client_id
        for j, qj in zip(self._arm_idx + self._finger_idx, state.joint_positions, strict=True):
            p.resetJointState(self.robot_id, j, qj, 0.0, physicsClientId=c)
        for body, (pos, orn) in zip(self.object_ids, state.object_poses, strict=True):
            p.resetBasePositionAndOrientation(body, pos, orn, physicsClientId=c)
        self._steps = round(state.time / self.config.timestep)

    # ---- camera ---------------------------------------------------------------------------
    def render_camera(self, camera: CameraConfig | None = None) -> CameraFrame:
        """Render RGB + metric depth now (the expensive call: only when a frame is wanted)."""
        body_to_object = {b: i for i, b in enumerate(self.object_ids)}
        return render(camera or self.config.camera, self.client_id, body_to_object, self.time)
