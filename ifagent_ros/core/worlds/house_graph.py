"""The navigation graph of a house: places and the straight, collision-free edges between them.

Places (like R2R viewpoints):
- ``room``: one per room, at its centre (moved to the nearest free spot when furniture is there);
  id ``<room id>``.
- ``door``: one on each side of every open door, ``door_offset`` metres from the wall, so the
  edge between the two crosses the opening square on; id ``<door id>@<room id>``.
- ``landmark``: one next to each object (in front of it when there is room), id
  ``near/<object id>``.
- ``waypoint``: added only where furniture splits a room, so that every place of the room can
  be reached: a path is searched on a free grid and its corners become places, id
  ``<room id>/w<k>``.

Edges join places of the same room (and the two sides of an open door) when a disc of radius
``clearance`` (the base's radius plus a margin) sweeps the straight segment without touching a
wall, a closed door or blocking furniture. Long edges with a nearly straight two-hop detour are
then dropped (longest first, only for detours made of strictly shorter edges, so connectivity
is kept), which leaves a sparse graph with R2R-like degrees. Closed doors have no places, so
rooms behind them are unreachable through them.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ifagent_ros.core.worlds.house import House


@dataclass(frozen=True)
class GraphConfig:
    clearance: float = 0.3  # base radius (0.22 m) + margin; must stay < half a door's width
    door_offset: float = 0.55  # door places this far from the wall's centre line
    landmark_standoff: float = 0.2  # extra gap between the inflated footprint and its place
    max_edge: float = 6.0  # metres
    prune_ratio: float = 1.08  # drop a-b when a-c-b is at most this much longer
    free_search_step: float = 0.1  # grid step when a room centre is blocked
    waypoint_grid_step: float = 0.2  # grid for paths around furniture that splits a room


@dataclass(frozen=True)
class Place:
    id: str
    x: float
    y: float
    kind: Literal["room", "door", "landmark", "waypoint"]
    room: str  # the room the place stands in
    object_id: str | None = None  # landmark places: the object it is next to
    door_id: str | None = None  # door places: the door it stands in front of

    @property
    def position(self) -> tuple[float, float, float]:
        return (self.x, self.y, 0.0)

    @property
    def xy(self) -> tuple[float, float]:
        return (self.x, self.y)


class PlaceGraph:
    def __init__(self, places: list[Place], edges: list[tuple[str, str, float]]) -> None:
        self.places: dict[str, Place] = {p.id: p for p in places}
        self.adjacency: dict[str, dict[str, float]] = {p.id: {} for p in places}
        for a, b, d in edges:
            self.adjacency[a][b] = d
            self.adjacency[b][a] = d
        self._dist_cache: dict[str, dict[str, float]] = {}
        self._prev_cache: dict[str, dict[str, str]] = {}

    def __len__(self) -> int:
        return len(self.places)

    def edges(self) -> list[tuple[str, str, float]]:
        return [(a, b, d) for a, nb in self.adjacency.items() for b, d in nb.items() if a < b]

    def neighbours(self, place_id: str) -> dict[str, float]:
        if place_id not in self.adjacency:
            raise KeyError(f"no place {place_id!r}")
        return self.adjacency[place_id]

    def _dijkstra(self, src: str) -> tuple[dict[str, float], dict[str, str]]:
        if src not in self._dist_cache:
            if src not in self.adjacency:
                raise KeyError(f"no place {src!r}")
            dist, prev = {src: 0.0}, {}
            heap = [(0.0, src)]
            while heap:
                d, u = heapq.heappop(heap)
                if d > dist[u]:
                    continue
                for v, w in self.adjacency[u].items():
                    if d + w < dist.get(v, math.inf) - 1e-12:
                        dist[v], prev[v] = d + w, u
                        heapq.heappush(heap, (d + w, v))
            self._dist_cache[src], self._prev_cache[src] = dist, prev
        return self._dist_cache[src], self._prev_cache[src]

    def distance(self, a: str, b: str) -> float:
        """Shortest-path (geodesic) length in metres; inf when unreachable."""
        return self._dijkstra(a)[0].get(b, math.inf)

    def distances_from(self, a: str) -> dict[str, float]:
        return dict(self._dijkstra(a)[0])

    @property
    def distances(self) -> dict[str, dict[str, float]]:
        """All-pairs shortest-path metres (what core.vln.metrics takes); unreachable pairs
        are absent."""
        return {a: self._dijkstra(a)[0] for a in self.places}

    def shortest_path(self, a: str, b: str) -> list[str]:
        dist, prev = self._dijkstra(a)
        if b not in dist:
            raise ValueError(f"place {b!r} is not reachable from {a!r}")
        path = [b]
        while path[-1] != a:
            path.append(prev[path[-1]])
        return path[::-1]

    def component(self, place_id: str) -> set[str]:
        return set(self._dijkstra(place_id)[0])

    def place_of_object(self, object_id: str) -> Place | None:
        return self.places.get(f"near/{object_id}")

    def places_in_room(self, room_id: str) -> list[Place]:
        return [p for p in self.places.values() if p.room == room_id]

    def nearest_place(self, x: float, y: float) -> Place:
        return min(self.places.values(), key=lambda p: math.hypot(p.x - x, p.y - y))


def _free_point_near(house: House, room_id: str, x: float, y: float, clearance: float,
                     step: float) -> tuple[float, float] | None:
    """The free point of the room closest to (x, y) on a grid, or None when the room is full."""
    room = house.rooms[room_id]
    if house.is_free(x, y, clearance) and house.room_at(x, y) is room:
        return (x, y)
    best, best_d = None, math.inf
    nx = int((room.x[1] - room.x[0]) / step)
    ny = int((room.y[1] - room.y[0]) / step)
    for i in range(1, nx):
        for j in range(1, ny):
            px, py = room.x[0] + i * step, room.y[0] + j * step
            d = math.hypot(px - x, py - y)
            if d < best_d and room.contains(px, py) and house.is_free(px, py, clearance):
                best, best_d = (px, py), d
    return best


def _landmark_candidates(house: House, object_id: str,
                         cfg: GraphConfig) -> list[tuple[float, float]]:
    """Points next to an object: in front first, then the sides, then behind (or all around)."""
    obj = house.objects[object_id]
    sx, sy, _ = obj.size  # type: ignore[misc]
    cx, cy = obj.position
    gap = cfg.clearance + cfg.landmark_standoff
    if obj.shape == "cylinder":
        r = max(sx, sy) / 2.0 + gap
        return [(cx + r * math.cos(a), cy + r * math.sin(a))
                for a in (k * math.pi / 4.0 for k in range(8))]
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    local = [(0.0, -(sy / 2.0 + gap)), (-(sx / 2.0 + gap), 0.0), (sx / 2.0 + gap, 0.0),
             (0.0, sy / 2.0 + gap)]
    if not obj.blocks:  # a rug: stand on it
        local = [(0.0, 0.0), *local]
    return [(cx + c * lx - s * ly, cy + s * lx + c * ly) for lx, ly in local]


def build_place_graph(house: House, config: GraphConfig | None = None) -> PlaceGraph:
    cfg = config or GraphConfig()
    places: list[Place] = []
    for room in house.spec.rooms:
        pt = _free_point_near(house, room.id, *room.center, cfg.clearance, cfg.free_search_step)
        if pt is not None:
            places.append(Place(room.id, pt[0], pt[1], "room", room.id))
    door_pairs: list[tuple[str, str]] = []
    for did, op in house.openings.items():
        if not op.door.open:
            continue
        if op.door.width / 2.0 <= cfg.clearance:
            raise ValueError(f"house {house.source}: door '{did}' ({op.door.width} m) is too "
                             f"narrow for the base (needs > {2 * cfg.clearance:.2f} m)")
        ids = []
        for rid in op.door.between:
            room = house.rooms[rid]
            for k in range(5):  # step further in when furniture stands right behind the door
                x, y = op.side_point(room, cfg.door_offset + 0.15 * k)
                if house.is_free(x, y, cfg.clearance) and house.room_at(x, y) is room:
                    break
            else:
                raise ValueError(f"house {house.source}: no free spot in '{rid}' in front of "
                                 f"door '{did}' (furniture or walls block it)")
            places.append(Place(f"{did}@{rid}", x, y, "door", rid, door_id=did))
            ids.append(f"{did}@{rid}")
        door_pairs.append((ids[0], ids[1]))
    # Free spots next to each object, best first; the first one that can be reached is used.
    spots: dict[str, list[tuple[float, float]]] = {}
    for oid in house.objects:
        room = house.room_of_object(oid)
        spots[oid] = [(x, y) for x, y in _landmark_candidates(house, oid, cfg)
                      if house.room_at(x, y) is room and house.is_free(x, y, cfg.clearance)]
    candidates: list[tuple[str, str, float]] = []
    for room in house.spec.rooms:
        choice = {oid: 0 for oid in spots if spots[oid] and house.room_of_object(oid) is room}
        while True:
            in_room = [p for p in places if p.room == room.id] + [
                Place(f"near/{oid}", *spots[oid][k], "landmark", room.id, object_id=oid)
                for oid, k in choice.items()]
            edges = _visible_pairs(house, in_room, cfg)
            waypoints, cut_off = _connect_room(house, room.id, in_room, edges, cfg)
            retry = [i[5:] for i in cut_off if i.startswith("near/")
                     and choice[i[5:]] + 1 < len(spots[i[5:]])]
            if not retry:
                break
            for oid in retry:
                choice[oid] += 1
        places += [p for p in in_room if p.kind == "landmark"] + waypoints
        candidates += _visible_pairs(house, in_room + waypoints, cfg) if waypoints else edges
    by_id = {p.id: p for p in places}
    for a, b in door_pairs:
        pa, pb = by_id[a], by_id[b]
        if house.segment_free(pa.xy, pb.xy, cfg.clearance):
            candidates.append((a, b, math.hypot(pa.x - pb.x, pa.y - pb.y)))
    return PlaceGraph(places, _prune(candidates, cfg.prune_ratio))


def _visible_pairs(house: House, places: list[Place],
                   cfg: GraphConfig) -> list[tuple[str, str, float]]:
    out = []
    for i, a in enumerate(places):
        for b in places[i + 1:]:
            d = math.hypot(a.x - b.x, a.y - b.y)
            if d <= cfg.max_edge and house.segment_free(a.xy, b.xy, cfg.clearance):
                out.append((a.id, b.id, d))
    return out


def _components(ids: list[str], edges: list[tuple[str, str, float]]) -> list[set[str]]:
    parent = {i: i for i in ids}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b, _ in edges:
        parent[find(a)] = find(b)
    comps: dict[str, set[str]] = {}
    for i in ids:
        comps.setdefault(find(i), set()).add(i)
    # The component holding a door (or else the largest) first: the others get joined to it.
    return sorted(comps.values(), key=lambda c: (not any("@" in i for i in c), -len(c)))


def _connect_room(house: House, room_id: str, places: list[Place],
                  edges: list[tuple[str, str, float]],
                  cfg: GraphConfig) -> tuple[list[Place], list[str]]:
    """Waypoints joining the room's places when furniture splits it, and the ids of the places
    that no free path joins to the rest (furniture walls them in)."""
    comps = _components([p.id for p in places], edges)
    if len(comps) <= 1:
        return [], []
    room, step = house.rooms[room_id], cfg.waypoint_grid_step
    nx, ny = int((room.x[1] - room.x[0]) / step), int((room.y[1] - room.y[0]) / step)
    grid = {(i, j): (room.x[0] + i * step, room.y[0] + j * step)
            for i in range(1, nx) for j in range(1, ny)}
    grid = {k: v for k, v in grid.items() if house.is_free(*v, cfg.clearance)}
    by_id = {p.id: p for p in places}
    waypoints: list[Place] = []
    main, cut_off = set(comps[0]), []
    for other in comps[1:]:
        path = _grid_path(house, grid, [by_id[i].xy for i in sorted(main)],
                          [by_id[i].xy for i in sorted(other)], cfg)
        if path is None:
            cut_off += sorted(other)
            continue
        for x, y in path:
            waypoints.append(Place(f"{room_id}/w{len(waypoints)}", x, y, "waypoint", room_id))
        main |= other
    return waypoints, cut_off


def _grid_path(house: House, grid: dict[tuple[int, int], tuple[float, float]],
               sources: list[tuple[float, float]], targets: list[tuple[float, float]],
               cfg: GraphConfig) -> list[tuple[float, float]] | None:
    """Corner points of a shortest free grid path from a point seeing a source place to one
    seeing a target place (string-pulled, so only the corners that are needed remain)."""
    def sees(pt: tuple[float, float],
             group: list[tuple[float, float]]) -> tuple[float, float] | None:
        for q in group:
            if math.dist(pt, q) <= cfg.max_edge and house.segment_free(pt, q, cfg.clearance):
                return q
        return None

    dist: dict[tuple[int, int], float] = {}
    prev: dict[tuple[int, int], tuple[int, int] | None] = {}
    heap: list[tuple[float, tuple[int, int]]] = []
    start_of: dict[tuple[int, int], tuple[float, float]] = {}
    for k, pt in grid.items():
        q = sees(pt, sources)
        if q is not None:
            dist[k], prev[k], start_of[k] = math.dist(pt, q), None, q
            heapq.heappush(heap, (dist[k], k))
    while heap:
        d, k = heapq.heappop(heap)
        if d > dist[k]:
            continue
        end = sees(grid[k], targets)
        if end is not None:
            chain = [k]
            while prev[chain[-1]] is not None:
                chain.append(prev[chain[-1]])  # type: ignore[arg-type]
            pts = [end, *[grid[c] for c in chain], start_of[chain[-1]]][::-1]
            return _string_pull(house, pts, cfg)[1:-1]
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                n = (k[0] + di, k[1] + dj)
                if n == k or n not in grid:
                    continue
                nd = d + math.dist(grid[k], grid[n])
                if nd < dist.get(n, math.inf) and house.segment_free(grid[k], grid[n],
                                                                     cfg.clearance):
                    dist[n], prev[n] = nd, k
                    heapq.heappush(heap, (nd, n))
    return None


def _string_pull(house: House, pts: list[tuple[float, float]],
                 cfg: GraphConfig) -> list[tuple[float, float]]:
    out, i = [pts[0]], 0
    while i < len(pts) - 1:
        j = len(pts) - 1
        while j > i + 1 and not house.segment_free(pts[i], pts[j], cfg.clearance):
            j -= 1
        out.append(pts[j])
        i = j
    return out


def _prune(edges: list[tuple[str, str, float]], ratio: float) -> list[tuple[str, str, float]]:
    adj: dict[str, dict[str, float]] = {}
    for a, b, d in edges:
        adj.setdefault(a, {})[b] = d
        adj.setdefault(b, {})[a] = d
    for a, b, d in sorted(edges, key=lambda e: -e[2]):
        for c, dac in adj[a].items():
            dcb = adj[c].get(b)
            if c != b and dcb is not None and dac < d and dcb < d and dac + dcb <= ratio * d:
                del adj[a][b], adj[b][a]
                break
    return [(a, b, d) for a, nb in adj.items() for b, d in nb.items() if a < b]
