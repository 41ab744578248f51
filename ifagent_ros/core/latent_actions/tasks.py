"""The tabletop tasks of the shared-autonomy study: parameters, phrasings, plans, success checks.

Five families on the objects of ``scenes/tabletop_default.yaml`` (4 cm blocks, a bowl, a
plate, a mug), all in ``base_link`` (table top z = 0, x away from the robot, y to its left):

* ``pick_place_bowl``  put {block} in the {bowl}
* ``pick_place_plate`` put {block} on the {plate}
* ``push``             push {block} ~0.10 m to the {direction} (left +y, right -y), fingers closed
* ``stack``            put {block_a} on {block_b}
* ``far_side``         put {block} on the far side of the table (x >= ``FAR_X``)

A family samples its params from a seeded rng (:meth:`TaskFamily.sample`) into a
:class:`TaskInstance`; the instance phrases itself (``instruction(split, rng)``, 12 templates per
family in ``data/phrasings.yaml``, 3 held out), plans (``waypoints(objects)``: the path a person
or the expert follows, from the objects' *current* poses) and judges (``success``: physical
criteria on the objects, never on the plan). The 12 correction primitives (``PRIMITIVES``) carry
the unit twist direction the correction parser gives the same words.

Pure: numpy and yaml only, so the simulated user and the evaluation can import it anywhere.
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

PHRASINGS_FILE = Path(__file__).with_name("data") / "phrasings.yaml"
Split = Literal["train", "heldout"]
GripperCommand = Literal["open", "close"]

BLOCK_IDS: tuple[str, ...] = ("red_block", "green_block", "blue_block")
BOWL_ID, PLATE_ID, MUG_ID = "yellow_bowl", "white_plate", "orange_mug"
TRANSIT_Z = 0.15  # m: carrying height (a held block clears the 9 cm mug)
HOVER = 0.08  # m above a grasp or release point before going straight down
GRASP_BELOW_CENTRE = 0.005  # TCP this far below a block's centre: fingers cover most of it
FAR_X = 0.65  # m: "the far side of the table" starts here (the robot stands at x = 0)
FAR_TARGET_X = 0.72
PUSH_DISTANCE = 0.10  # m a push moves the block
PUSH_SUCCESS = 0.07  # m along the push direction counts as pushed
RELEASED_WIDTH = 0.06  # m: a gripper open at least this wide holds nothing


@dataclass(eq=False)  # arrays inside: compare fields, not instances
class ObjectState:
    """One object as perception (or the simulator) reports it, in base_link."""

    id: str
    label: str
    color: str
    position: np.ndarray  # bounding-box centre (3,)
    yaw: float = 0.0
    size: tuple[float, float, float] = (0.04, 0.04, 0.04)


@dataclass(eq=False)  # arrays inside: compare fields, not instances
class ArmObservation:
    """What the expert, the controller and the simulated user see each step."""

    time: float  # s since the episode started (sim time)
    q: np.ndarray  # (7,) panda_joint1..7
    ee_position: np.ndarray  # (3,) TCP (panda_grasptarget)
    ee_rotation: np.ndarray  # (3, 3)
    gripper_width: float  # m, 0..0.08
    objects: dict[str, ObjectState] = field(default_factory=dict)


@dataclass(eq=False)  # arrays inside: compare fields, not instances
class Waypoint:
    position: np.ndarray  # (3,) TCP target in base_link
    gripper: GripperCommand | None = None  # applied on arrival (the expert waits for it)
    tolerance: float = 0.01  # m: arrived when this close
    label: str = ""  # e.g. "above red_block"
    max_speed: float | None = None  # m/s cap for this leg (slow final approaches)


def _name(objects: Mapping[str, ObjectState], oid: str) -> str:
    o = objects.get(oid)
    return f"{o.color} {o.label}" if o is not None else oid.replace("_", " ")


def _pos(objects: Mapping[str, Any], oid: str) -> np.ndarray:
    if oid not in objects:
        raise KeyError(f"object {oid!r} is not in the observation")
    return np.asarray(objects[oid].position, dtype=float)


def _half_height(objects: Mapping[str, Any], oid: str) -> float:
    return float(objects[oid].size[2]) / 2.0


def _released(gripper_width: float, ee: np.ndarray, obj: np.ndarray) -> bool:
    return gripper_width >= RELEASED_WIDTH or float(np.linalg.norm(ee - obj)) > 0.06


def _pick(objects: Mapping[str, Any], oid: str) -> list[Waypoint]:
    b = _pos(objects, oid)
    grasp = b + [0.0, 0.0, -GRASP_BELOW_CENTRE]
    return [
        Waypoint(grasp + [0, 0, HOVER], "open", 0.008, f"above {oid}"),
        Waypoint(grasp, "close", 0.006, f"at {oid}", max_speed=0.06),
        Waypoint(np.array([b[0], b[1], TRANSIT_Z]), None, 0.02, f"lift {oid}"),
    ]


def _place(xy: np.ndarray, block_centre_z: float, what: str) -> list[Waypoint]:
    """Carry above ``xy``, lower until the held block's centre is at ``block_centre_z``, open,
    and retreat straight up."""
    release = np.array([xy[0], xy[1], block_centre_z - GRASP_BELOW_CENTRE])
    return [
        Waypoint(np.array([xy[0], xy[1], TRANSIT_Z]), None, 0.012, f"above {what}"),
        Waypoint(release, "open", 0.008, f"release at {what}", max_speed=0.06),
        Waypoint(release + [0, 0, HOVER], None, 0.02, f"retreat from {what}"),
    ]


class TaskFamily:
    """One family of tasks; subclasses define params, plan and success."""

    name = ""

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        raise NotImplementedError

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        raise NotImplementedError

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        raise NotImplementedError

    def instruction(self, params: Mapping[str, Any], split: Split,
                    rng: np.random.Generator) -> str:
        templates = phrasings()["tasks"][self.name][split]
        return str(templates[int(rng.integers(len(templates)))]).format(**params)

    def sample(self, rng: np.random.Generator, split: Split = "train") -> TaskInstance:
        params = self.sample_params(rng)
        return TaskInstance(self.name, params, self.instruction(params, split, rng), split)


def _block_params(rng: np.random.Generator, key: str = "block") -> dict[str, Any]:
    oid = BLOCK_IDS[int(rng.integers(len(BLOCK_IDS)))]
    return {f"{key}_id": oid, key: oid.replace("_", " ")}


class PickPlaceBowl(TaskFamily):
    name = "pick_place_bowl"

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return {**_block_params(rng), "bowl_id": BOWL_ID, "bowl": BOWL_ID.replace("_", " ")}

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        bowl = _pos(objects, params["bowl_id"])
        rim = bowl[2] + _half_height(objects, params["bowl_id"])
        # Release with the block's bottom just below the rim: a short drop, no wall contact.
        return [*_pick(objects, params["block_id"]),
                *_place(bowl[:2], rim + 0.015, params["bowl_id"])]

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        b, bowl = _pos(now, params["block_id"]), _pos(now, params["bowl_id"])
        radius = float(now[params["bowl_id"]].size[0]) / 2.0
        inside = float(np.linalg.norm(b[:2] - bowl[:2])) < radius - 0.015
        below_rim = b[2] < bowl[2] + _half_height(now, params["bowl_id"])
        return inside and below_rim and _released(gripper_width, np.asarray(ee_position), b)


class PickPlacePlate(TaskFamily):
    name = "pick_place_plate"

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return {**_block_params(rng), "plate_id": PLATE_ID, "plate": PLATE_ID.replace("_", " ")}

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        plate = _pos(objects, params["plate_id"])
        top = plate[2] + _half_height(objects, params["plate_id"])
        half = _half_height(objects, params["block_id"])
        return [*_pick(objects, params["block_id"]),
                *_place(plate[:2], top + half + 0.008, params["plate_id"])]

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        b, plate = _pos(now, params["block_id"]), _pos(now, params["plate_id"])
        radius = float(now[params["plate_id"]].size[0]) / 2.0
        on_it = float(np.linalg.norm(b[:2] - plate[:2])) < radius - 0.01
        bottom = b[2] - _half_height(now, params["block_id"])
        top = plate[2] + _half_height(now, params["plate_id"])
        resting = top - 0.01 < bottom < top + 0.012
        return on_it and resting and _released(gripper_width, np.asarray(ee_position), b)


class Push(TaskFamily):
    name = "push"

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        direction = "left" if rng.random() < 0.5 else "right"
        return {**_block_params(rng), "direction": direction,
                "sign": 1.0 if direction == "left" else -1.0, "distance": PUSH_DISTANCE}

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        b = _pos(objects, params["block_id"])
        s = float(params["sign"])
        contact = 0.03  # block half width + closed-finger half width
        z = b[2]
        start = np.array([b[0], b[1] - s * (contact + 0.025), z])
        end = np.array([b[0], b[1] + s * (float(params["distance"]) + 0.01 - contact), z])
        oid = params["block_id"]
        return [
            Waypoint(start + [0, 0, HOVER], "close", 0.008, f"beside {oid}"),
            Waypoint(start, None, 0.006, f"down beside {oid}", max_speed=0.06),
            Waypoint(end, None, 0.008, f"push {oid} {params['direction']}", max_speed=0.06),
            Waypoint(end + [0, 0, HOVER], None, 0.02, f"retreat from {oid}"),
        ]

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        d = _pos(now, params["block_id"]) - _pos(start, params["block_id"])
        on_table = _pos(now, params["block_id"])[2] < _half_height(now, params["block_id"]) + 0.01
        return float(d[1]) * float(params["sign"]) >= PUSH_SUCCESS and abs(float(d[0])) < 0.05 \
            and on_table


class Stack(TaskFamily):
    name = "stack"

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        a, b = rng.choice(len(BLOCK_IDS), size=2, replace=False)
        return {"block_a_id": BLOCK_IDS[int(a)], "block_a": BLOCK_IDS[int(a)].replace("_", " "),
                "block_b_id": BLOCK_IDS[int(b)], "block_b": BLOCK_IDS[int(b)].replace("_", " ")}

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        b = _pos(objects, params["block_b_id"])
        top = b[2] + _half_height(objects, params["block_b_id"])
        half = _half_height(objects, params["block_a_id"])
        return [*_pick(objects, params["block_a_id"]),
                *_place(b[:2], top + half + 0.006, params["block_b_id"])]

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        a, b = _pos(now, params["block_a_id"]), _pos(now, params["block_b_id"])
        ha, hb = _half_height(now, params["block_a_id"]), _half_height(now, params["block_b_id"])
        centred = float(np.linalg.norm(a[:2] - b[:2])) < 0.025
        on_top = abs(float(a[2] - b[2]) - (ha + hb)) < 0.01
        b_on_table = b[2] < hb + 0.01
        return centred and on_top and b_on_table and _released(gripper_width,
                                                               np.asarray(ee_position), a)


class FarSide(TaskFamily):
    name = "far_side"

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return _block_params(rng)

    @staticmethod
    def target_xy(block_id: str, objects: Mapping[str, Any]) -> np.ndarray:
        """A free spot at ``FAR_TARGET_X``: the y nearest the block's own y that keeps 4 cm of
        table between the block and every other object's footprint."""
        y0 = float(_pos(objects, block_id)[1])
        others = [(np.asarray(o.position, dtype=float)[:2], 0.5 * math.hypot(o.size[0], o.size[1]))
                  for oid, o in objects.items() if oid != block_id]
        best, best_gap = np.array([FAR_TARGET_X, y0]), -math.inf
        for dy in sorted(np.arange(-0.3, 0.301, 0.02), key=abs):
            xy = np.array([FAR_TARGET_X, float(np.clip(y0 + dy, -0.35, 0.35))])
            gap = min((float(np.linalg.norm(xy - c)) - r - 0.03 for c, r in others),
                      default=math.inf)
            if gap >= 0.04:
                return xy
            if gap > best_gap:
                best, best_gap = xy, gap
        return best

    def waypoints(self, params: Mapping[str, Any], objects: Mapping[str, Any]) -> list[Waypoint]:
        half = _half_height(objects, params["block_id"])
        xy = self.target_xy(params["block_id"], objects)
        return [*_pick(objects, params["block_id"]), *_place(xy, half + 0.008, "the far side")]

    def success(self, params: Mapping[str, Any], now: Mapping[str, Any],
                start: Mapping[str, Any], gripper_width: float, ee_position: Any) -> bool:
        b = _pos(now, params["block_id"])
        on_table = b[2] < _half_height(now, params["block_id"]) + 0.01
        return b[0] >= FAR_X and on_table and _released(gripper_width, np.asarray(ee_position), b)


TASK_FAMILIES: dict[str, TaskFamily] = {
    f.name: f for f in (PickPlaceBowl(), PickPlacePlate(), Push(), Stack(), FarSide())
}


@dataclass
class TaskInstance:
    """One task with its params and the phrasing it was given in."""

    family: str
    params: dict[str, Any]
    text: str
    split: Split = "train"

    @property
    def spec(self) -> TaskFamily:
        return TASK_FAMILIES[self.family]

    def instruction(self, split: Split, rng: np.random.Generator) -> str:
        return self.spec.instruction(self.params, split, rng)

    def waypoints(self, objects: Mapping[str, Any]) -> list[Waypoint]:
        return self.spec.waypoints(self.params, objects)

    def success(self, objects_now: Mapping[str, Any], objects_at_start: Mapping[str, Any],
                gripper_width: float, ee_position: Any) -> bool:
        """Physical success (False, not an error, when an object it needs is missing)."""
        try:
            return bool(self.spec.success(self.params, objects_now, objects_at_start,
                                          float(gripper_width), ee_position))
        except KeyError:
            return False


def sample_task(family: str, rng: np.random.Generator, split: Split = "train") -> TaskInstance:
    if family not in TASK_FAMILIES:
        raise KeyError(f"unknown task family {family!r}; known: {', '.join(TASK_FAMILIES)}")
    return TASK_FAMILIES[family].sample(rng, split)


# ---- correction primitives -----------------------------------------------------------------

@dataclass(frozen=True)
class Primitive:
    """A context-free correction: a unit twist direction in base_link ([v; w], one part zero)."""

    name: str
    kind: Literal["direction", "rotation"]
    axis: tuple[float, float, float]  # as CorrectionParser reports it

    @property
    def twist(self) -> np.ndarray:
        lin = self.axis if self.kind == "direction" else (0.0, 0.0, 0.0)
        ang = self.axis if self.kind == "rotation" else (0.0, 0.0, 0.0)
        return np.array([*lin, *ang], dtype=float)

    def phrasings(self, split: Split) -> list[str]:
        return list(phrasings()["corrections"][self.name][split])


# Axes follow the correction parser's conventions (core/language/lexicon.py): tilt down = +y.
PRIMITIVES: dict[str, Primitive] = {p.name: p for p in (
    Primitive("left", "direction", (0.0, 1.0, 0.0)),
    Primitive("right", "direction", (0.0, -1.0, 0.0)),
    Primitive("up", "direction", (0.0, 0.0, 1.0)),
    Primitive("down", "direction", (0.0, 0.0, -1.0)),
    Primitive("forward", "direction", (1.0, 0.0, 0.0)),
    Primitive("backward", "direction", (-1.0, 0.0, 0.0)),
    Primitive("twist_left", "rotation", (0.0, 0.0, 1.0)),
    Primitive("twist_right", "rotation", (0.0, 0.0, -1.0)),
    Primitive("tilt_up", "rotation", (0.0, -1.0, 0.0)),
    Primitive("tilt_down", "rotation", (0.0, 1.0, 0.0)),
    Primitive("tilt_left", "rotation", (-1.0, 0.0, 0.0)),
    Primitive("tilt_right", "rotation", (1.0, 0.0, 0.0)),
)}


@lru_cache(maxsize=1)
def phrasings() -> dict[str, dict[str, dict[str, list[str]]]]:
    """``{"tasks": {family: {"train": [...], "heldout": [...]}}, "corrections": {...}}``."""
    doc = yaml.safe_load(PHRASINGS_FILE.read_text())
    for section, names in (("tasks", TASK_FAMILIES), ("corrections", PRIMITIVES)):
        for name in names:
            entry = (doc.get(section) or {}).get(name) or {}
            if not entry.get("train") or not entry.get("heldout"):
                raise ValueError(f"{PHRASINGS_FILE}: {section}.{name} needs train and heldout "
                                 "phrasings")
    return doc


def dataset_phrasings() -> dict[str, dict[str, list[str]]]:
    """Task and correction phrasings in one family -> split -> templates map (DatasetMeta)."""
    doc = phrasings()
    return {**{k: dict(v) for k, v in doc["tasks"].items()},
            **{k: dict(v) for k, v in doc["corrections"].items()}}
