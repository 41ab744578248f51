"""The known map a robot navigates on (ROS-free): places, the edges between them, rooms, labels.

In simulation it comes from the house's navigation graph (:meth:`KnownMap.from_house`, which
reads a :class:`ifagent_ros.core.worlds.house.House` by duck typing, so ``core`` imports no
simulator).
A real robot supplies a *place-graph file* in the ``map`` frame of its localisation (the frame
Nav2's ``/goal_pose`` is given in), e.g. recorded by driving the robot to each place and noting
its pose::

    frame_id: map
    rooms:                                   # optional: goals must then lie inside a room
      - {id: kitchen, type: kitchen, x: [5.6, 10.0], y: [0.0, 3.5]}
      - {id: hall, type: hallway, x: [4.0, 5.6], y: [0.0, 8.0]}
    places:                                  # metres in map; labels: landmarks next to it
      - {id: kitchen, x: 7.8, y: 1.7, room: kitchen}
      - {id: near_fridge, x: 9.0, y: 2.9, room: kitchen, labels: [fridge]}
      - {id: hall_south, x: 4.8, y: 1.5, room: hall}
    edges:                                   # straight, collision-free; optional 3rd item: metres
      - [kitchen, near_fridge]
      - [kitchen, hall_south]

Edges must be drivable in a straight line (Nav2 plans the detail; the sim base follows them
directly). Closed doors simply have no edge, so what lies behind one is unreachable.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class KnownPlace:
    id: str
    x: float
    y: float
    room_id: str | None = None
    room_type: str | None = None
    labels: tuple[str, ...] = ()  # landmark labels at this place and its room type

    @property
    def xy(self) -> tuple[float, float]:
        return (self.x, self.y)

    @property
    def position(self) -> tuple[float, float, float]:
        return (self.x, self.y, 0.0)


@dataclass(frozen=True)
class KnownRoom:
    id: str
    type: str
    x: tuple[float, float]
    y: tuple[float, float]

    def contains(self, x: float, y: float) -> bool:
        return self.x[0] <= x <= self.x[1] and self.y[0] <= y <= self.y[1]


class KnownMap:
    def __init__(self, places: list[KnownPlace], edges: list[tuple[str, str, float]],
                 rooms: list[KnownRoom] | None = None, frame_id: str = "map",
                 max_off_place_m: float = 2.0, source: str = "<map>") -> None:
        self.source = source
        self.frame_id = frame_id
        self.rooms = list(rooms or [])
        self.max_off_place_m = max_off_place_m
        if not places:
            raise ValueError(f"map {source}: no places")
        self.places: dict[str, KnownPlace] = {}
        for p in places:
            if p.id in self.places:
                raise ValueError(f"map {source}: place id {p.id!r} is used twice")
            if not (math.isfinite(p.x) and math.isfinite(p.y)):
                raise ValueError(f"map {source}: place {p.id!r} has a non-finite position")
            self.places[p.id] = p
        for p in places:
            if self.rooms and not any(r.contains(p.x, p.y) for r in self.rooms):
                raise ValueError(f"map {source}: place {p.id!r} at ({p.x}, {p.y}) is in no room")
        self.adjacency: dict[str, dict[str, float]] = {p: {} for p in self.places}
        for a, b, d in edges:
            for end in (a, b):
                if end not in self.places:
                    raise ValueError(f"map {source}: edge {a!r}-{b!r} names unknown place {end!r}")
            if a == b or not (math.isfinite(d) and d > 0.0):
                raise ValueError(f"map {source}: edge {a!r}-{b!r} needs two places and a "
                                 f"length > 0, got {d}")
            self.adjacency[a][b] = self.adjacency[b][a] = float(d)

    def __len__(self) -> int:
        return len(self.places)

    @property
    def has_labels(self) -> bool:
        return any(p.labels for p in self.places.values())

    def contains(self, x: float, y: float) -> bool:
        """On the known map: inside a room when rooms are known, else near a place."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return False
        if self.rooms:
            return any(r.contains(x, y) for r in self.rooms)
        _, d = self.nearest(x, y)
        return d <= self.max_off_place_m

    def nearest(self, x: float, y: float) -> tuple[KnownPlace | None, float]:
        if not (math.isfinite(x) and math.isfinite(y)):
            return None, math.inf
        best = min(self.places.values(), key=lambda p: math.hypot(p.x - x, p.y - y))
        return best, math.hypot(best.x - x, best.y - y)

    def component(self, place_id: str) -> set[str]:
        """Places reachable from ``place_id``."""
        seen, todo = {place_id}, [place_id]
        while todo:
            for n in self.adjacency[todo.pop()]:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return seen

    def shortest_path(self, a: str, b: str) -> list[str]:
        """Place ids from a to b (empty when unreachable)."""
        dist, prev, heap = {a: 0.0}, {}, [(0.0, a)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == b:
                break
            if d > dist[u]:
                continue
            for v, w in self.adjacency[u].items():
                if d + w < dist.get(v, math.inf):
                    dist[v], prev[v] = d + w, u
                    heapq.heappush(heap, (d + w, v))
        if b not in dist:
            return []
        out = [b]
        while out[-1] != a:
            out.append(prev[out[-1]])
        return out[::-1]

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_house(cls, house: Any) -> KnownMap:
        """From a :class:`ifagent_ros.core.worlds.house.House` (its navigation graph, rooms,
        objects)."""
        graph = house.graph
        places = []
        for p in graph.places.values():
            room = house.rooms[p.room]
            labels = [room.type]
            if getattr(p, "object_id", None):
                labels.insert(0, house.objects[p.object_id].label)
            places.append(KnownPlace(p.id, float(p.x), float(p.y), room.id, room.type,
                                     tuple(labels)))
        rooms = [KnownRoom(r.id, r.type, tuple(r.x), tuple(r.y)) for r in house.spec.rooms]
        return cls(places, graph.edges(), rooms, source=f"house {house.name}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<map>") -> KnownMap:
        if not isinstance(data, Mapping) or "places" not in data:
            raise ValueError(f"map {source}: needs a 'places' list (and 'edges')")
        try:
            rooms = [KnownRoom(str(r["id"]), str(r.get("type", r["id"])),
                               _pair(r["x"]), _pair(r["y"])) for r in data.get("rooms") or []]
            room_types = {r.id: r.type for r in rooms}
            places = []
            for p in data["places"]:
                room = p.get("room")
                rtype = room_types.get(room, room) if room else None
                labels = tuple(str(v).strip().lower() for v in p.get("labels") or [])
                places.append(KnownPlace(str(p["id"]), float(p["x"]), float(p["y"]), room,
                                         rtype, labels + ((rtype,) if rtype else ())))
            by_id = {p.id: p for p in places}
            edges = []
            for e in data.get("edges") or []:
                a, b = str(e[0]), str(e[1])
                if len(e) > 2:
                    d = float(e[2])
                elif a in by_id and b in by_id:
                    d = math.dist(by_id[a].xy, by_id[b].xy)
                else:
                    d = math.nan
                edges.append((a, b, d))
        except (KeyError, TypeError, IndexError, ValueError) as err:
            if isinstance(err, ValueError) and str(err).startswith("map "):
                raise
            raise ValueError(f"map {source}: malformed entry ({type(err).__name__}: {err})") \
                from None
        return cls(places, edges, rooms, frame_id=str(data.get("frame_id", "map")),
                   source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> KnownMap:
        with Path(path).open() as f:
            return cls.from_dict(yaml.safe_load(f), source=str(path))


def _pair(v: Any) -> tuple[float, float]:
    lo, hi = float(v[0]), float(v[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"bad interval {v}")
    return (lo, hi)
