"""Online topological map built from observations, and its MapGPT-style text rendering.

Every observed place (visited or only seen as a neighbour) gets a small integer index in order of
discovery, so prompts can say "Place 3 (visited) is connected with Places 0, 4, 5". Visited places
keep the objects seen from them with their absolute headings; edges keep their length, so the
map answers shortest paths over what has been seen (for backtracking).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from ifagent_ros.core.vln.types import NavObservation, SeenObject, wrap_angle

AHEAD_DEG = 30.0  # |relative heading| below this is "ahead"


@dataclass
class Place:
    place_id: str
    index: int
    position: tuple[float, float, float]
    visited: bool = False
    visits: int = 0
    objects: tuple[SeenObject, ...] = ()  # seen from here (visited places only)
    edges: dict[str, float] = field(default_factory=dict)  # neighbour id -> metres


def direction_words(relative: float) -> str:
    """A relative heading (rad, clockwise positive) in words, with degrees."""
    deg = math.degrees(wrap_angle(relative))
    mag = abs(deg)
    side = "right" if deg > 0 else "left"
    if mag < AHEAD_DEG:
        return "ahead"
    if mag < 60.0:
        return f"slightly {side} ({mag:.0f} deg)"
    if mag < 120.0:
        return f"{side} ({mag:.0f} deg)"
    if mag < 160.0:
        return f"behind {side} ({mag:.0f} deg)"
    return "behind"


def closeness_words(closeness: float) -> str:
    if closeness >= 0.3:
        return "very close"
    if closeness >= 0.1:
        return "close"
    if closeness >= 0.02:
        return "near"
    return "far"


class TopoMap:
    def __init__(self) -> None:
        self.places: dict[str, Place] = {}
        self.trajectory: list[str] = []

    def __len__(self) -> int:
        return len(self.places)

    def _place(self, place_id: str, position: tuple[float, float, float]) -> Place:
        if place_id not in self.places:
            self.places[place_id] = Place(place_id, len(self.places), tuple(position))
        return self.places[place_id]

    def update(self, obs: NavObservation) -> Place:
        """Adds the current place, its neighbours and what is seen from it."""
        if not all(math.isfinite(v) for v in obs.position):
            raise ValueError(f"observation at {obs.place_id} has a non-finite position")
        here = self._place(obs.place_id, obs.position)
        if not self.trajectory or self.trajectory[-1] != obs.place_id:
            self.trajectory.append(obs.place_id)
            here.visits += 1
        here.visited = True
        here.objects = tuple(obs.objects)
        for n in obs.neighbours:
            if not math.isfinite(n.distance) or n.distance < 0:
                continue
            other = self._place(n.place_id, n.position)
            here.edges[n.place_id] = n.distance
            other.edges[obs.place_id] = n.distance
        return here

    def index(self, place_id: str) -> int:
        return self.places[place_id].index

    def by_index(self, index: int) -> Place:
        for place in self.places.values():
            if place.index == index:
                return place
        raise KeyError(f"no place {index} in the map")

    def frontier(self) -> list[Place]:
        """Seen but not yet visited places."""
        return [p for p in self.places.values() if not p.visited]

    def shortest_paths(self, source: str) -> tuple[dict[str, float], dict[str, str]]:
        """Dijkstra over known edges: metres and predecessor of every reachable place."""
        dist = {source: 0.0}
        prev: dict[str, str] = {}
        queue = [(0.0, source)]
        while queue:
            d, a = heapq.heappop(queue)
            if d > dist.get(a, math.inf):
                continue
            for b, w in self.places[a].edges.items():
                if d + w < dist.get(b, math.inf):
                    dist[b] = d + w
                    prev[b] = a
                    heapq.heappush(queue, (d + w, b))
        return dist, prev

    def path(self, source: str, target: str) -> list[str]:
        """Known shortest route ``source`` .. ``target`` (empty when not connected)."""
        dist, prev = self.shortest_paths(source)
        if target not in dist:
            return []
        route = [target]
        while route[-1] != source:
            route.append(prev[route[-1]])
        return route[::-1]

    def objects_toward(self, from_id: str, heading: float,
                       half_width: float = math.radians(35.0)) -> list[SeenObject]:
        """Objects seen from ``from_id`` within ``half_width`` of ``heading``."""
        return [o for o in self.places[from_id].objects
                if abs(wrap_angle(o.heading - heading)) <= half_width]

    def to_text(self, current: str, heading: float, max_objects: int = 8) -> str:
        """The map for an LLM prompt: trajectory, connectivity, objects, candidates."""
        if current not in self.places:
            raise KeyError(f"current place {current} is not in the map")
        idx = self.index
        lines = ["Trajectory: " + " -> ".join(f"Place {idx(p)}" for p in self.trajectory)]
        lines.append("Map:")
        for place in sorted(self.places.values(), key=lambda p: p.index):
            if not place.visited:
                continue
            tag = "current" if place.place_id == current else "visited"
            links = ", ".join(str(idx(b)) for b in sorted(place.edges, key=idx))
            lines.append(f"Place {place.index} ({tag}) is connected with Places {links}.")
        here = self.places[current]
        lines.append(f"Objects around Place {here.index} (directions relative to your heading):")
        objects = sorted(here.objects, key=lambda o: -o.closeness)[:max_objects]
        if objects:
            lines.extend(f"- {o.name}: {direction_words(o.heading - heading)}, "
                         f"{closeness_words(o.closeness)}" for o in objects)
        else:
            lines.append("- nothing recognised")
        lines.append("Candidates (places you can move to now):")
        for b in sorted(here.edges, key=idx):
            other = self.places[b]
            dx = other.position[0] - here.position[0]
            dy = other.position[1] - here.position[1]
            dz = other.position[2] - here.position[2]
            head = math.atan2(dx, dy)
            toward = ", ".join(sorted({o.name for o in self.objects_toward(current, head)}))
            tag = "visited" if other.visited else "unvisited"
            stairs = " up" if dz > 0.5 else " down" if dz < -0.5 else ""
            extra = f"; toward it: {toward}" if toward else ""
            lines.append(f"- Place {other.index} ({tag}): {direction_words(head - heading)},"
                         f" {here.edges[b]:.1f} m{stairs}{extra}")
        return "\n".join(lines)
