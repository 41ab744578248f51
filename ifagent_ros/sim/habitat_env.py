"""Habitat backend: habitat-sim behind the same interface as the PyBullet house
(:class:`ifagent_ros.sim.house_sim.HouseSim`): ``set_cmd_vel``, ``stop``, ``step``, ``odom``,
``base_pose``, ``base_velocity``, ``reset_base``, ``render_camera``, ``contacts``, ``collides``,
``time``, ``close``; plus Habitat's discrete actions (``act("move_forward")``) and navmesh
queries (``geodesic_distance``, ``shortest_path``, ``snap``, ``is_navigable``).

Built only on habitat-sim's documented API: a ``habitat_sim.Simulator`` made from a
``habitat_sim.Configuration`` of a ``SimulatorConfiguration`` and one ``AgentConfiguration`` with
RGB and depth ``CameraSensorSpec``s and the discrete actions ``move_forward`` / ``turn_left`` /
``turn_right`` (``ActionSpec`` + ``ActuationSpec``); velocity control integrates a
``habitat_sim.physics.VelocityControl`` over each step and keeps the agent on the navmesh with
``Simulator.step_filter`` (a shortened step is a collision); distances come from
``pathfinder.find_path`` with a ``habitat_sim.ShortestPath``.

habitat-sim has no PyPI wheel for Linux / Python 3.11 (it is installed with conda), so it is
imported only when a :class:`HabitatSim` is created, with a clear error when it is missing. The
configuration logic (:func:`sim_settings`) and the frame conversions are plain Python and are
tested without it.

Frames: Habitat is y-up with the agent looking along -z; here, as in the house, x/y are the
floor plane of ``map`` (``x_map = x_hab``, ``y_map = -z_hab``) and yaw is counter-clockwise from
+x (``yaw = theta_hab + pi/2`` for a rotation ``theta_hab`` about Habitat's +y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.sim.base_command import BaseDriveConfig, CmdVelLimiter
from ifagent_ros.sim.camera import CameraFrame, rotation_to_quaternion
from ifagent_ros.sim.world import SteppedWorld

HABITAT_MISSING = (
    "habitat-sim is not installed: it has no pip wheel for Linux / Python 3.11; install it with "
    "conda (conda install habitat-sim -c conda-forge -c aihabitat) in an environment that "
    "also has this package, or use the PyBullet house (ifagent_ros.sim.house_sim)")


def import_habitat() -> Any:
    """``habitat_sim``, or ImportError saying how to get it."""
    try:
        import habitat_sim  # optional heavy dependency, imported on use
    except ImportError as exc:
        raise ImportError(f"{HABITAT_MISSING} ({exc})") from exc
    return habitat_sim


@dataclass
class HabitatConfig(BaseDriveConfig):
    """A Habitat scene and its agent; ``start`` None: a random navigable point (the rest of the
    base's fields: :class:`~ifagent_ros.sim.base_command.BaseDriveConfig`, the same limits as
    HouseSimConfig)."""

    scene: str | Path  # a .glb / .ply scene, or a scene id of ``scene_dataset_config``
    scene_dataset_config: str | Path | None = None
    navmesh: str | Path | None = None  # default: the one next to the scene, if Habitat finds it
    seed: int = 0
    width: int = 320
    height: int = 240
    hfov_deg: float = 69.0  # RealSense D435 colour stream
    sensor_height: float = 1.05  # metres, as the mast camera of urdf/mobile_base.urdf
    depth_far: float = 10.0
    agent_radius: float = 0.2
    agent_height: float = 1.2
    forward_step: float = 0.25  # move_forward, metres
    turn_angle_deg: float = 15.0  # turn_left / turn_right, degrees
    timestep: float = 1.0 / 60.0  # seconds integrated per step()
    gpu_device_id: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"camera width/height must be > 0, got {self.width}x{self.height}")
        if not 0.0 < self.hfov_deg < 180.0:
            raise ValueError(f"hfov_deg must be in (0, 180), got {self.hfov_deg}")
        for name in ("sensor_height", "depth_far", "agent_radius", "agent_height",
                     "forward_step", "turn_angle_deg"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"{name} must be finite and > 0, got {v}")
        if not (math.isfinite(self.timestep) and 0.0 < self.timestep <= 0.1):
            raise ValueError(f"timestep must be in (0, 0.1] s, got {self.timestep}")


def sim_settings(cfg: HabitatConfig) -> dict[str, Any]:
    """Everything the Habitat configuration is built from, as plain data (no import)."""
    if not str(cfg.scene):
        raise ValueError("HabitatConfig.scene is empty")
    sensor = {"resolution": [cfg.height, cfg.width], "position": [0.0, cfg.sensor_height, 0.0],
              "hfov": cfg.hfov_deg}
    return {
        "scene_id": str(cfg.scene),
        "scene_dataset_config_file": (str(cfg.scene_dataset_config)
                                      if cfg.scene_dataset_config else None),
        "random_seed": int(cfg.seed),
        "gpu_device_id": int(cfg.gpu_device_id),
        "enable_physics": False,  # velocity control is kinematic, constrained by the navmesh
        "allow_sliding": True,
        "agent": {"height": cfg.agent_height, "radius": cfg.agent_radius},
        "sensors": {"color_sensor": {"type": "COLOR", **sensor},
                    "depth_sensor": {"type": "DEPTH", **sensor, "far": cfg.depth_far}},
        "actions": {"move_forward": cfg.forward_step, "turn_left": cfg.turn_angle_deg,
                    "turn_right": cfg.turn_angle_deg},
    }


def make_configuration(settings: dict[str, Any], habitat_sim: Any) -> Any:
    """A ``habitat_sim.Configuration`` from :func:`sim_settings` (needs the module)."""
    sim_cfg = habitat_sim.SimulatorConfiguration()
    sim_cfg.scene_id = settings["scene_id"]
    if settings["scene_dataset_config_file"]:
        sim_cfg.scene_dataset_config_file = settings["scene_dataset_config_file"]
    sim_cfg.random_seed = settings["random_seed"]
    sim_cfg.gpu_device_id = settings["gpu_device_id"]
    sim_cfg.enable_physics = settings["enable_physics"]
    sim_cfg.allow_sliding = settings["allow_sliding"]
    specs = []
    for uuid, s in settings["sensors"].items():
        spec = habitat_sim.CameraSensorSpec()
        spec.uuid = uuid
        spec.sensor_type = getattr(habitat_sim.SensorType, s["type"])
        spec.sensor_subtype = habitat_sim.SensorSubType.PINHOLE
        spec.resolution = s["resolution"]
        spec.position = s["position"]
        spec.hfov = s["hfov"]
        if "far" in s:
            spec.far = s["far"]
        specs.append(spec)
    agent = habitat_sim.agent.AgentConfiguration()
    agent.height = settings["agent"]["height"]
    agent.radius = settings["agent"]["radius"]
    agent.sensor_specifications = specs
    agent.action_space = {
        name: habitat_sim.agent.ActionSpec(name, habitat_sim.agent.ActuationSpec(amount=amount))
        for name, amount in settings["actions"].items()}
    return habitat_sim.Configuration(sim_cfg, [agent])


# ---- frames (pure) --------------------------------------------------------------------------
def map_to_habitat(x: float, y: float, yaw: float,
                   height: float = 0.0) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Position (x, height, -y) and rotation quaternion (w, x, y, z) about Habitat's +y."""
    theta = yaw - math.pi / 2.0
    return (np.array([x, height, -y], dtype=np.float32),
            (math.cos(theta / 2.0), 0.0, math.sin(theta / 2.0), 0.0))


def habitat_to_map(position: Any, rotation_wxyz: tuple[float, float, float, float]
                   ) -> tuple[float, float, float]:
    """(x, y, yaw) in map of a Habitat agent position and rotation (w, x, y, z)."""
    w, qx, qy, qz = rotation_wxyz
    # The agent's forward (-z) rotated by the quaternion, projected on the floor.
    fx = -2.0 * (qx * qz + w * qy)
    fz = -(1.0 - 2.0 * (qx * qx + qy * qy))
    return float(position[0]), float(-position[2]), math.atan2(-fz, fx)


def _intrinsics(width: int, height: int, hfov_deg: float) -> np.ndarray:
    f = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def optical_rotation(yaw: float) -> np.ndarray:
    """Columns: the optical frame's x (right), y (down), z (forward) in map for a level camera."""
    fwd = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
    return np.stack([right, np.array([0.0, 0.0, -1.0]), fwd], axis=1)


class HabitatSim(SteppedWorld):
    """A habitat-sim scene with one agent driven like the PyBullet house's base."""

    def __init__(self, config: HabitatConfig) -> None:
        self.config = cfg = config
        hs = import_habitat()
        import magnum  # installed with habitat-sim

        self._hs, self._mn = hs, magnum
        self._sim = hs.Simulator(make_configuration(sim_settings(cfg), hs))
        self._agent = self._sim.initialize_agent(0)
        pf = self._sim.pathfinder
        if cfg.navmesh is not None and not pf.load_nav_mesh(str(cfg.navmesh)):
            self.close()
            raise ValueError(f"could not load the navmesh {cfg.navmesh}")
        if not pf.is_loaded:
            self.close()
            raise ValueError(f"scene {cfg.scene} has no navmesh (give HabitatConfig.navmesh)")
        pf.seed(cfg.seed)
        self._cmd = CmdVelLimiter(cfg.limits)
        self._vel = hs.physics.VelocityControl()
        self._vel.controlling_lin_vel = self._vel.controlling_ang_vel = True
        self._vel.lin_vel_is_local = self._vel.ang_vel_is_local = True
        self._steps = 0
        self._collided = False
        self._twist = (0.0, 0.0)
        if cfg.start is None:
            p = pf.get_random_navigable_point()
            self.reset_base(float(p[0]), float(-p[2]), 0.0)
        else:
            self.reset_base(*cfg.start)

    # ---- basics (time, timestep, with: SteppedWorld) ----------------------------------------
    def close(self) -> None:
        if getattr(self, "_sim", None) is not None:
            self._sim.close()
            self._sim = None

    # ---- state ----------------------------------------------------------------------------
    def _state(self) -> Any:
        return self._agent.get_state()

    def base_pose(self) -> tuple[float, float, float]:
        s = self._state()
        q = s.rotation  # numpy-quaternion: w, x, y, z
        return habitat_to_map(s.position, (q.w, q.x, q.y, q.z))

    def reset_base(self, x: float, y: float, yaw: float) -> None:
        if not all(math.isfinite(float(v)) for v in (x, y, yaw)):
            raise ValueError(f"base pose must be finite, got {(x, y, yaw)}")
        snapped = self.snap(x, y)
        if snapped is None:
            raise ValueError(f"({x:.2f}, {y:.2f}) is not near the navmesh")
        pos, (w, qx, qy, qz) = map_to_habitat(*snapped, yaw)
        pos[1] = self._sim.pathfinder.snap_point(pos)[1]
        state = self._hs.AgentState()
        state.position = pos
        state.rotation = self._hs.utils.common.quat_from_coeffs([qx, qy, qz, w])
        self._agent.set_state(state)
        self._cmd.reset()
        self._odom = self.base_pose()
        self._twist = (0.0, 0.0)
        self._collided = False

    def odom(self) -> tuple[float, float, float, float, float]:
        """(x, y, yaw, v, w): Habitat moves the agent exactly, so odometry is the true pose."""
        return (*self.base_pose(), *self._twist)

    def base_velocity(self) -> tuple[float, float]:
        return self._twist

    # ---- commands -------------------------------------------------------------------------
    def set_cmd_vel(self, v: float, w: float) -> tuple[float, float]:
        return self._cmd.command(v, w)

    def stop(self) -> None:
        self._cmd.stop()

    def step(self, n: int = 1) -> None:
        """Integrate the (acceleration-limited) cmd_vel for ``n`` timesteps on the navmesh."""
        hs, dt = self._hs, self.config.timestep
        for _ in range(int(n)):
            v, w = self._cmd.advance(dt)
            state = self._state()
            before = hs.RigidState(hs.utils.common.quat_to_magnum(state.rotation), state.position)
            self._vel.linear_velocity = self._mn.Vector3(0.0, 0.0, -v)  # forward is -z
            self._vel.angular_velocity = self._mn.Vector3(0.0, w, 0.0)
            after = self._vel.integrate_transform(dt, before)
            end = self._sim.step_filter(before.translation, after.translation)
            moved = float(np.linalg.norm(np.asarray(end) - np.asarray(before.translation)))
            wanted = float(np.linalg.norm(np.asarray(after.translation)
                                          - np.asarray(before.translation)))
            self._collided = wanted - moved > 1e-5  # the navmesh shortened the step
            state.position = end
            state.rotation = hs.utils.common.quat_from_magnum(after.rotation)
            self._agent.set_state(state)
            self._steps += 1
            self._twist = (moved / dt * (1.0 if v >= 0.0 else -1.0), w)

    def act(self, action: str) -> bool:
        """A discrete action (move_forward, turn_left, turn_right); True when it collided."""
        if action not in ("move_forward", "turn_left", "turn_right"):
            raise ValueError(f"unknown action {action!r}")
        self._sim.step(action)
        self._collided = bool(self._sim.previous_step_collided)
        return self._collided

    def contacts(self) -> list[tuple[str, tuple[float, float, float], float]]:
        x, y, _ = self.base_pose()
        return [("navmesh boundary", (x, y, 0.0), 0.0)] if self._collided else []

    def collides(self) -> bool:
        return self._collided

    # ---- navmesh ---------------------------------------------------------------------------
    def snap(self, x: float, y: float) -> tuple[float, float] | None:
        p = self._sim.pathfinder.snap_point(map_to_habitat(x, y, 0.0)[0])
        if not np.all(np.isfinite(p)):
            return None
        return float(p[0]), float(-p[2])

    def is_navigable(self, x: float, y: float) -> bool:
        pos = map_to_habitat(x, y, 0.0)[0]
        pos[1] = self._sim.pathfinder.snap_point(pos)[1]
        return bool(self._sim.pathfinder.is_navigable(pos))

    def _path(self, a: tuple[float, float], b: tuple[float, float]) -> Any:
        path = self._hs.ShortestPath()
        path.requested_start = self._sim.pathfinder.snap_point(map_to_habitat(*a, 0.0)[0])
        path.requested_end = self._sim.pathfinder.snap_point(map_to_habitat(*b, 0.0)[0])
        self._sim.pathfinder.find_path(path)
        return path

    def geodesic_distance(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        """Shortest walkable distance on the navmesh (inf when unreachable)."""
        return float(self._path(a, b).geodesic_distance)

    def shortest_path(self, a: tuple[float, float], b: tuple[float, float]
                      ) -> list[tuple[float, float]]:
        return [(float(p[0]), float(-p[2])) for p in self._path(a, b).points]

    # ---- camera ---------------------------------------------------------------------------
    def render_camera(self) -> CameraFrame:
        cfg = self.config
        obs = self._sim.get_sensor_observations()
        rgb = np.asarray(obs["color_sensor"])[:, :, :3].astype(np.uint8)
        depth = np.asarray(obs["depth_sensor"], dtype=np.float32).copy()
        depth[depth <= 0.0] = np.nan  # Habitat writes 0 where nothing was hit
        x, y, yaw = self.base_pose()
        return CameraFrame(rgb=rgb, depth=depth,
                           segmentation=np.full(depth.shape, -1, dtype=np.int32),
                           K=_intrinsics(cfg.width, cfg.height, cfg.hfov_deg),
                           position=np.array([x, y, cfg.sensor_height]),
                           orientation=rotation_to_quaternion(optical_rotation(yaw)),
                           stamp=self.time)
