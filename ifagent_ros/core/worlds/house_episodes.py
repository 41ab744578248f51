"""R2R-style episodes in simulated houses: start, goal, ground-truth shortest path, instruction.

The instruction is written from the path, with varied templates, the way R2R annotators
describe a route: the room left, the rooms passed (turns at doors, a landmark passed), the room
entered and where to stop::

    Leave the bedroom and turn left, walk down the hallway past the bench, enter the kitchen
    and stop next to the fridge.

Goals are places next to an object whose name (label, or colour + label) is unique in its room,
or room centres ("stop in the middle of the office"). Everything is seeded: the same houses and
seed give the same episodes.

    houses = build_house_set(10, seed=0)        # houses/*.yaml first, then generated ones
    episodes = generate_episodes(houses, 100, seed=0)
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ifagent_ros.core.vln.types import heading_to, wrap_angle
from ifagent_ros.core.worlds.geometry import point_segment_distance
from ifagent_ros.core.worlds.house import REPO_HOUSE_DIR, House, list_house_files, load_house
from ifagent_ros.core.worlds.house_generator import generate_house

_TURN = math.radians(50.0)  # a heading change larger than this is worth saying


@dataclass(frozen=True)
class HouseEpisode:
    episode_id: str
    house: str  # House.name
    path: tuple[str, ...]  # ground-truth shortest path, start first, goal last
    heading: float  # initial heading (rad, clockwise from +y)
    instruction: str
    distance: float  # metres along the path
    goal_room: str  # room id
    goal_object: str | None = None  # the object the goal place is next to

    @property
    def start(self) -> str:
        return self.path[0]

    @property
    def goal(self) -> str:
        return self.path[-1]


def build_house_set(n_houses: int, seed: int = 0,
                    house_dir: str | Path | None = REPO_HOUSE_DIR) -> list[House]:
    """The hand-written houses of ``house_dir`` (sorted), then generated ones: ``n_houses``."""
    if n_houses < 1:
        raise ValueError(f"n_houses must be >= 1, got {n_houses}")
    files = list_house_files(house_dir) if house_dir is not None else []
    houses = [load_house(f) for f in files[:n_houses]]
    k = 0
    while len(houses) < n_houses:
        houses.append(generate_house(seed * 1000 + k))
        k += 1
    return houses


def _name(house: House, object_id: str, rng: random.Random) -> str | None:
    """How to call an object so that it is unique in its room, or None when it cannot be."""
    obj = house.objects[object_id]
    room = house.room_of_object(object_id)
    same = [o for o in house.objects.values()
            if o.label == obj.label and house.room_of_object(o.id) is room]
    colour = obj.color.name if obj.color is not None else ""
    if len(same) == 1:
        return f"{colour} {obj.label}" if colour and rng.random() < 0.25 else obj.label
    if colour and sum(o.color is not None and o.color.name == colour for o in same) == 1:
        return f"{colour} {obj.label}"
    return None


def _passed_object(house: House, points: list[tuple[float, float]], room_id: str,
                   exclude: set[str]) -> str | None:
    """The object of the room closest to the walked segments (within 1.5 m), if any."""
    best, best_d = None, 1.5
    for oid, obj in house.objects.items():
        if oid in exclude or house.room_of_object(oid).id != room_id:
            continue
        d = min((point_segment_distance(obj.position, a, b)
                 for a, b in zip(points, points[1:], strict=False)), default=math.inf)
        if d < best_d:
            best, best_d = oid, d
    return best


def describe_path(house: House, path: Sequence[str], rng: random.Random) -> str | None:
    """An instruction for walking ``path`` (None when the goal cannot be named uniquely)."""
    g = house.graph
    places = [g.places[p] for p in path]
    goal = places[-1]
    goal_name = _name(house, goal.object_id, rng) if goal.object_id else ""
    if goal_name is None:
        return None
    # Split the path into room segments: consecutive places in the same room.
    segments: list[list[int]] = [[0]]
    for i in range(1, len(places)):
        if places[i].room == places[i - 1].room:
            segments[-1].append(i)
        else:
            segments.append([i])
    rtype = [house.rooms[places[s[0]].room].type for s in segments]
    mentioned: set[str] = {goal.object_id} if goal.object_id else set()
    clauses: list[str] = []

    def turn_into(k: int) -> str:
        """'left'/'right' when the walk turns on entering segment k (at its door)."""
        i = segments[k][0]
        if i < 2 or i + 1 >= len(places):
            return ""
        d = wrap_angle(heading_to(places[i].xy, places[i + 1].xy)
                       - heading_to(places[i - 2].xy, places[i - 1].xy))
        return "" if abs(d) < _TURN else ("left" if d < 0 else "right")

    def past(k: int) -> str:
        seg = [places[i].xy for i in segments[k]]
        if k + 1 < len(segments):
            seg.append(places[segments[k + 1][0]].xy)
        oid = _passed_object(house, seg, places[segments[k][0]].room, mentioned)
        name = _name(house, oid, rng) if oid else None
        if name is None or rng.random() < 0.35:
            return ""
        mentioned.add(oid)  # type: ignore[arg-type]
        return f" past the {name}"

    if len(segments) > 1:
        verb = rng.choice(("leave the {}", "exit the {}", "walk out of the {}", "go out of the {}"))
        first = verb.format(rtype[0])
        t = turn_into(1)
        if t and len(segments) > 2:
            first += rng.choice((f" and turn {t}", f", then turn {t}", f" and go {t}"))
        clauses.append(first)
        for k in range(1, len(segments) - 1):
            if rtype[k] == "hallway":
                c = rng.choice(("walk down the hallway", "go along the hallway",
                                "follow the hallway", "continue down the hall"))
            else:
                c = rng.choice(("go through the {}", "walk across the {}", "cross the {}",
                                "walk through the {}")).format(rtype[k])
            c += past(k)
            t = turn_into(k + 1)
            if t:
                c += rng.choice((f" and turn {t}", f", then take a {t}", f" and go {t}"))
            clauses.append(c)
        last = rng.choice(("enter the {}", "go into the {}", "walk into the {}",
                           "head into the {}")).format(rtype[-1])
        clauses.append(last + past(len(segments) - 1))
        room_said = True
    else:
        p = past(0)
        if p:
            clauses.append(rng.choice(("walk", "go", "move")) + p)
        room_said = False
    where = "" if room_said and rng.random() < 0.6 else f" in the {rtype[-1]}"
    if goal.object_id:
        stop = rng.choice(("stop next to the {}", "wait by the {}", "stop in front of the {}",
                           "stop when you reach the {}", "go to the {} and stop",
                           "stop near the {}")).format(goal_name) + where
    elif room_said:
        stop = rng.choice(("stop in the middle of the room", "stop in the middle of it",
                           "wait in the middle of the room"))
    else:
        stop = rng.choice(("stop in the middle of the {}", "wait in the {}",
                           "stop in the {}")).format(rtype[-1])
    clauses.append(stop)
    if len(clauses) == 1:
        text = clauses[0]
    elif rng.random() < 0.5:
        text = ", ".join(clauses[:-1]) + rng.choice((" and ", ", then ", ", and ")) + clauses[-1]
    else:
        text = ". ".join(c[0].upper() + c[1:] for c in clauses)
    return text[0].upper() + text[1:] + "."


def _main_places(house: House) -> set[str]:
    g = house.graph
    best: set[str] = set()
    for pid in g.places:
        if pid not in best:
            comp = g.component(pid)
            if len(comp) > len(best):
                best = comp
    return best


def episode_for(house: House, rng: random.Random, episode_id: str, min_distance: float = 3.0,
                max_distance: float = 20.0, tries: int = 100) -> HouseEpisode | None:
    """One random episode in ``house`` (None when ``tries`` draws find none)."""
    g = house.graph
    main = sorted(_main_places(house))
    starts = [p for p in main if g.places[p].kind in ("room", "landmark")]
    goals = [p for p in main if g.places[p].kind == "landmark"]
    centres = [p for p in main if g.places[p].kind == "room"]
    for _ in range(tries):
        start = rng.choice(starts)
        goal = rng.choice(centres if rng.random() < 0.15 else goals)
        same_room = g.places[start].room == g.places[goal].room
        if goal == start or (same_room and rng.random() < 0.85):
            continue
        d = g.distance(start, goal)
        if not min_distance <= d <= max_distance:
            continue
        path = g.shortest_path(start, goal)
        text = describe_path(house, path, rng)
        if text is None:
            continue
        return HouseEpisode(episode_id, house.name, tuple(path),
                            round(rng.uniform(-math.pi, math.pi), 4), text, round(d, 3),
                            g.places[goal].room, g.places[goal].object_id)
    return None


def generate_episodes(houses: Sequence[House], n_episodes: int, seed: int = 0,
                      min_distance: float = 3.0, max_distance: float = 20.0) -> list[HouseEpisode]:
    """``n_episodes`` episodes spread round-robin over ``houses``."""
    if not houses:
        raise ValueError("no houses to generate episodes in")
    rng = random.Random(seed)
    out: list[HouseEpisode] = []
    misses = 0
    while len(out) < n_episodes:
        house = houses[len(out) % len(houses)] if misses == 0 else rng.choice(houses)
        ep = episode_for(house, rng, f"{house.name}_{len(out):04d}", min_distance, max_distance)
        if ep is None:
            misses += 1
            if misses > 10 * len(houses):
                raise RuntimeError(f"could not generate {n_episodes} episodes "
                                   f"(got {len(out)}); widen the distance range")
            continue
        misses = 0
        out.append(ep)
    return out
