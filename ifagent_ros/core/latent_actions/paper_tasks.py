"""LILAC's own five tasks (Karamcheti et al. 2022): parameters, phrasings and success checks.

The "paper" set, beside the five translation-only "easy" families of :mod:`.tasks` (which stay
exactly as they are, in ``TASK_FAMILIES``). Each of these needs an orientation change or an
articulated object:

* ``clean_trash``   drop a crumpled piece of paper (``trash``) into an open ``trash_bin``
* ``transfer_pen``  pick a ``pen`` lying on the table, put it upright into a ``pen_cup``
* ``open_drawer``   pull a ``drawer`` (prismatic joint, handle) open by >= ``DRAWER_OPEN_SUCCESS``
* ``insert_book``   stand a ``book`` up and slide it into the gap of a ``shelf``
* ``water_plant``   carry a ``watering_cup`` over a ``plant`` and tilt it past ``POUR_ANGLE``

All in ``base_link`` (table top z = 0, x away from the robot, y to its left). A family samples
one layout per episode (:meth:`PaperTaskFamily.sample`): every object's x, y, yaw uniform in the
family's stated :class:`PlacementRange` (y mirrored when the task's ``side`` is -1; fixtures
never overlap), the arm's start pose ``HOME_Q`` + uniform noise of at most ``START_Q_JITTER``
per joint, and task-specific values (the drawer's initial opening, the shelf gap's offset).
The simulator (``ifagent_ros.sim.paper_objects``) builds the world from those params.

Success is physical, on the objects' sim state: positions *and* orientations
(:class:`PaperObjectState.orientation`, quaternion x y z w) and the drawer's joint position.
An object that leaves the table ends the episode failed (:meth:`PaperTaskInstance.outcome`).

Pure: numpy and yaml only (no simulator), like :mod:`.tasks`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from ifagent_ros.core.control.robot_model import PANDA_HOME_Q
from ifagent_ros.core.latent_actions.tasks import (
    TASK_FAMILIES,
    ObjectState,
    Split,
    TaskFamily,
    TaskInstance,
)
from ifagent_ros.core.registry import lookup, unknown_message
from ifagent_ros.core.worlds.scene import BASE_KEEPOUT_RADIUS, polygons_separated

PAPER_PHRASINGS_FILE = Path(__file__).with_name("data") / "paper_phrasings.yaml"

# ---- object geometry (metres; the simulator builds exactly these) ---------------------------
TABLE_X: tuple[float, float] = (-0.2, 0.9)  # the tabletop scenes' table, base_link
TABLE_Y: tuple[float, float] = (-0.6, 0.6)
OFF_TABLE_BELOW_Z = -0.02  # an object centre this far below the table top has fallen off

TRASH_SIZE = (0.055, 0.05, 0.04)  # bounding box of the crumpled paper (three fused spheres)
BIN_SIZE = (0.16, 0.16, 0.12)  # open box: outer x, y, height
BIN_WALL = 0.008
PEN_LENGTH, PEN_RADIUS = 0.14, 0.006  # the pen's axis is its body z
PEN_CUP_RADIUS, PEN_CUP_HEIGHT, PEN_CUP_WALL = 0.03, 0.10, 0.004
PEN_UPRIGHT_MAX_TILT = math.radians(35.0)  # a pen leaning in the cup still counts as upright
CABINET_SIZE = (0.26, 0.30, 0.18)  # drawer cabinet: depth (x), width (y), height; front at -x
DRAWER_TRAVEL = 0.20  # the prismatic joint's upper limit
DRAWER_OPEN_SUCCESS = 0.10  # m open counts as opened
DRAWER_JOINT = "drawer_joint"
BOOK_SIZE = (0.025, 0.07, 0.14)  # body x: thickness, y: depth (spine to edge), z: height
SHELF_SIZE = (0.14, 0.34, 0.24)  # depth (x), width (y), height; open at -x
SHELF_BOARD = 0.012  # board and wall thickness
SHELF_GAP = 0.045  # width of the free slot between the resident books
BOOK_MAX_TILT = math.radians(20.0)  # height axis from vertical, thickness axis from shelf y
CUP_RADIUS, CUP_HEIGHT, CUP_WALL = 0.03, 0.08, 0.004  # the watering cup; axis = body z
PLANT_POT_RADIUS, PLANT_POT_HEIGHT = 0.05, 0.08
PLANT_FOLIAGE_RADIUS = 0.05
PLANT_TOP = PLANT_POT_HEIGHT + 2.0 * PLANT_FOLIAGE_RADIUS  # 0.18
POUR_ANGLE = math.radians(45.0)  # cup axis this far from vertical pours
POUR_REACH = 0.08  # m: the cup's mouth within this xy distance of the plant's axis
RELEASED_WIDTH = 0.06  # m: a gripper open at least this wide holds nothing

# The arm's start pose: PANDA_HOME_Q plus uniform noise within these (rad, per joint).
START_Q_JITTER: tuple[float, ...] = (0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.3)

# object id -> (label, footprint half extents x, y used for non-overlap, movable)
OBJECTS: dict[str, tuple[str, float, float, bool]] = {
    "trash": ("trash", TRASH_SIZE[0] / 2, TRASH_SIZE[1] / 2, True),
    "trash_bin": ("bin", BIN_SIZE[0] / 2, BIN_SIZE[1] / 2, False),
    "pen": ("pen", PEN_RADIUS, PEN_LENGTH / 2, True),  # lying: length along body y on table
    "pen_cup": ("cup", PEN_CUP_RADIUS, PEN_CUP_RADIUS, False),
    "drawer": ("drawer", CABINET_SIZE[0] / 2 + 0.07, CABINET_SIZE[1] / 2, False),  # + handle
    "book": ("book", BOOK_SIZE[2] / 2, BOOK_SIZE[1] / 2, True),  # lying flat
    "shelf": ("shelf", SHELF_SIZE[0] / 2, SHELF_SIZE[1] / 2, False),
    "watering_cup": ("watering cup", CUP_RADIUS, CUP_RADIUS, True),
    "plant": ("plant", PLANT_POT_RADIUS, PLANT_POT_RADIUS, False),
}


@dataclass(eq=False)  # arrays inside: compare fields, not instances
class PaperObjectState(ObjectState):
    """An :class:`ObjectState` with its full orientation and, for the drawer, the joint."""

    orientation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))
    joint_position: float | None = None  # the drawer's opening (m); None for other objects
    movable: bool = True  # fixtures (bin, cup, cabinet, shelf, plant) are static


@dataclass(frozen=True)
class PlacementRange:
    """Uniform ranges of one object's bounding-box centre x, y (m) and yaw (rad)."""

    x: tuple[float, float]
    y: tuple[float, float]  # for side = +1; side = -1 mirrors it to (-y[1], -y[0])
    yaw: tuple[float, float]

    def contains(self, x: float, y: float, yaw: float, side: float) -> bool:
        lo, hi = (self.y if side > 0 else (-self.y[1], -self.y[0]))
        eps = 1e-9
        return (self.x[0] - eps <= x <= self.x[1] + eps and lo - eps <= y <= hi + eps
                and self.yaw[0] - eps <= yaw <= self.yaw[1] + eps)


@dataclass(frozen=True)
class Outcome:
    status: Literal["running", "success", "failed"]
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.status != "running"


class PaperTaskError(ValueError):
    """A paper task asked for by a name that does not exist, or a malformed layout."""


# ---- small geometry helpers (pure numpy) ----------------------------------------------------

def quat_to_matrix(q: Any) -> np.ndarray:
    """Rotation matrix of a quaternion (x, y, z, w)."""
    x, y, z, w = (float(v) for v in np.asarray(q, dtype=float).reshape(4))
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if not n > 0.0:
        raise ValueError(f"not a rotation quaternion: {[x, y, z, w]}")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def quat_from_euler(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Quaternion (x, y, z, w) of R = Rz(yaw) Ry(pitch) Rx(roll), PyBullet's convention."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return np.array([sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
                     cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy])


def tilt_from_vertical(q: Any, axis: int = 2) -> float:
    """Angle (rad) between the body's ``axis`` and world +z."""
    a = quat_to_matrix(q)[:, axis]
    return math.acos(max(-1.0, min(1.0, float(a[2]))))


# Start orientations of the movable objects (body frame -> base_link), as functions of yaw.
def start_orientation(oid: str, yaw: float) -> np.ndarray:
    if oid == "pen":  # lying: its axis (body z) horizontal along the yawed y direction
        return quat_from_euler(math.pi / 2, 0.0, yaw)
    if oid == "book":  # lying flat: thickness (body x) vertical, height along yawed x
        return quat_from_euler(0.0, -math.pi / 2, yaw)
    return quat_from_euler(0.0, 0.0, yaw)


def resting_z(oid: str) -> float:
    """Bounding-box centre height of an object at its start pose on the table (1 mm drop)."""
    return {"trash": TRASH_SIZE[2] / 2, "pen": PEN_RADIUS, "book": BOOK_SIZE[0] / 2,
            "watering_cup": CUP_HEIGHT / 2, "pen_cup": PEN_CUP_HEIGHT / 2,
            "trash_bin": BIN_SIZE[2] / 2, "plant": 0.0, "drawer": 0.0,
            "shelf": 0.0}[oid] + (0.001 if OBJECTS[oid][3] else 0.0)


def _footprint(oid: str, x: float, y: float, yaw: float) -> np.ndarray:
    hx, hy = OBJECTS[oid][1], OBJECTS[oid][2]
    corners = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
    c, s = math.cos(yaw), math.sin(yaw)
    return corners @ np.array([[c, s], [-s, c]]) + np.array([x, y])


def _pos(objects: Mapping[str, Any], oid: str) -> np.ndarray:
    if oid not in objects:
        raise KeyError(f"object {oid!r} is not in the observation")
    return np.asarray(objects[oid].position, dtype=float)


def _rot(objects: Mapping[str, Any], oid: str) -> np.ndarray:
    o = objects[oid]
    q = getattr(o, "orientation", None)
    return quat_to_matrix(q) if q is not None else quat_to_matrix(quat_from_euler(0, 0, o.yaw))


def _released(gripper_width: float, ee: Any, obj: np.ndarray) -> bool:
    return gripper_width >= RELEASED_WIDTH or float(np.linalg.norm(np.asarray(ee) - obj)) > 0.06


def _in_frame(params: Mapping[str, Any], oid: str, point: np.ndarray) -> np.ndarray:
    """``point`` (base_link) in the yawed frame of fixture ``oid`` at its sampled pose."""
    pl = params["layout"][oid]
    c, s = math.cos(pl["yaw"]), math.sin(pl["yaw"])
    d = np.asarray(point, dtype=float)[:2] - np.asarray(pl["xy"], dtype=float)
    return np.array([c * d[0] + s * d[1], -s * d[0] + c * d[1], float(point[2])])


def off_table(objects: Mapping[str, Any]) -> str | None:
    """Why a movable object has left the table (fallen off or outside its edges), or None."""
    for oid, o in objects.items():
        if not getattr(o, "movable", True):
            continue
        x, y, z = (float(v) for v in np.asarray(o.position, dtype=float))
        if not all(math.isfinite(v) for v in (x, y, z)):
            return f"object '{oid}' has a non-finite position {[x, y, z]}"
        if not (TABLE_X[0] <= x <= TABLE_X[1] and TABLE_Y[0] <= y <= TABLE_Y[1]) \
                or z < OFF_TABLE_BELOW_Z:
            return (f"object '{oid}' left the table: centre at ({x:.3f}, {y:.3f}, {z:.3f}) m, "
                    f"table x {list(TABLE_X)}, y {list(TABLE_Y)}, top z = 0")
    return None


# ---- families ------------------------------------------------------------------------------

class PaperTaskFamily(TaskFamily):
    """One of LILAC's tasks: a randomized layout, phrasings from ``paper_phrasings.yaml``."""

    name = ""
    objects: tuple[str, ...] = ()
    ranges: dict[str, PlacementRange] = {}
    names: dict[str, str] = {}  # phrasing params: {trash}, {bin}, ...

    def extra_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return {}

    def nominal_extra(self) -> dict[str, Any]:
        return {}

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        side = 1.0 if rng.random() < 0.5 else -1.0
        for _ in range(200):
            layout = {}
            for oid in self.objects:
                r = self.ranges[oid]
                x = float(rng.uniform(*r.x))
                y = float(rng.uniform(*r.y)) * side
                yaw = float(rng.uniform(*r.yaw))
                layout[oid] = {"xy": [x, y], "yaw": yaw}
            if layout_conflict(layout) is None:
                break
        else:  # pragma: no cover - the stated ranges are chosen so this never happens
            raise PaperTaskError(f"{self.name}: no valid layout in 200 tries "
                                 f"({layout_conflict(layout)})")
        jitter = np.asarray(START_Q_JITTER)
        start_q = (np.asarray(PANDA_HOME_Q) + rng.uniform(-jitter, jitter)).tolist()
        return {**self.names, "side": side, "layout": layout, "start_q": start_q,
                **self.extra_params(rng)}

    def nominal_params(self) -> dict[str, Any]:
        """The centre of every range, side +1, the arm at home (``reset(seed=None)``)."""
        layout = {oid: {"xy": [sum(r.x) / 2, sum(r.y) / 2], "yaw": sum(r.yaw) / 2}
                  for oid, r in ((o, self.ranges[o]) for o in self.objects)}
        return {**self.names, "side": 1.0, "layout": layout, "start_q": list(PANDA_HOME_Q),
                **self.nominal_extra()}

    def instruction(self, params: Mapping[str, Any], split: Split,
                    rng: np.random.Generator) -> str:
        templates = paper_phrasings()["tasks"][self.name][split]
        return str(templates[int(rng.integers(len(templates)))]).format(**params)

    def sample(self, rng: np.random.Generator, split: Split = "train") -> PaperTaskInstance:
        params = self.sample_params(rng)
        return PaperTaskInstance(self.name, params, self.instruction(params, split, rng), split)

    def nominal(self, split: Split = "train") -> PaperTaskInstance:
        params = self.nominal_params()
        return PaperTaskInstance(self.name, params, self.instruction(
            params, split, np.random.default_rng(0)), split)


def layout_conflict(layout: Mapping[str, Mapping[str, Any]], clearance: float = 0.03) -> str | None:
    """Why a layout is invalid (off the table, on the robot base, overlapping), or None."""
    polys = {}
    keepout = np.array([[BASE_KEEPOUT_RADIUS * math.cos(a), BASE_KEEPOUT_RADIUS * math.sin(a)]
                        for a in np.linspace(0.0, 2.0 * math.pi, 16, endpoint=False)])
    for oid, pl in layout.items():
        poly = _footprint(oid, float(pl["xy"][0]), float(pl["xy"][1]), float(pl["yaw"]))
        if (poly[:, 0].min() < TABLE_X[0] or poly[:, 0].max() > TABLE_X[1]
                or poly[:, 1].min() < TABLE_Y[0] or poly[:, 1].max() > TABLE_Y[1]):
            return f"'{oid}' is not fully on the table"
        if not polygons_separated(poly, keepout):
            return f"'{oid}' overlaps the robot base"
        for other, opoly in polys.items():
            if not polygons_separated(poly, opoly, clearance):
                return f"'{oid}' overlaps '{other}'"
        polys[oid] = poly
    return None


_TABLE_SIDE = (-math.pi / 2, math.pi / 2)
_FACING = (-0.35, 0.35)  # fixtures with an opening face the robot within this yaw


class CleanTrash(PaperTaskFamily):
    name = "clean_trash"
    objects = ("trash", "trash_bin")
    ranges = {"trash": PlacementRange((0.35, 0.52), (-0.25, -0.06), (-math.pi, math.pi)),
              "trash_bin": PlacementRange((0.45, 0.62), (0.14, 0.30), _FACING)}
    names = {"trash": "crumpled paper", "bin": "trash bin"}

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        t = _pos(now, "trash")
        local = _in_frame(params, "trash_bin", t)
        inner = BIN_SIZE[0] / 2 - BIN_WALL
        inside = abs(local[0]) < inner and abs(local[1]) < inner and 0.0 < local[2] < BIN_SIZE[2]
        return inside and _released(gripper_width, ee_position, t)


class TransferPen(PaperTaskFamily):
    name = "transfer_pen"
    objects = ("pen", "pen_cup")
    ranges = {"pen": PlacementRange((0.36, 0.52), (-0.24, -0.12), (-0.4, 0.4)),
              "pen_cup": PlacementRange((0.42, 0.60), (0.10, 0.28), (-math.pi, math.pi))}
    names = {"pen": "pen", "cup": "cup"}

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        c, axis = _pos(now, "pen"), _rot(now, "pen")[:, 2]
        ends = (c + axis * PEN_LENGTH / 2, c - axis * PEN_LENGTH / 2)
        low = min(ends, key=lambda e: float(e[2]))
        cup = np.array([*params["layout"]["pen_cup"]["xy"], 0.0])
        in_cup = (float(np.linalg.norm(low[:2] - cup[:2])) < PEN_CUP_RADIUS - PEN_CUP_WALL
                  and float(low[2]) < PEN_CUP_HEIGHT)
        upright = math.acos(min(1.0, abs(float(axis[2])))) <= PEN_UPRIGHT_MAX_TILT
        return in_cup and upright and _released(gripper_width, ee_position, c)


class OpenDrawer(PaperTaskFamily):
    name = "open_drawer"
    objects = ("drawer",)
    ranges = {"drawer": PlacementRange((0.58, 0.66), (-0.15, 0.15), _FACING)}
    names = {"drawer": "drawer"}
    START_OPENING = (0.0, 0.03)  # m: the drawer starts closed or slightly ajar

    def extra_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"start_opening": float(rng.uniform(*self.START_OPENING))}

    def nominal_extra(self) -> dict[str, Any]:
        return {"start_opening": 0.0}

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        if "drawer" not in now:
            raise KeyError("object 'drawer' is not in the observation")
        opening = getattr(now["drawer"], "joint_position", None)
        if opening is None:
            raise KeyError("the drawer's joint position is not in the observation")
        return float(opening) >= DRAWER_OPEN_SUCCESS


class InsertBook(PaperTaskFamily):
    name = "insert_book"
    objects = ("book", "shelf")
    ranges = {"book": PlacementRange((0.33, 0.45), (-0.26, -0.12), _TABLE_SIDE),
              "shelf": PlacementRange((0.64, 0.70), (0.08, 0.20), (-0.3, 0.3))}
    names = {"book": "book", "shelf": "shelf"}
    GAP_OFFSET = (-0.06, 0.06)  # m: the slot's centre along the shelf's width

    def extra_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"gap_y": float(rng.uniform(*self.GAP_OFFSET))}

    def nominal_extra(self) -> dict[str, Any]:
        return {"gap_y": 0.0}

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        b, r = _pos(now, "book"), _rot(now, "book")
        local = _in_frame(params, "shelf", b)
        in_gap = abs(float(local[1]) - float(params["gap_y"])) < SHELF_GAP / 2
        inserted = -SHELF_SIZE[0] / 2 + 0.03 <= local[0] <= SHELF_SIZE[0] / 2
        resting = local[2] < SHELF_BOARD + BOOK_SIZE[2] / 2 + 0.03
        yaw = float(params["layout"]["shelf"]["yaw"])
        shelf_y = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
        upright = float(r[2, 2]) >= math.cos(BOOK_MAX_TILT)
        aligned = abs(float(r[:, 0] @ shelf_y)) >= math.cos(BOOK_MAX_TILT)
        return in_gap and inserted and resting and upright and aligned \
            and _released(gripper_width, ee_position, b)


class WaterPlant(PaperTaskFamily):
    name = "water_plant"
    objects = ("watering_cup", "plant")
    ranges = {"watering_cup": PlacementRange((0.36, 0.50), (-0.26, -0.08), (-math.pi, math.pi)),
              "plant": PlacementRange((0.50, 0.64), (0.06, 0.24), (-math.pi, math.pi))}
    names = {"cup": "cup", "plant": "plant"}

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        c, r = _pos(now, "watering_cup"), _rot(now, "watering_cup")
        mouth = c + r[:, 2] * CUP_HEIGHT / 2
        plant = np.asarray(params["layout"]["plant"]["xy"], dtype=float)
        over = float(np.linalg.norm(mouth[:2] - plant)) < POUR_REACH and float(c[2]) > PLANT_TOP
        tilted = math.acos(max(-1.0, min(1.0, float(r[2, 2])))) >= POUR_ANGLE
        return over and tilted


PAPER_FAMILIES: dict[str, PaperTaskFamily] = {
    f.name: f for f in (CleanTrash(), TransferPen(), OpenDrawer(), InsertBook(), WaterPlant())
}
TASK_SETS: dict[str, tuple[str, ...]] = {
    "easy": tuple(TASK_FAMILIES), "paper": tuple(PAPER_FAMILIES),
    "all": (*TASK_FAMILIES, *PAPER_FAMILIES),
}


@dataclass
class PaperTaskInstance(TaskInstance):
    """A paper task; ``outcome`` adds the failure an object leaving the table means."""

    @property
    def spec(self) -> PaperTaskFamily:
        return PAPER_FAMILIES[self.family]

    def outcome(self, objects_now: Mapping[str, Any], objects_at_start: Mapping[str, Any],
                gripper_width: float, ee_position: Any) -> Outcome:
        why = off_table(objects_now)
        if why is not None:
            return Outcome("failed", why)
        if self.success(objects_now, objects_at_start, gripper_width, ee_position):
            return Outcome("success")
        return Outcome("running")


def paper_family(name: str) -> PaperTaskFamily:
    """The family of ``name`` (``clean-trash`` and ``clean_trash`` alike); a clear error else."""
    key = str(name).strip().replace("-", "_")
    if key in TASK_FAMILIES:
        raise PaperTaskError(f"{unknown_message(PAPER_FAMILIES, name, 'paper task')} ({key!r} "
                             "is an 'easy' task, see tasks.TASK_FAMILIES)")
    if key not in PAPER_FAMILIES:
        raise PaperTaskError(unknown_message(PAPER_FAMILIES, name, "paper task"))
    return PAPER_FAMILIES[key]


def sample_paper_task(family: str, rng: np.random.Generator,
                      split: Split = "train") -> PaperTaskInstance:
    return paper_family(family).sample(rng, split)


def task_set(which: str) -> tuple[str, ...]:
    """Family names of ``easy`` (the original five), ``paper`` (LILAC's five) or ``all``."""
    return lookup(TASK_SETS, which, "task set", error=PaperTaskError)


@lru_cache(maxsize=1)
def paper_phrasings() -> dict[str, dict[str, dict[str, list[str]]]]:
    """``{"tasks": {family: {"train": [...], "heldout": [...]}}}`` of the paper families."""
    doc = yaml.safe_load(PAPER_PHRASINGS_FILE.read_text())
    for name in PAPER_FAMILIES:
        entry = ((doc or {}).get("tasks") or {}).get(name) or {}
        if not entry.get("train") or not entry.get("heldout"):
            raise ValueError(f"{PAPER_PHRASINGS_FILE}: tasks.{name} needs train and heldout "
                             "phrasings")
    return doc
