"""Multi-room house floor plans: schema, validation, 2-D geometry, room lookup and visibility.

ROS-free and PyBullet-free. A house is data (``houses/*.yaml``) or comes from the seeded
generator (:mod:`ifagent_ros.core.worlds.house_generator`)::

    name: apartment_a
    wall_thickness: 0.1          # optional (m); walls stand on every room edge
    wall_height: 2.4
    rooms:                       # axis-aligned rectangles that do not overlap, metres in ``map``
      - {id: bedroom_1, type: bedroom, x: [0, 4], y: [0, 3.5]}
      - {id: hall, type: hallway, x: [4, 5.6], y: [0, 8]}
    doors:                       # an opening in the wall two rooms share; closed doors block
      - {id: door_bed, between: [bedroom_1, hall], at: [4, 1.2], width: 0.9, open: true}
    walls:                       # optional extra axis-aligned wall pieces inside rooms
      - {start: [1, 5], end: [2.5, 5]}
    objects:                     # furniture and landmarks; size/shape/colour default per label
      - {id: bed_1, label: bed, position: [1.2, 1.5], yaw: 0, color: blue}

Walls are derived from the room edges (shared edges once), with the door openings cut out;
a closed door is a panel in its opening. Frames: ``x``/``y`` metres in the world (``map``);
object ``yaw`` is counter-clockwise from +x (ROS); navigation *headings* are clockwise from +y
(:mod:`ifagent_ros.core.vln.types`), ``heading = pi/2 - yaw`` (:func:`yaw_to_heading`).

    house = load_house("apartment_a")           # name in houses, or a path
    house.room_at(2.0, 1.0).type                 # "bedroom"
    house.segment_free((1, 1), (6, 1), clearance=0.25)
    house.seen_objects((2.0, 1.5))               # SeenObject tuple: furniture, doors, rooms
    house.graph                                  # the navigation graph (house_graph.PlaceGraph)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ValidationError

from ifagent_ros.core.vln.types import SeenObject, heading_to
from ifagent_ros.core.worlds.geometry import Box2D, Obstacle
from ifagent_ros.core.worlds.house_schema import (  # noqa: F401 - re-exported: the house API
    ROOM_TYPES,
    DoorSpec,
    HouseSpec,
    ObjectSpec,
    RoomSpec,
    RoomType,
    WallSpec,
    format_errors,
)

if TYPE_CHECKING:
    from ifagent_ros.core.worlds.house_graph import PlaceGraph

# Repo checkout: <repo>/ifagent_ros/core/worlds/house.py -> <repo>/houses
REPO_HOUSE_DIR = Path(__file__).resolve().parents[3] / "houses"
_EPS = 1e-6
# Apparent-size model for SeenObject.closeness, close to R2R's max_area_frac: the fraction of a
# 60 x 45 degree view that the object's front face covers.
_VIEW_TAN_W, _VIEW_TAN_H = 2.0 * math.tan(math.radians(30.0)), 2.0 * math.tan(math.radians(22.5))


def yaw_to_heading(yaw: float) -> float:
    """ROS yaw (counter-clockwise from +x) -> navigation heading (clockwise from +y)."""
    return math.atan2(math.cos(yaw), math.sin(yaw))


def heading_to_yaw(heading: float) -> float:
    return math.atan2(math.cos(heading), math.sin(heading))


def parse_house(data: Any, source: str = "<house>") -> House:
    """Validate a house mapping; errors are ValueErrors naming the list entry and the key."""
    if not isinstance(data, dict):
        raise ValueError(f"house {source}: top level must be a mapping, got {type(data).__name__}")
    items: dict[str, list[Any]] = {}
    models = {"rooms": RoomSpec, "doors": DoorSpec, "walls": WallSpec, "objects": ObjectSpec}
    for key, model in models.items():
        raw = data.get(key, [])
        if not isinstance(raw, list):
            raise ValueError(f"house {source}: key '{key}' must be a list")
        out = []
        for i, entry in enumerate(raw):
            eid = entry.get("id") if isinstance(entry, dict) else None
            where = f"house {source}: {key}[{i}]" + (f" '{eid}'" if eid else "")
            try:
                out.append(model.model_validate(entry))
            except ValidationError as err:
                raise ValueError(format_errors(where, err)) from None
        items[key] = out
    try:
        spec = HouseSpec.model_validate({**data, **items})
    except ValidationError as err:
        raise ValueError(format_errors(f"house {source}", err)) from None
    return House(spec, source)


def resolve_house_path(house: str | Path, search_dirs: Sequence[str | Path] = ()) -> Path:
    """An existing path as is; a name in ``search_dirs`` then the repo's ``houses``."""
    p = Path(house).expanduser()
    if p.is_file():
        return p
    names = [p] if p.suffix in (".yaml", ".yml") else [p, p.with_name(p.name + ".yaml")]
    tried = []
    for d in [*map(Path, search_dirs), REPO_HOUSE_DIR]:
        for name in names:
            cand = d / name
            tried.append(str(cand))
            if cand.is_file():
                return cand
    raise FileNotFoundError(f"house {house!r} not found; tried {tried}")


def load_house(house: str | Path, search_dirs: Sequence[str | Path] = ()) -> House:
    path = resolve_house_path(house, search_dirs)
    with path.open() as f:
        return parse_house(yaml.safe_load(f), source=str(path))


def list_house_files(directory: str | Path = REPO_HOUSE_DIR) -> list[Path]:
    return sorted(Path(directory).glob("*.yaml"))


@dataclass(frozen=True)
class Opening:
    """A door's opening in a wall: centre, the wall's axis ('x': the wall runs along x), width."""

    door: DoorSpec
    center: tuple[float, float]
    axis: Literal["x", "y"]

    def side_point(self, room: RoomSpec, offset: float) -> tuple[float, float]:
        """The point ``offset`` metres from the opening's centre, inside ``room``."""
        cx, cy = self.center
        if self.axis == "x":  # wall along x: rooms lie above / below
            return (cx, cy + offset) if room.center[1] > cy else (cx, cy - offset)
        return (cx + offset, cy) if room.center[0] > cx else (cx - offset, cy)

    def panel(self, thickness: float) -> Box2D:
        w = self.door.width / 2.0
        if self.axis == "x":
            return Box2D(self.center[0], self.center[1], w, thickness / 2.0)
        return Box2D(self.center[0], self.center[1], thickness / 2.0, w)


class House:
    """A validated house with its derived geometry (walls, openings, obstacles)."""

    def __init__(self, spec: HouseSpec, source: str = "<house>") -> None:
        self.spec = spec
        self.source = source
        self.rooms: dict[str, RoomSpec] = {r.id: r for r in spec.rooms}
        self.objects: dict[str, ObjectSpec] = {o.id: o for o in spec.objects}
        self._check_ids()
        self._check_rooms()
        self.openings: dict[str, Opening] = {d.id: self._opening(i, d)
                                             for i, d in enumerate(spec.doors)}
        self.walls: tuple[Box2D, ...] = tuple(self._build_walls())
        self.door_panels: tuple[Box2D, ...] = tuple(
            o.panel(spec.wall_thickness) for o in self.openings.values() if not o.door.open)
        self._check_objects()
        self.furniture_obstacles: tuple[Obstacle, ...] = tuple(
            o.obstacle() for o in spec.objects if o.blocks)

    @property
    def name(self) -> str:
        return self.spec.name

    def _err(self, msg: str) -> ValueError:
        return ValueError(f"house {self.source}: {msg}")

    # ---- validation and derived geometry ---------------------------------------------------
    def _check_ids(self) -> None:
        seen: dict[str, str] = {}
        for kind, entries in (("rooms", self.spec.rooms), ("doors", self.spec.doors),
                              ("objects", self.spec.objects)):
            for i, e in enumerate(entries):
                if e.id in seen:
                    raise self._err(f"{kind}[{i}] '{e.id}': id: already used in {seen[e.id]}")
                seen[e.id] = kind

    def _check_rooms(self) -> None:
        rooms = self.spec.rooms
        for i, a in enumerate(rooms):
            for b in rooms[i + 1:]:
                if (min(a.x[1], b.x[1]) - max(a.x[0], b.x[0]) > _EPS
                        and min(a.y[1], b.y[1]) - max(a.y[0], b.y[0]) > _EPS):
                    raise self._err(f"rooms '{a.id}' and '{b.id}' overlap")

    def _opening(self, i: int, door: DoorSpec) -> Opening:
        where = f"doors[{i}] '{door.id}'"
        for rid in door.between:
            if rid not in self.rooms:
                raise self._err(f"{where}: between: unknown room '{rid}'")
        a, b = (self.rooms[r] for r in door.between)
        if a.id == b.id:
            raise self._err(f"{where}: between: a door joins two different rooms")
        # Shared walls: (the direction the wall runs in, its fixed coordinate, the shared span).
        shared: list[tuple[Literal["x", "y"], float, tuple[float, float]]] = []
        for x in a.x:
            if any(abs(x - bx) < _EPS for bx in b.x):
                shared.append(("y", x, (max(a.y[0], b.y[0]), min(a.y[1], b.y[1]))))
        for y in a.y:
            if any(abs(y - by) < _EPS for by in b.y):
                shared.append(("x", y, (max(a.x[0], b.x[0]), min(a.x[1], b.x[1]))))
        shared = [s for s in shared if s[2][1] - s[2][0] > _EPS]
        if not shared:
            raise self._err(f"{where}: between: rooms '{a.id}' and '{b.id}' share no wall")

        def across(s: tuple[str, float, Any]) -> float:
            return abs((door.at[0] if s[0] == "y" else door.at[1]) - s[1])

        axis, fixed, span = min(shared, key=across)
        if across((axis, fixed, span)) > 0.1:
            raise self._err(f"{where}: at: {list(door.at)} is not on the wall "
                            f"{'x' if axis == 'y' else 'y'} = {fixed} that '{a.id}' and "
                            f"'{b.id}' share")
        along = door.at[1] if axis == "y" else door.at[0]
        half = door.width / 2.0
        if along - half < span[0] - _EPS or along + half > span[1] + _EPS:
            raise self._err(f"{where}: the opening [{along - half:.2f}, {along + half:.2f}] "
                            f"does not fit the shared wall [{span[0]:.2f}, {span[1]:.2f}]")
        return Opening(door, (fixed, along) if axis == "y" else (along, fixed), axis)

    def _build_walls(self) -> list[Box2D]:
        """Union of room edges (and extra walls) per line, minus door openings, as boxes."""
        lines: dict[tuple[str, float], list[tuple[float, float]]] = {}
        for r in self.spec.rooms:
            for y in r.y:
                lines.setdefault(("x", round(y, 6)), []).append(r.x)
            for x in r.x:
                lines.setdefault(("y", round(x, 6)), []).append(r.y)
        for w in self.spec.walls:
            if abs(w.start[1] - w.end[1]) < _EPS:
                lines.setdefault(("x", round(w.start[1], 6)), []).append(
                    (min(w.start[0], w.end[0]), max(w.start[0], w.end[0])))
            else:
                lines.setdefault(("y", round(w.start[0], 6)), []).append(
                    (min(w.start[1], w.end[1]), max(w.start[1], w.end[1])))
        cuts: dict[tuple[str, float], list[tuple[float, float]]] = {}
        for o in self.openings.values():
            fixed = o.center[1] if o.axis == "x" else o.center[0]
            along = o.center[0] if o.axis == "x" else o.center[1]
            cuts.setdefault((o.axis, round(fixed, 6)), []).append(
                (along - o.door.width / 2.0, along + o.door.width / 2.0))
        t = self.spec.wall_thickness / 2.0
        boxes = []
        for (axis, fixed), spans in sorted(lines.items()):
            line_cuts = cuts.get((axis, fixed), [])
            jambs = {round(v, 6) for c in line_cuts for v in c}
            for lo, hi in _subtract(_union(spans), line_cuts):
                # Ends reach half a thickness further to close the corners, except at a jamb
                # (so an opening stays as wide as the door says).
                lo -= 0.0 if round(lo, 6) in jambs else t
                hi += 0.0 if round(hi, 6) in jambs else t
                mid, half = (lo + hi) / 2.0, (hi - lo) / 2.0
                if axis == "x":
                    boxes.append(Box2D(mid, fixed, half, t))
                else:
                    boxes.append(Box2D(fixed, mid, t, half))
        return boxes

    def _check_objects(self) -> None:
        for i, o in enumerate(self.spec.objects):
            where = f"objects[{i}] '{o.id}'"
            room = self.room_at(*o.position)
            if room is None:
                raise self._err(f"{where}: position: {list(o.position)} is in no room")
            if o.room is not None and o.room != room.id:
                raise self._err(f"{where}: room: '{o.room}' but its position is in '{room.id}'")
            xmin, ymin, xmax, ymax = o.obstacle().bounds()
            m = self.spec.wall_thickness / 2.0 - 0.01
            if not (room.contains(xmin, ymin, m) and room.contains(xmax, ymax, m)):
                raise self._err(f"{where}: its footprint leaves room '{room.id}' (or is in a wall)")

    # ---- queries ------------------------------------------------------------------------------
    def room_at(self, x: float, y: float) -> RoomSpec | None:
        """The room containing (x, y) (the first one on a shared edge), or None outside."""
        for r in self.spec.rooms:
            if r.contains(x, y):
                return r
        return None

    def room_of_object(self, object_id: str) -> RoomSpec:
        room = self.room_at(*self.objects[object_id].position)
        assert room is not None  # checked at construction
        return room

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        rs = self.spec.rooms
        return (min(r.x[0] for r in rs), min(r.y[0] for r in rs),
                max(r.x[1] for r in rs), max(r.y[1] for r in rs))

    def obstacles(self, furniture: bool = True) -> tuple[Obstacle, ...]:
        """What the base collides with: walls, closed doors and (optionally) blocking furniture."""
        base: tuple[Obstacle, ...] = self.walls + self.door_panels
        return base + self.furniture_obstacles if furniture else base

    def is_free(self, x: float, y: float, clearance: float = 0.0) -> bool:
        """Inside a room and at least ``clearance`` from every obstacle."""
        if self.room_at(x, y) is None:
            return False
        return not any(o.contains(x, y, clearance) for o in self.obstacles())

    def segment_free(self, a: Sequence[float], b: Sequence[float], clearance: float = 0.0) -> bool:
        """True when a disc of radius ``clearance`` can sweep from a to b without touching
        a wall, a closed door or blocking furniture."""
        return not any(o.hits_segment(a, b, clearance) for o in self.obstacles())

    def line_of_sight(self, a: Sequence[float], b: Sequence[float]) -> bool:
        """Sight is blocked by walls and closed doors only (furniture is low enough)."""
        return not any(o.hits_segment(a, b, 0.0) for o in self.obstacles(furniture=False))

    def seen_objects(self, position: Sequence[float], max_range: float = 5.0,
                     rooms_through_doors: bool = True) -> tuple[SeenObject, ...]:
        """Landmarks seen from ``position`` (all around, within ``max_range``, line of sight).

        Furniture by label; door openings as "door" / "closed door"; with
        ``rooms_through_doors`` the room type behind each visible open door (object id
        ``room/<id>``), at the door's heading. Sorted closest first.
        """
        px, py = float(position[0]), float(position[1])
        here = self.room_at(px, py)
        out: list[tuple[float, SeenObject]] = []
        for o in self.spec.objects:
            d = math.dist((px, py), o.position)
            if d > max_range or not self._visible((px, py), o):
                continue
            sx, sy, sz = o.size  # type: ignore[misc]
            area = (max(sx, sy) * sz) / (max(d, 0.3) ** 2 * _VIEW_TAN_W * _VIEW_TAN_H)
            out.append((d, SeenObject(o.label, heading_to((px, py), o.position),
                                      round(min(1.0, area), 4), o.id)))
        for did, op in self.openings.items():
            d = math.dist((px, py), op.center)
            if d > max_range or not self._sees_point((px, py), op.center, op):
                continue
            h = heading_to((px, py), op.center)
            closeness = round(min(1.0, op.door.width * 2.0 / (max(d, 0.3) ** 2 * 2.6)), 4)
            out.append((d, SeenObject("door" if op.door.open else "closed door", h, closeness,
                                      f"door/{did}")))
            if rooms_through_doors and op.door.open:
                for rid in op.door.between:
                    if here is None or rid != here.id:
                        out.append((d + 0.5, SeenObject(self.rooms[rid].type, h,
                                                        round(closeness / 2.0, 4), f"room/{rid}")))
        out.sort(key=lambda t: t[0])
        return tuple(s for _, s in out)

    def _visible(self, src: tuple[float, float], obj: ObjectSpec) -> bool:
        """Line of sight to the centre or to a point near any footprint corner."""
        xmin, ymin, xmax, ymax = obj.obstacle().bounds()
        cx, cy = obj.position
        pts = [(cx, cy), *[(cx + 0.8 * (x - cx), cy + 0.8 * (y - cy))
                           for x in (xmin, xmax) for y in (ymin, ymax)]]
        blockers = self.obstacles(furniture=False)
        return any(not any(b.hits_segment(src, p, 0.0) for b in blockers) for p in pts)

    def _sees_point(self, src: tuple[float, float], pt: tuple[float, float], op: Opening) -> bool:
        # A door's own panel (or the jambs next to it) must not hide the door itself: look at a
        # point just in front of the opening on the viewer's side.
        room = self.room_at(*src)
        target = op.side_point(room, 0.1) if room is not None else pt
        return self.line_of_sight(src, target)

    @cached_property
    def graph(self) -> PlaceGraph:
        """The navigation graph of places (built once, on first use)."""
        from ifagent_ros.core.worlds.house_graph import build_place_graph

        return build_place_graph(self)


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + _EPS:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def _subtract(spans: list[tuple[float, float]],
              cuts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = spans
    for clo, chi in cuts:
        nxt = []
        for lo, hi in out:
            if chi <= lo or clo >= hi:
                nxt.append((lo, hi))
                continue
            if clo - lo > _EPS:
                nxt.append((lo, clo))
            if hi - chi > _EPS:
                nxt.append((chi, hi))
        out = nxt
    return out
