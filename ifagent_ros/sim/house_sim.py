"""ROS-free PyBullet house: walls, doors and furniture of a floor plan, and a differential-drive
mobile base (``urdf/mobile_base.urdf``) with an RGB-D camera on a mast.

World frame == ``map``: x, y as in the house file, z up, floor at z = 0. Base poses use the ROS
yaw (counter-clockwise from +x); :func:`ifagent_ros.core.worlds.house.yaw_to_heading` converts to
VLN
headings. PyBullet runs headless (DIRECT) on a private client; every call passes it.

    sim = HouseSim(HouseSimConfig(house="apartment_a", start=(2.0, 2.2, 0.0)))
    sim.set_cmd_vel(0.4, 0.0)          # m/s, rad/s; clipped to the limits, returns what was kept
    sim.step(240)                      # physics steps (1/240 s each by default)
    x, y, yaw, v, w = sim.odom()       # wheel odometry (starts at the true start pose)
    frame = sim.render_camera()        # rgb, metric depth, K; pose of the optical frame in map
    sim.collides(), sim.contacts()     # touching a wall, a closed door or furniture?
    sim.close()

The wheels are driven by PyBullet velocity motors with a torque limit, so the base really rolls,
slips a little and stops at walls; ``cmd_vel`` is ramped by the acceleration limits first.
Odometry integrates the wheel joint speeds (what encoders give), so it drifts from the true
pose (``base_pose``) only as much as the wheels slip.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pybullet as p

from ifagent_ros.core.vln.types import SeenObject
from ifagent_ros.core.worlds.geometry import Box2D
from ifagent_ros.core.worlds.house import House, RoomSpec, load_house
from ifagent_ros.sim.base_command import BaseDriveConfig, CmdVelLimiter
from ifagent_ros.sim.bodies import MAX_COMPOUND_SHAPES
from ifagent_ros.sim.camera import CameraConfig, CameraFrame, render
from ifagent_ros.sim.world import PyBulletWorld

MOBILE_BASE_URDF = Path(__file__).resolve().parents[2] / "urdf" / "mobile_base.urdf"
WHEEL_JOINT_NAMES: tuple[str, str] = ("left_wheel_joint", "right_wheel_joint")
CAMERA_LINK = "camera_color_optical_frame"
FLOOR_RGBA: dict[str, tuple[float, float, float, float]] = {
    "bedroom": (0.78, 0.7, 0.6, 1.0), "kitchen": (0.85, 0.85, 0.8, 1.0),
    "living room": (0.7, 0.6, 0.48, 1.0), "bathroom": (0.75, 0.85, 0.9, 1.0),
    "hallway": (0.65, 0.65, 0.65, 1.0), "office": (0.6, 0.68, 0.6, 1.0),
    "dining room": (0.72, 0.62, 0.55, 1.0), "laundry room": (0.8, 0.8, 0.85, 1.0),
    "closet": (0.6, 0.55, 0.5, 1.0),
}
WALL_RGBA = (0.92, 0.9, 0.85, 1.0)
DOOR_RGBA = (0.55, 0.35, 0.2, 1.0)
# A RealSense-D435-like colour stream, small enough to render quickly on a CPU.
HOUSE_CAMERA = CameraConfig(width=320, height=240, fov_deg=42.0, near=0.1, far=10.0,
                            eye=(0.0, 0.0, 1.0), target=(1.0, 0.0, 1.0))


@dataclass
class HouseSimConfig(BaseDriveConfig):
    """The house and its base; ``start`` None: the first room's place (the rest of the base's
    fields: :class:`~ifagent_ros.sim.base_command.BaseDriveConfig`)."""

    house: str | Path | House = "apartment_a"  # name in houses, a path, or a House
    timestep: float = 1.0 / 240.0
    wheel_max_torque: float = 6.0  # N m per wheel
    camera: CameraConfig = field(default_factory=lambda: HOUSE_CAMERA)
    urdf: str | Path = MOBILE_BASE_URDF
    house_dirs: tuple[str | Path, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (math.isfinite(self.timestep) and 0.0 < self.timestep <= 0.05):
            raise ValueError(f"timestep must be in (0, 0.05] s, got {self.timestep}")
        if not (math.isfinite(self.wheel_max_torque) and self.wheel_max_torque > 0.0):
            raise ValueError(f"wheel_max_torque must be finite and > 0, got "
                             f"{self.wheel_max_torque}")


class Odometry(NamedTuple):
    x: float
    y: float
    yaw: float
    v: float  # forward speed, m/s
    w: float  # yaw rate, rad/s


class Contact(NamedTuple):
    body: str  # "wall", "door:<id>", "object:<id>"
    position: tuple[float, float, float]  # on the base, world frame
    normal_force: float  # N


def read_wheel_geometry(urdf: str | Path) -> tuple[float, float]:
    """Wheel radius and separation (m) from the URDF's wheel joints and wheel cylinders."""
    root = ET.parse(urdf).getroot()
    ys, radius = [], None
    for name in WHEEL_JOINT_NAMES:
        joint = root.find(f"joint[@name='{name}']")
        if joint is None:
            raise ValueError(f"{urdf}: no joint '{name}'")
        ys.append(float(joint.find("origin").get("xyz").split()[1]))  # type: ignore[union-attr]
        child = joint.find("child").get("link")  # type: ignore[union-attr]
        geom = root.find(f"link[@name='{child}']/collision/geometry")
        shape = None
        if geom is not None:
            shape = geom.find("cylinder")
            shape = geom.find("sphere") if shape is None else shape
        if shape is None:
            raise ValueError(f"{urdf}: wheel link '{child}' has no cylinder or sphere collision")
        radius = float(shape.get("radius"))  # type: ignore[arg-type]
    return float(radius), abs(ys[0] - ys[1])  # type: ignore[arg-type]


class HouseSim(PyBulletWorld):
    def __init__(self, config: HouseSimConfig | None = None) -> None:
        self.config = cfg = config or HouseSimConfig()
        self.house: House = (cfg.house if isinstance(cfg.house, House)
                             else load_house(cfg.house, cfg.house_dirs))
        self.wheel_radius, self.wheel_separation = read_wheel_geometry(cfg.urdf)
        start = cfg.start
        if start is None:
            first = self.house.graph.places_in_room(self.house.spec.rooms[0].id)
            place = first[0] if first else next(iter(self.house.graph.places.values()))
            start = (place.x, place.y, 0.0)
        self._connect()
        self._cmd = CmdVelLimiter(cfg.limits)
        self.body_names: dict[int, str] = {}
        try:
            self._build()
            self.reset_base(*start)
        except Exception:
            self.close()
            raise

    # ---- world building -------------------------------------------------------------------
    def _static_boxes(self, boxes: list[Box2D], height: float, rgba: tuple[float, ...],
                      name: str) -> None:
        """Static boxes, at most MAX_COMPOUND_SHAPES per body (PyBullet drops the rest)."""
        c = self.client_id
        for i in range(0, len(boxes), MAX_COMPOUND_SHAPES):
            chunk = boxes[i:i + MAX_COMPOUND_SHAPES]
            kw = dict(shapeTypes=[p.GEOM_BOX] * len(chunk),
                      halfExtents=[[b.hx, b.hy, height / 2.0] for b in chunk],
                      physicsClientId=c)
            pos = [[b.cx, b.cy, height / 2.0] for b in chunk]
            orn = [list(p.getQuaternionFromEuler([0.0, 0.0, b.yaw])) for b in chunk]
            col = p.createCollisionShapeArray(collisionFramePositions=pos,
                                              collisionFrameOrientations=orn, **kw)
            vis = p.createVisualShapeArray(visualFramePositions=pos,
                                           visualFrameOrientations=orn, **kw)
            body = p.createMultiBody(0.0, col, vis, [0.0, 0.0, 0.0], physicsClientId=c)
            p.changeVisualShape(body, -1, rgbaColor=list(rgba), physicsClientId=c)
            self.body_names[body] = name

    def _build(self) -> None:
        cfg, c, h = self.config, self.client_id, self.house
        p.setGravity(0.0, 0.0, -9.81, physicsClientId=c)
        p.setTimeStep(cfg.timestep, physicsClientId=c)
        p.setPhysicsEngineParameter(deterministicOverlappingPairs=1, physicsClientId=c)
        plane = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=c)
        self.floor_id = p.createMultiBody(0.0, plane, -1, [0.0, 0.0, 0.0], physicsClientId=c)
        p.changeDynamics(self.floor_id, -1, lateralFriction=1.0, physicsClientId=c)
        for room in h.spec.rooms:  # coloured floors: visual only, just above the plane
            half = [(room.x[1] - room.x[0]) / 2.0, (room.y[1] - room.y[0]) / 2.0, 0.001]
            vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half,
                                      rgbaColor=list(FLOOR_RGBA[room.type]), physicsClientId=c)
            p.createMultiBody(0.0, -1, vis, [*room.center, 0.0], physicsClientId=c)
        self._static_boxes(list(h.walls), h.spec.wall_height, WALL_RGBA, "wall")
        for did, op in h.openings.items():
            if not op.door.open:
                self._static_boxes([op.panel(h.spec.wall_thickness)], 2.0, DOOR_RGBA,
                                   f"door:{did}")
        self.object_ids: list[int] = []
        for obj in h.spec.objects:
            sx, sy, sz = obj.size  # type: ignore[misc]
            if obj.shape == "cylinder":
                kw = dict(shapeType=p.GEOM_CYLINDER, radius=max(sx, sy) / 2.0)
                col_kw = dict(kw, height=sz)
                vis_kw = dict(kw, length=sz)
            else:
                col_kw = vis_kw = dict(shapeType=p.GEOM_BOX, halfExtents=[sx / 2, sy / 2, sz / 2])
            col = (p.createCollisionShape(physicsClientId=c, **col_kw) if obj.blocks else -1)
            vis = p.createVisualShape(rgbaColor=list(obj.color.rgba),  # type: ignore[union-attr]
                                      physicsClientId=c, **vis_kw)
            body = p.createMultiBody(0.0, col, vis, [*obj.position, sz / 2.0 + 0.001],
                                     p.getQuaternionFromEuler([0.0, 0.0, obj.yaw]),
                                     physicsClientId=c)
            self.object_ids.append(body)
            self.body_names[body] = f"object:{obj.id}"
        self.robot_id = p.loadURDF(str(cfg.urdf), [0.0, 0.0, self.wheel_radius],
                                   physicsClientId=c)
        joints = {p.getJointInfo(self.robot_id, j, physicsClientId=c)[1].decode(): j
                  for j in range(p.getNumJoints(self.robot_id, physicsClientId=c))}
        links = {p.getJointInfo(self.robot_id, j, physicsClientId=c)[12].decode(): j
                 for j in range(p.getNumJoints(self.robot_id, physicsClientId=c))}
        self._wheels = [joints[n] for n in WHEEL_JOINT_NAMES]
        self._com_offset = np.array(p.getDynamicsInfo(self.robot_id, -1, physicsClientId=c)[3])
        self._camera_link = links[CAMERA_LINK]
        for w in self._wheels:
            p.changeDynamics(self.robot_id, w, lateralFriction=1.2, spinningFriction=0.0,
                             rollingFriction=0.0, physicsClientId=c)
        p.changeDynamics(self.robot_id, links["caster"], lateralFriction=0.0,
                         spinningFriction=0.0, rollingFriction=0.0, physicsClientId=c)

    # ---- commands ---------------------------------------------------------------------------
    def set_cmd_vel(self, v: float, w: float) -> tuple[float, float]:
        """Command forward speed ``v`` (m/s) and yaw rate ``w`` (rad/s), clipped to the limits.

        Returns the command kept. NaN/inf raises ValueError and brakes (target zero).
        """
        return self._cmd.command(v, w)

    def stop(self) -> None:
        """Brake to zero (within the acceleration limits)."""
        self._cmd.stop()

    @property
    def commanded(self) -> tuple[float, float]:
        """The acceleration-limited (v, w) the wheels are driven at now."""
        return self._cmd.current

    def step(self, n: int = 1) -> None:
        c, dt = self.client_id, self.config.timestep
        for _ in range(int(n)):
            before = self._cmd.current
            now = self._cmd.advance(dt)
            if now != before:
                self._drive_wheels(*now)
            p.stepSimulation(physicsClientId=c)
            self._steps += 1
            self._integrate_odometry(dt)

    def _drive_wheels(self, v: float, w: float) -> None:
        r, half = self.wheel_radius, self.wheel_separation / 2.0
        speeds = [(v - w * half) / r, (v + w * half) / r]
        p.setJointMotorControlArray(self.robot_id, self._wheels, p.VELOCITY_CONTROL,
                                    targetVelocities=speeds,
                                    forces=[self.config.wheel_max_torque] * 2,
                                    physicsClientId=self.client_id)

    def _wheel_speeds(self) -> tuple[float, float]:
        s = p.getJointStates(self.robot_id, self._wheels, physicsClientId=self.client_id)
        return s[0][1], s[1][1]

    def _integrate_odometry(self, dt: float) -> None:
        wl, wr = self._wheel_speeds()
        v = self.wheel_radius * (wl + wr) / 2.0
        w = self.wheel_radius * (wr - wl) / self.wheel_separation
        x, y, yaw = self._odom_pose
        mid = yaw + 0.5 * w * dt  # midpoint rule: exact for constant v, w over a step
        self._odom_pose = (x + v * dt * math.cos(mid), y + v * dt * math.sin(mid),
                           math.atan2(math.sin(yaw + w * dt), math.cos(yaw + w * dt)))
        self._odom_twist = (v, w)

    # ---- state -------------------------------------------------------------------------------
    def reset_base(self, x: float, y: float, yaw: float) -> None:
        """Teleport the base (at rest, commands zeroed); odometry restarts at this pose."""
        if not all(math.isfinite(float(v)) for v in (x, y, yaw)):
            raise ValueError(f"base pose must be finite, got {(x, y, yaw)}")
        c = self.client_id
        orn = p.getQuaternionFromEuler([0.0, 0.0, yaw])
        # PyBullet places the base by its centre of mass, not by the URDF link origin.
        com = np.array([x, y, self.wheel_radius]) + self._rotation(orn) @ self._com_offset
        p.resetBasePositionAndOrientation(self.robot_id, com.tolist(), orn, physicsClientId=c)
        p.resetBaseVelocity(self.robot_id, [0.0] * 3, [0.0] * 3, physicsClientId=c)
        for j in self._wheels:
            p.resetJointState(self.robot_id, j, 0.0, 0.0, physicsClientId=c)
        self._cmd.reset()
        self._drive_wheels(0.0, 0.0)
        self._odom_pose = (float(x), float(y), float(yaw))
        self._odom_twist = (0.0, 0.0)

    def odom(self) -> Odometry:
        """Wheel odometry: pose integrated from the wheel speeds, and the body twist."""
        return Odometry(*self._odom_pose, *self._odom_twist)

    @staticmethod
    def _rotation(orn: Sequence[float]) -> np.ndarray:
        return np.array(p.getMatrixFromQuaternion(orn)).reshape(3, 3)

    def _link_origin(self) -> tuple[np.ndarray, tuple[float, ...], np.ndarray]:
        """base_link's origin, orientation and the lever from it to the centre of mass."""
        com, orn = p.getBasePositionAndOrientation(self.robot_id, physicsClientId=self.client_id)
        lever = self._rotation(orn) @ self._com_offset
        return np.array(com) - lever, orn, lever

    def base_pose(self) -> tuple[float, float, float]:
        """True pose (x, y, yaw) of base_link (the axle's midpoint) in the map."""
        origin, orn, _ = self._link_origin()
        return float(origin[0]), float(origin[1]), p.getEulerFromQuaternion(orn)[2]

    def base_velocity(self) -> tuple[float, float]:
        """True forward speed of base_link and yaw rate."""
        lin, ang = p.getBaseVelocity(self.robot_id, physicsClientId=self.client_id)
        _, orn, lever = self._link_origin()
        v = np.array(lin) - np.cross(ang, lever)  # velocity of the origin, not of the CoM
        yaw = p.getEulerFromQuaternion(orn)[2]
        return float(v[0] * math.cos(yaw) + v[1] * math.sin(yaw)), float(ang[2])

    def joint_state(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Wheel joint names, angles (rad) and speeds (rad/s)."""
        s = p.getJointStates(self.robot_id, self._wheels, physicsClientId=self.client_id)
        return (list(WHEEL_JOINT_NAMES), np.array([v[0] for v in s]),
                np.array([v[1] for v in s]))

    def current_room(self) -> RoomSpec | None:
        x, y, _ = self.base_pose()
        return self.house.room_at(x, y)

    def seen_objects(self, max_range: float = 5.0) -> tuple[SeenObject, ...]:
        """Landmarks visible from the true base position (the house's line-of-sight model)."""
        x, y, _ = self.base_pose()
        return self.house.seen_objects((x, y), max_range)

    def contacts(self) -> list[Contact]:
        """What the base touches now, apart from the floor."""
        out = []
        for cp in p.getContactPoints(bodyA=self.robot_id, physicsClientId=self.client_id):
            body = cp[2]
            if body == self.floor_id:
                continue
            out.append(Contact(self.body_names.get(body, f"body:{body}"), tuple(cp[5]), cp[9]))
        return out

    def collides(self) -> bool:
        return bool(self.contacts())

    # ---- camera ---------------------------------------------------------------------------
    def camera_config(self) -> CameraConfig:
        """The camera config posed at the optical frame of the mast camera, in the map frame."""
        s = p.getLinkState(self.robot_id, self._camera_link, computeForwardKinematics=True,
                           physicsClientId=self.client_id)
        eye = np.array(s[4])
        # Columns of the optical frame's rotation: x right, y down, z forward.
        rot = np.array(p.getMatrixFromQuaternion(s[5])).reshape(3, 3)
        return replace(self.config.camera, eye=tuple(eye), target=tuple(eye + rot[:, 2]),
                       up=tuple(-rot[:, 1]))

    def render_camera(self) -> CameraFrame:
        """RGB + metric depth from the base's camera; ``segmentation`` holds object indices and
        ``position``/``orientation`` the optical frame's pose in the map."""
        body_to_object = {b: i for i, b in enumerate(self.object_ids)}
        return render(self.camera_config(), self.client_id, body_to_object, self.time)
