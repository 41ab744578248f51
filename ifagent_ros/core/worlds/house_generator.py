"""Seeded generator of multi-room houses (the same data a hand-written ``houses`` file holds).

Layout: a corridor (``hallway``) along x with a row of rooms on each side, and, often, a living
room across the east end. Every row room has a door to the hallway (some closed), some
neighbouring rooms a door between them; whatever a closed door cuts off gets an open door to a
neighbour. Rooms are furnished from :data:`ifagent_ros.core.worlds.furniture.ROOM_FURNITURE`,
against
walls, in corners or near the middle, never in front of a door. A house is kept only when the
navigation graph reaches every room that has an open door and every object has a place next to
it; otherwise the draw is repeated (deterministically: the same seed gives the same house).

    house = generate_house(7)                 # House named "generated_007"
    data = generate_house_data(7)             # the YAML-able mapping (yaml.safe_dump it)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ifagent_ros.core.worlds.furniture import FURNITURE, ROOM_FURNITURE
from ifagent_ros.core.worlds.geometry import Box2D
from ifagent_ros.core.worlds.house import House, parse_house

_REQUIRED = ("kitchen", "bathroom", "bedroom")
_OPTIONAL = ("bedroom", "office", "dining room", "bathroom", "laundry room", "bedroom",
             "dining room", "office")
_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple", "white", "black", "gray",
            "brown", "pink")
_RECOLOURABLE = ("sofa", "armchair", "bed", "chair", "rug", "cabinet", "dresser", "bench",
                 "lamp", "wardrobe")
_WALL_T = 0.1


@dataclass(frozen=True)
class GeneratorConfig:
    rooms_per_row: tuple[int, int] = (2, 4)
    room_width: tuple[float, float] = (2.8, 4.8)
    row_depth: tuple[float, float] = (3.0, 4.5)
    hall_width: tuple[float, float] = (1.4, 2.0)
    end_living_room: float = 0.6  # probability of a living room across the east end
    closed_door: float = 0.2  # probability that a hallway door is closed
    extra_door: float = 0.35  # probability of a door between neighbouring rooms
    colour_variation: float = 0.5  # probability of a random colour instead of the usual one
    max_tries: int = 30


def _u(rng: random.Random, lo_hi: tuple[float, float]) -> float:
    return round(rng.uniform(*lo_hi), 1)


def _partition(rng: random.Random, total: float, k: int, lo: float, hi: float) -> list[float]:
    for _ in range(200):
        raw = [rng.uniform(lo, hi) for _ in range(k)]
        widths = [round(w * total / sum(raw), 1) for w in raw[:-1]]
        widths.append(round(total - sum(widths), 1))
        if all(lo - 0.3 <= w <= hi + 1.0 for w in widths):
            return widths
    return [round(total / k, 1)] * (k - 1) + [round(total - round(total / k, 1) * (k - 1), 1)]


def _layout(rng: random.Random, cfg: GeneratorConfig) -> tuple[list[dict], list[dict]]:
    k_top, k_bot = rng.randint(*cfg.rooms_per_row), rng.randint(*cfg.rooms_per_row)
    top = [_u(rng, cfg.room_width) for _ in range(k_top)]
    length = round(sum(top), 1)
    bottom = _partition(rng, length, k_bot, *cfg.room_width)
    d_bot, d_top, hall_w = _u(rng, cfg.row_depth), _u(rng, cfg.row_depth), _u(rng, cfg.hall_width)
    y_hall = (d_bot, round(d_bot + hall_w, 1))
    height = round(y_hall[1] + d_top, 1)
    rooms = [{"id": "hall", "type": "hallway", "x": [0.0, length], "y": list(y_hall)}]
    rows: dict[str, list[dict]] = {"top": [], "bottom": []}
    for row, widths, ys in (("bottom", bottom, (0.0, d_bot)), ("top", top, (y_hall[1], height))):
        x = 0.0
        for w in widths:
            room = {"id": f"{row}_{len(rows[row])}", "type": "",
                    "x": [round(x, 1), round(x + w, 1)], "y": list(ys)}
            rows[row].append(room)
            x += w
    row_rooms = rows["bottom"] + rows["top"]
    living = rng.random() < cfg.end_living_room
    types = list(_REQUIRED) + ([] if living else ["living room"])
    while len(types) < len(row_rooms):
        types.append(rng.choice(_OPTIONAL))
    rng.shuffle(types)
    for room, t in zip(row_rooms, types, strict=False):
        room["type"] = t
        room["id"] = f"{t.replace(' ', '_')}_{sum(r['type'] == t for r in row_rooms)}"
    rooms += row_rooms
    doors: list[dict] = []

    def door(a: dict, b: dict, fixed: float, span: tuple[float, float], axis: str,
             is_open: bool, width: float) -> None:
        width = min(width, span[1] - span[0] - 0.4)
        along = round(rng.uniform(span[0] + width / 2 + 0.2, span[1] - width / 2 - 0.2), 2)
        at = [along, fixed] if axis == "x" else [fixed, along]
        doors.append({"id": f"door_{a['id']}_{b['id']}", "between": [a["id"], b["id"]],
                      "at": at, "width": width, "open": is_open})

    for room in row_rooms:
        wide = room["type"] in ("living room", "dining room", "kitchen")
        fixed = y_hall[0] if room in rows["bottom"] else y_hall[1]
        door(room, rooms[0], fixed, tuple(room["x"]), "x", rng.random() >= cfg.closed_door,
             round(rng.uniform(0.9, 1.3 if wide else 1.0), 2))
    for row in rows.values():
        for a, b in zip(row, row[1:], strict=False):
            if rng.random() < cfg.extra_door:
                door(a, b, a["x"][1], tuple(a["y"]), "y", rng.random() < 0.75, 0.9)
    if living:
        lr = {"id": "living_room_1", "type": "living room",
              "x": [length, round(length + _u(rng, (3.5, 5.0)), 1)], "y": [0.0, height]}
        rooms.append(lr)
        door(rooms[0], lr, length, y_hall, "y", True, round(hall_w - 0.3, 2))
        for row in rows.values():
            if rng.random() < cfg.extra_door:
                door(row[-1], lr, length, tuple(row[-1]["y"]), "y", True, 0.9)
    _open_cut_off_rooms(rooms, doors, rows)
    return rooms, doors


def _open_cut_off_rooms(rooms: list[dict], doors: list[dict], rows: dict[str, list[dict]]) -> None:
    """Open the hallway door of every room that closed doors cut off from the hallway."""
    while True:
        reach, frontier = {"hall"}, ["hall"]
        while frontier:
            r = frontier.pop()
            for d in doors:
                if d["open"] and r in d["between"]:
                    other = d["between"][1] if d["between"][0] == r else d["between"][0]
                    if other not in reach:
                        reach.add(other)
                        frontier.append(other)
        cut = [r for r in rooms if r["id"] not in reach]
        if not cut:
            return
        for d in doors:
            if cut[0]["id"] in d["between"] and "hall" in d["between"]:
                d["open"] = True


def _front_yaw(side: str) -> float:
    """Yaw that turns an object's front (-y) into the room from a wall on ``side``."""
    return {"north": 0.0, "south": math.pi, "east": -math.pi / 2, "west": math.pi / 2}[side]


def _keepouts(room: dict, doors: list[dict]) -> list[Box2D]:
    """Rectangles in front of each of the room's doors (both sides) that furniture keeps off."""
    out = []
    for d in doors:
        if room["id"] not in d["between"]:
            continue
        x, y = d["at"]
        horizontal = abs(y - room["y"][0]) < 1e-6 or abs(y - room["y"][1]) < 1e-6
        half_w = d["width"] / 2 + 0.3
        out.append(Box2D(x, y, half_w, 1.2) if horizontal else Box2D(x, y, 1.2, half_w))
    return out


def _furnish(rng: random.Random, room: dict, doors: list[dict], cfg: GeneratorConfig,
             counter: dict[str, int]) -> list[dict]:
    placed: list[tuple[Box2D, dict]] = []
    keep = _keepouts(room, doors)
    (x0, x1), (y0, y1) = room["x"], room["y"]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for label, prob in ROOM_FURNITURE[room["type"]]:
        if rng.random() >= prob:
            continue
        f = FURNITURE[label]
        sx, sy, _ = f.size
        for _ in range(40):
            if f.where == "centre":
                yaw = rng.choice((0.0, math.pi / 2))
                hx, hy = (sx / 2, sy / 2) if yaw == 0.0 else (sy / 2, sx / 2)
                x = cx + rng.uniform(-0.25, 0.25) * (x1 - x0 - 2 * hx)
                y = cy + rng.uniform(-0.25, 0.25) * (y1 - y0 - 2 * hy)
            else:
                side = rng.choice(("north", "south", "east", "west"))
                yaw = _front_yaw(side)
                hx, hy = (sx / 2, sy / 2) if side in ("north", "south") else (sy / 2, sx / 2)
                m = _WALL_T / 2 + 0.03
                lo_x, hi_x, lo_y, hi_y = x0 + m + hx, x1 - m - hx, y0 + m + hy, y1 - m - hy
                if lo_x > hi_x or lo_y > hi_y:
                    continue
                if f.where == "corner":
                    x, y = rng.choice((lo_x, hi_x)), rng.choice((lo_y, hi_y))
                else:
                    x = {"east": hi_x, "west": lo_x}.get(side, rng.uniform(lo_x, hi_x))
                    y = {"north": hi_y, "south": lo_y}.get(side, rng.uniform(lo_y, hi_y))
            box = Box2D(round(x, 2), round(y, 2), hx, hy)
            if not (x0 + 0.06 <= box.cx - hx and box.cx + hx <= x1 - 0.06
                    and y0 + 0.06 <= box.cy - hy and box.cy + hy <= y1 - 0.06):
                continue
            if any(_overlap(box, k, 0.0) for k in keep) or any(
                    _overlap(box, b, 0.35 if f.blocks and o.get("blocks", True) else 0.0)
                    for b, o in placed):
                continue
            counter[label] = counter.get(label, 0) + 1
            obj: dict[str, Any] = {"id": f"{label.replace(' ', '_')}_{counter[label]}",
                                   "label": label, "position": [box.cx, box.cy],
                                   "yaw": round(yaw, 4)}
            if rng.random() < cfg.colour_variation and label in _RECOLOURABLE:
                obj["color"] = rng.choice(_COLOURS)
            if not f.blocks:
                obj["blocks"] = False
            placed.append((box, obj))
            break
    return [o for _, o in placed]


def _overlap(a: Box2D, b: Box2D, gap: float) -> bool:
    return (abs(a.cx - b.cx) < a.hx + b.hx + gap) and (abs(a.cy - b.cy) < a.hy + b.hy + gap)


def _main_component(house: House) -> set[str]:
    hall = house.graph.places_in_room("hall")
    return max((house.graph.component(p.id) for p in hall), key=len) if hall else set()


def generate_house_data(seed: int, config: GeneratorConfig | None = None) -> dict[str, Any]:
    """A valid house mapping for ``seed`` (raises RuntimeError after ``max_tries`` draws)."""
    cfg = config or GeneratorConfig()
    rng = random.Random(seed)
    for attempt in range(cfg.max_tries):
        rooms, doors = _layout(rng, cfg)
        counter: dict[str, int] = {}
        objects = [o for r in rooms for o in _furnish(rng, r, doors, cfg, counter)]
        data = {"name": f"generated_{seed:03d}",
                "description": f"generated by house_generator (seed {seed}, draw {attempt})",
                "wall_thickness": _WALL_T, "rooms": rooms, "doors": doors, "objects": objects}
        try:
            house = parse_house(data, source=data["name"])
            graph = house.graph
        except ValueError:
            continue
        main = _main_component(house)
        placeless = [oid for oid in house.objects
                     if (p := graph.place_of_object(oid)) is None or p.id not in main]
        if placeless:  # drop what cannot be reached and check the rest again
            data["objects"] = [o for o in objects if o["id"] not in placeless]
            try:
                house = parse_house(data, source=data["name"])
                graph, main = house.graph, _main_component(house)
            except ValueError:
                continue
        open_rooms = {r for d in house.spec.doors if d.open for r in d.between}
        if all(any(p.id in main for p in graph.places_in_room(r)) for r in open_rooms) and all(
                (p := graph.place_of_object(o)) is not None and p.id in main
                for o in house.objects):
            return data
    raise RuntimeError(f"house generator: no valid house for seed {seed} in {cfg.max_tries} draws")


def generate_house(seed: int, config: GeneratorConfig | None = None) -> House:
    return parse_house(generate_house_data(seed, config), source=f"generated_{seed:03d}")
