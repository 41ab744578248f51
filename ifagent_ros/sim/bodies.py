"""PyBullet bodies for the tabletop: table, floor and scene objects built from primitive shapes.

Containers (bowl, mug) are one rigid body with a compound collision shape: a thin bottom disc and
wall boxes in a ring, so a block really rests inside them. Every body's frame (and centre of mass)
is the centre of its bounding box, so ``getBasePositionAndOrientation`` matches the scene file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pybullet as p

from ifagent_ros.core.worlds.scene import ObjectSpec, Placement, TableSpec

# PyBullet builds at most 16 shapes per compound (more are dropped silently): a mug is a bottom
# disc, the wall segments and a handle, so 14 segments leave room for all of them.
WALL_SEGMENTS = 14
MAX_COMPOUND_SHAPES = 16


@dataclass
class Parts:
    """Primitive shapes of one compound body, in the body frame (and each one's colour, where
    the body is not one colour)."""

    types: list[int] = field(default_factory=list)
    radii: list[float] = field(default_factory=list)
    half_extents: list[list[float]] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    positions: list[list[float]] = field(default_factory=list)
    orientations: list[list[float]] = field(default_factory=list)
    rgba: list[tuple[float, ...] | None] = field(default_factory=list)

    def add(self, kind: int, pos: Sequence[float], rgba: tuple[float, ...] | None = None,
            radius: float = 0.0, half: Sequence[float] = (0.0, 0.0, 0.0), length: float = 0.0,
            yaw: float = 0.0) -> None:
        self.types.append(kind)
        self.radii.append(radius)
        self.half_extents.append(list(half))
        self.lengths.append(length)
        self.positions.append(list(pos))
        self.orientations.append(list(p.getQuaternionFromEuler([0.0, 0.0, yaw])))
        self.rgba.append(rgba)

    def box(self, half: list[float], pos: list[float], yaw: float = 0.0) -> None:
        self.add(p.GEOM_BOX, pos, half=half, yaw=yaw)

    def cylinder(self, radius: float, length: float, pos: list[float]) -> None:
        self.add(p.GEOM_CYLINDER, pos, radius=radius, length=length)


def container(parts: Parts, radius: float, height: float, center_xy: tuple[float, float],
              wall: float, rgba: tuple[float, ...] | None = None) -> None:
    """Open cylinder-like container (bottom disc + ring of wall boxes), bottom at -height/2."""
    cx, cy = center_xy
    parts.add(p.GEOM_CYLINDER, [cx, cy, -height / 2.0 + wall / 2.0], rgba, radius=radius,
              length=wall)
    # Each wall box spans one ring segment with a little overlap so nothing slips between.
    seg_half = radius * math.tan(math.pi / WALL_SEGMENTS) + wall / 2.0
    for i in range(WALL_SEGMENTS):
        a = 2.0 * math.pi * i / WALL_SEGMENTS
        r = radius - wall / 2.0
        # Walls stand on the disc, so only the disc touches the table (fewer contacts).
        parts.add(p.GEOM_BOX, [cx + r * math.cos(a), cy + r * math.sin(a), wall / 2.0], rgba,
                  half=[wall / 2.0, seg_half, (height - wall) / 2.0], yaw=a)


def object_parts(obj: ObjectSpec) -> Parts:
    sx, sy, sz = obj.size
    parts = Parts()
    if obj.label == "block":
        parts.box([sx / 2.0, sy / 2.0, sz / 2.0], [0.0, 0.0, 0.0])
    elif obj.label == "plate":
        parts.cylinder(sx / 2.0, sz, [0.0, 0.0, 0.0])
    elif obj.label == "bowl":
        container(parts, sx / 2.0, sz, (0.0, 0.0), wall=min(0.006, 0.08 * sx))
    elif obj.label == "mug":
        # Cup on the -x side of the bounding box, handle filling the rest on +x.
        cup_r = sy / 2.0
        handle = sx - sy
        cup_cx = -sx / 2.0 + cup_r
        wall = min(0.005, 0.08 * sy)
        container(parts, cup_r, sz, (cup_cx, 0.0), wall)
        # The handle reaches into the cup wall so the two overlap instead of touching.
        parts.box([(handle + wall) / 2.0, 0.006, sz * 0.3],
                  [sx / 2.0 - (handle + wall) / 2.0, 0.0, 0.0])
    else:  # pragma: no cover - the schema's Literal makes this unreachable
        raise ValueError(f"object '{obj.id}': unknown label {obj.label!r}")
    return parts


def create_object(obj: ObjectSpec, placement: Placement, client: int) -> int:
    parts = object_parts(obj)
    if len(parts.types) > MAX_COMPOUND_SHAPES:
        raise ValueError(f"object '{obj.id}': {len(parts.types)} shapes, PyBullet keeps only "
                         f"{MAX_COMPOUND_SHAPES}")
    kwargs = dict(shapeTypes=parts.types, radii=parts.radii, halfExtents=parts.half_extents,
                  lengths=parts.lengths, physicsClientId=client)
    col = p.createCollisionShapeArray(collisionFramePositions=parts.positions,
                                      collisionFrameOrientations=parts.orientations, **kwargs)
    vis = p.createVisualShapeArray(visualFramePositions=parts.positions,
                                   visualFrameOrientations=parts.orientations, **kwargs)
    if col < 0 or vis < 0:
        raise RuntimeError(f"object '{obj.id}': PyBullet could not create its shapes")
    body = p.createMultiBody(
        baseMass=obj.effective_mass, baseCollisionShapeIndex=col, baseVisualShapeIndex=vis,
        basePosition=list(placement.position),
        baseOrientation=p.getQuaternionFromEuler([0.0, 0.0, placement.yaw]),
        physicsClientId=client)
    p.changeVisualShape(body, -1, rgbaColor=list(obj.color.rgba), physicsClientId=client)
    dyn: dict[str, float] = {"spinningFriction": 0.001, "rollingFriction": 0.0001}
    if obj.friction is not None:
        dyn["lateralFriction"] = obj.friction
    p.changeDynamics(body, -1, physicsClientId=client, **dyn)
    return body


def create_table(table: TableSpec, client: int) -> int:
    """A solid box whose top surface is z = 0, reaching down to the floor."""
    half = [(table.x[1] - table.x[0]) / 2.0, (table.y[1] - table.y[0]) / 2.0, table.height / 2.0]
    center = [(table.x[0] + table.x[1]) / 2.0, (table.y[0] + table.y[1]) / 2.0,
              -table.height / 2.0]
    col = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=client)
    vis = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=list(table.rgba),
                              physicsClientId=client)
    body = p.createMultiBody(0.0, col, vis, center, physicsClientId=client)
    p.changeDynamics(body, -1, lateralFriction=table.friction, physicsClientId=client)
    return body


def create_floor(z: float, client: int) -> int:
    """Infinite collision plane with a large grey visual slab (objects that fall stop here)."""
    col = p.createCollisionShape(p.GEOM_PLANE, physicsClientId=client)
    vis = p.createVisualShape(p.GEOM_BOX, halfExtents=[5.0, 5.0, 0.001],
                              visualFramePosition=[0.0, 0.0, -0.001],
                              rgbaColor=[0.55, 0.55, 0.58, 1.0], physicsClientId=client)
    return p.createMultiBody(0.0, col, vis, [0.0, 0.0, z], physicsClientId=client)
