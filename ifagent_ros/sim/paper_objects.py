"""PyBullet bodies of LILAC's five tasks: spawning, the drawer's joint, reading object state.

Builds what a :mod:`~ifagent_ros.core.latent_actions.paper_tasks` instance's params describe,
into an existing PyBullet client (the tabletop's, so the arm and the table are already there):

* ``trash``         three fused spheres (a crumpled paper ball), 20 g
* ``trash_bin``     an open box (bottom + four walls), static
* ``pen``           a 14 cm stick, 15 g, lying on the table (its axis is the body z)
* ``pen_cup``       an open cylinder (bottom disc + ring of wall boxes), static
* ``drawer``        ``urdf/drawer.urdf``: cabinet (fixed base) + drawer on the prismatic
                    ``drawer_joint`` + handle; a velocity motor with a small force is its friction
* ``book``          a 2.5 x 7 x 14 cm box, 200 g, lying flat
* ``shelf``         ``urdf/shelf.urdf`` (fixed) + two static rows of books leaving the gap
* ``watering_cup``  an open cylinder, 100 g
* ``plant``         a pot and a ball of foliage, static

:func:`read_states` reports each as a
:class:`~ifagent_ros.core.latent_actions.paper_tasks.PaperObjectState`: bounding-box centre,
orientation (x y z w) and yaw; for the drawer the *handle's* position (what a hand goes for), the
cabinet's orientation and the joint position (m open). ROS-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pybullet as p

from ifagent_ros.core.latent_actions.paper_tasks import (
    BIN_SIZE,
    BIN_WALL,
    BOOK_SIZE,
    CABINET_SIZE,
    CUP_HEIGHT,
    CUP_RADIUS,
    CUP_WALL,
    DRAWER_JOINT,
    OBJECTS,
    PEN_CUP_HEIGHT,
    PEN_CUP_RADIUS,
    PEN_CUP_WALL,
    PEN_LENGTH,
    PEN_RADIUS,
    PLANT_FOLIAGE_RADIUS,
    PLANT_POT_HEIGHT,
    PLANT_POT_RADIUS,
    PLANT_TOP,
    SHELF_BOARD,
    SHELF_GAP,
    SHELF_SIZE,
    TRASH_SIZE,
    PaperObjectState,
    paper_family,
    quat_from_euler,
    resting_z,
    start_orientation,
)
from ifagent_ros.sim.bodies import Parts, container

URDF_DIR = Path(__file__).resolve().parents[2] / "urdf"  # <repo>/urdf
DRAWER_URDF = URDF_DIR / "drawer.urdf"
SHELF_URDF = URDF_DIR / "shelf.urdf"
DRAWER_HANDLE_LINK = "drawer_handle"
DRAWER_FRICTION = 3.0  # N: the drawer's velocity motor force (holds it unless pulled)
RGBA = {
    "trash": (0.92, 0.92, 0.86, 1.0), "trash_bin": (0.25, 0.3, 0.35, 1.0),
    "pen": (0.1, 0.2, 0.8, 1.0), "pen_cup": (0.9, 0.45, 0.1, 1.0),
    "book": (0.75, 0.1, 0.15, 1.0), "resident_books": (0.2, 0.45, 0.3, 1.0),
    "watering_cup": (0.2, 0.6, 0.85, 1.0), "pot": (0.65, 0.33, 0.2, 1.0),
    "foliage": (0.15, 0.6, 0.2, 1.0),
}
MASS = {"trash": 0.02, "pen": 0.015, "book": 0.2, "watering_cup": 0.1}


class DrawerJointError(ValueError):
    """A drawer URDF without the prismatic joint the task needs."""


@dataclass
class PaperBody:
    """One spawned task object."""

    oid: str
    body: int
    movable: bool
    centre_offset: float = 0.0  # body z of the bounding-box centre (fixtures stand at z = 0)
    joint: int | None = None  # the drawer's prismatic joint
    link: int = -1  # the link whose position is reported (the drawer's handle)
    extra_bodies: list[int] = field(default_factory=list)  # e.g. the shelf's resident books


def _compound(parts: Parts, mass: float, position: Sequence[float],
              orientation: Sequence[float], client: int) -> int:
    orns = parts.orientations
    kw = dict(shapeTypes=parts.types, radii=parts.radii, halfExtents=parts.half_extents,
              lengths=parts.lengths, physicsClientId=client)
    col = p.createCollisionShapeArray(collisionFramePositions=parts.positions,
                                      collisionFrameOrientations=orns, **kw)
    vis = p.createVisualShapeArray(visualFramePositions=parts.positions,
                                   visualFrameOrientations=orns, **kw)
    if col < 0 or vis < 0:
        raise RuntimeError("PyBullet could not create a task object's shapes")
    body = p.createMultiBody(baseMass=mass, baseCollisionShapeIndex=col,
                             baseVisualShapeIndex=vis, basePosition=list(position),
                             baseOrientation=list(orientation), physicsClientId=client)
    p.changeVisualShape(body, -1, rgbaColor=list(parts.rgba[0]), physicsClientId=client)
    return body


def _box(half: Sequence[float], mass: float, position: Sequence[float],
         orientation: Sequence[float], rgba: tuple[float, ...], client: int) -> int:
    col = p.createCollisionShape(p.GEOM_BOX, halfExtents=list(half), physicsClientId=client)
    vis = p.createVisualShape(p.GEOM_BOX, halfExtents=list(half), rgbaColor=list(rgba),
                              physicsClientId=client)
    return p.createMultiBody(mass, col, vis, list(position), list(orientation),
                             physicsClientId=client)


def _pose(params: Mapping[str, Any], oid: str) -> tuple[list[float], list[float], float]:
    pl = params["layout"][oid]
    x, y, yaw = float(pl["xy"][0]), float(pl["xy"][1]), float(pl["yaw"])
    return [x, y, resting_z(oid)], start_orientation(oid, yaw).tolist(), yaw


# ---- the drawer ----------------------------------------------------------------------------

def load_drawer(client: int, position: Sequence[float], yaw: float,
                urdf: str | Path = DRAWER_URDF, joint_name: str = DRAWER_JOINT,
                opening: float = 0.0, friction: float = DRAWER_FRICTION) -> tuple[int, int, int]:
    """Load the drawer cabinet (fixed base); returns (body, drawer joint, handle link).

    Raises FileNotFoundError for a missing file and :class:`DrawerJointError` naming the joint
    (and the joints the file has) when ``joint_name`` is missing or not prismatic."""
    path = Path(urdf)
    if not path.is_file():
        raise FileNotFoundError(f"drawer URDF {path} does not exist")
    body = p.loadURDF(str(path), list(position), p.getQuaternionFromEuler([0, 0, yaw]),
                      useFixedBase=True, physicsClientId=client)
    joints: dict[str, tuple[int, int]] = {}
    links: dict[str, int] = {}
    for j in range(p.getNumJoints(body, physicsClientId=client)):
        info = p.getJointInfo(body, j, physicsClientId=client)
        joints[info[1].decode()] = (j, info[2])
        links[info[12].decode()] = j
    if joint_name not in joints or joints[joint_name][1] != p.JOINT_PRISMATIC:
        p.removeBody(body, physicsClientId=client)
        found = ", ".join(f"{n} ({_JOINT_TYPES.get(t, t)})" for n, (_, t) in joints.items())
        what = "is missing" if joint_name not in joints else \
            f"is {_JOINT_TYPES.get(joints[joint_name][1], joints[joint_name][1])}, not prismatic"
        raise DrawerJointError(f"drawer URDF {path}: joint '{joint_name}' {what}; the "
                               f"open-drawer task needs it as the drawer's prismatic joint "
                               f"(joints in the file: {found or 'none'})")
    j = joints[joint_name][0]
    handle = links.get(DRAWER_HANDLE_LINK, j)
    set_drawer_opening(client, body, j, opening)
    p.setJointMotorControl2(body, j, p.VELOCITY_CONTROL, targetVelocity=0.0, force=friction,
                            physicsClientId=client)
    return body, j, handle


_JOINT_TYPES = {p.JOINT_REVOLUTE: "revolute", p.JOINT_PRISMATIC: "prismatic",
                p.JOINT_FIXED: "fixed", p.JOINT_SPHERICAL: "spherical",
                p.JOINT_PLANAR: "planar"}


def drawer_opening(client: int, body: int, joint: int) -> float:
    """How far the drawer is open (m)."""
    return float(p.getJointState(body, joint, physicsClientId=client)[0])


def set_drawer_opening(client: int, body: int, joint: int, opening: float) -> None:
    """Teleport the drawer to ``opening`` m (at rest)."""
    p.resetJointState(body, joint, float(opening), 0.0, physicsClientId=client)


# ---- spawning ------------------------------------------------------------------------------

def spawn_task_objects(family: str, params: Mapping[str, Any], client: int,
                       drawer_urdf: str | Path = DRAWER_URDF,
                       shelf_urdf: str | Path = SHELF_URDF) -> dict[str, PaperBody]:
    """Build the objects of task ``family`` at the poses in ``params`` (see paper_tasks)."""
    fam = paper_family(family)
    out: dict[str, PaperBody] = {}
    for oid in fam.objects:
        pos, orn, yaw = _pose(params, oid)
        out[oid] = _BUILDERS[oid](pos, orn, yaw, params, client,
                                  {"drawer": drawer_urdf, "shelf": shelf_urdf})
    for b in out.values():
        if b.movable:
            p.changeDynamics(b.body, -1, lateralFriction=0.9, spinningFriction=0.001,
                             physicsClientId=client)
    return out


def _trash(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
           client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    parts = Parts()
    c = RGBA["trash"]
    # A flattened core (it lies still, as a crumpled sheet does) under three lumps.
    parts.add(p.GEOM_BOX, (0.0, 0.0, -0.011), c, half=(0.02, 0.017, 0.009), yaw=0.3)
    for r, off in ((0.02, (0.005, 0.0, 0.0)), (0.017, (-0.012, 0.008, -0.003)),
                   (0.016, (0.01, -0.01, 0.004))):
        parts.add(p.GEOM_SPHERE, off, c, radius=r)
    body = _compound(parts, MASS["trash"], pos, orn, client)
    p.changeDynamics(body, -1, rollingFriction=0.01, physicsClientId=client)
    return PaperBody("trash", body, True)


def _bin(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
         client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    sx, sy, h = BIN_SIZE
    w, c = BIN_WALL, RGBA["trash_bin"]
    parts = Parts()
    parts.add(p.GEOM_BOX, [0, 0, -h / 2 + w / 2], c, half=[sx / 2, sy / 2, w / 2])
    hz = (h - w) / 2
    for x, y, half in (((sx - w) / 2, 0, [w / 2, sy / 2, hz]),
                       (-(sx - w) / 2, 0, [w / 2, sy / 2, hz]),
                       (0, (sy - w) / 2, [sx / 2, w / 2, hz]),
                       (0, -(sy - w) / 2, [sx / 2, w / 2, hz])):
        parts.add(p.GEOM_BOX, [x, y, w / 2], c, half=half)
    return PaperBody("trash_bin", _compound(parts, 0.0, pos, orn, client), False)


def _pen(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
         client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    # A square-section stick (a hexagonal pen does not roll either).
    body = _box([PEN_RADIUS, PEN_RADIUS, PEN_LENGTH / 2], MASS["pen"], pos, orn, RGBA["pen"],
                client)
    return PaperBody("pen", body, True)


def _pen_cup(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
             client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    parts = Parts()
    container(parts, PEN_CUP_RADIUS, PEN_CUP_HEIGHT, (0.0, 0.0), PEN_CUP_WALL, RGBA["pen_cup"])
    return PaperBody("pen_cup", _compound(parts, 0.0, pos, orn, client), False)


def _drawer(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
            client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    body, j, handle = load_drawer(client, pos, yaw, urdfs["drawer"],
                                  opening=float(params.get("start_opening", 0.0)))
    return PaperBody("drawer", body, False, CABINET_SIZE[2] / 2, joint=j, link=handle)


def _book(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
          client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    half = [s / 2 for s in BOOK_SIZE]
    return PaperBody("book", _box(half, MASS["book"], pos, orn, RGBA["book"], client), True)


def _shelf(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
           client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    path = Path(urdfs["shelf"])
    if not path.is_file():
        raise FileNotFoundError(f"shelf URDF {path} does not exist")
    body = p.loadURDF(str(path), pos, orn, useFixedBase=True, physicsClientId=client)
    # Two rows of resident books fill the compartment but for the gap at gap_y (shelf frame).
    inner = SHELF_SIZE[1] / 2 - SHELF_BOARD
    gap_y = float(params.get("gap_y", 0.0))
    depth, height = 0.11, 0.17
    x_local = -SHELF_SIZE[0] / 2 + 0.005 + depth / 2
    rows = []
    c, s = math.cos(yaw), math.sin(yaw)
    for lo, hi in ((gap_y + SHELF_GAP / 2, inner), (-inner, gap_y - SHELF_GAP / 2)):
        y_local, half_w = (lo + hi) / 2, (hi - lo) / 2 - 0.001
        cx = pos[0] + c * x_local - s * y_local
        cy = pos[1] + s * x_local + c * y_local
        rows.append(_box([depth / 2, half_w, height / 2], 0.0,
                         [cx, cy, SHELF_BOARD + height / 2 + 0.0005], orn,
                         RGBA["resident_books"], client))
    # The URDF's inertial origin is the compartment's centre: the base position PyBullet reports.
    return PaperBody("shelf", body, False, extra_bodies=rows)


def _watering_cup(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
                  client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    parts = Parts()
    container(parts, CUP_RADIUS, CUP_HEIGHT, (0.0, 0.0), CUP_WALL, RGBA["watering_cup"])
    return PaperBody("watering_cup",
                     _compound(parts, MASS["watering_cup"], pos, orn, client), True)


def _plant(pos: list[float], orn: list[float], yaw: float, params: Mapping[str, Any],
           client: int, urdfs: Mapping[str, Any]) -> PaperBody:
    parts = Parts()
    parts.add(p.GEOM_CYLINDER, [0, 0, PLANT_POT_HEIGHT / 2], RGBA["pot"],
              radius=PLANT_POT_RADIUS, length=PLANT_POT_HEIGHT)
    parts.add(p.GEOM_SPHERE, [0, 0, PLANT_POT_HEIGHT + PLANT_FOLIAGE_RADIUS], RGBA["foliage"],
              radius=PLANT_FOLIAGE_RADIUS)
    body = _compound(parts, 0.0, pos, orn, client)
    p.changeVisualShape(body, -1, rgbaColor=list(RGBA["foliage"]), physicsClientId=client)
    return PaperBody("plant", body, False, PLANT_TOP / 2)


_BUILDERS = {"trash": _trash, "trash_bin": _bin, "pen": _pen, "pen_cup": _pen_cup,
             "drawer": _drawer, "book": _book, "shelf": _shelf,
             "watering_cup": _watering_cup, "plant": _plant}

_SIZES: dict[str, tuple[float, float, float]] = {
    "trash": TRASH_SIZE, "trash_bin": BIN_SIZE,
    "pen": (2 * PEN_RADIUS, 2 * PEN_RADIUS, PEN_LENGTH),
    "pen_cup": (2 * PEN_CUP_RADIUS, 2 * PEN_CUP_RADIUS, PEN_CUP_HEIGHT), "drawer": CABINET_SIZE,
    "book": BOOK_SIZE, "shelf": SHELF_SIZE, "watering_cup": (2 * CUP_RADIUS, 2 * CUP_RADIUS,
                                                              CUP_HEIGHT),
    "plant": (2 * PLANT_POT_RADIUS, 2 * PLANT_POT_RADIUS, PLANT_TOP),
}


# ---- state ---------------------------------------------------------------------------------

def read_states(bodies: Mapping[str, PaperBody], client: int) -> dict[str, PaperObjectState]:
    """Every task object's state now (see the module docstring)."""
    out: dict[str, PaperObjectState] = {}
    for oid, b in bodies.items():
        xyz, quat = p.getBasePositionAndOrientation(b.body, physicsClientId=client)
        q = np.asarray(quat, dtype=float)
        x, y, z, w = q
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        pos = np.asarray(xyz, dtype=float)
        opening = None
        if b.joint is not None:
            opening = drawer_opening(client, b.body, b.joint)
            pos = np.asarray(p.getLinkState(b.body, b.link, computeForwardKinematics=True,
                                            physicsClientId=client)[4], dtype=float)
        elif b.centre_offset:
            pos = pos + np.asarray(p.getMatrixFromQuaternion(quat)).reshape(3, 3)[:, 2] \
                * b.centre_offset
        label = OBJECTS[oid][0]
        out[oid] = PaperObjectState(oid, label, "", pos, yaw, _SIZES[oid], orientation=q,
                                    joint_position=opening, movable=b.movable)
    return out


def set_pose(client: int, body: PaperBody, position: Sequence[float],
             orientation: Sequence[float] | None = None) -> None:
    """Teleport a movable object (at rest); ``orientation`` x y z w (default upright)."""
    orn = list(orientation) if orientation is not None else list(quat_from_euler(0, 0, 0))
    p.resetBasePositionAndOrientation(body.body, [float(v) for v in position], orn,
                                      physicsClientId=client)
    p.resetBaseVelocity(body.body, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], physicsClientId=client)
