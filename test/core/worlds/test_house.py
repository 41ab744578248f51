"""House floor plans: schema errors, walls and doors, navigation graph, visibility, generator."""

from __future__ import annotations

import copy
import math
import random
from typing import Any

import pytest

from ifagent_ros.core.worlds.geometry import Box2D, Circle2D, point_segment_distance
from ifagent_ros.core.worlds.house import (
    REPO_HOUSE_DIR,
    House,
    heading_to_yaw,
    list_house_files,
    load_house,
    parse_house,
    yaw_to_heading,
)
from ifagent_ros.core.worlds.house_generator import generate_house, generate_house_data
from ifagent_ros.core.worlds.house_graph import GraphConfig

HAND_WRITTEN = [p.stem for p in list_house_files(REPO_HOUSE_DIR)]


def _two_rooms(door_open: bool = True, **extra: Any) -> dict[str, Any]:
    """Room a (0..4 x 0..3) west of room b (4..8 x 0..3), a door at x = 4, y = 1.5."""
    data: dict[str, Any] = {
        "name": "two_rooms",
        "rooms": [{"id": "a", "type": "bedroom", "x": [0, 4], "y": [0, 3]},
                  {"id": "b", "type": "kitchen", "x": [4, 8], "y": [0, 3]}],
        "doors": [{"id": "d", "between": ["a", "b"], "at": [4, 1.5], "open": door_open}],
        "objects": [{"id": "fridge", "label": "fridge", "position": [7.5, 1.5],
                     "yaw": math.pi / 2}],
    }
    data.update(extra)
    return data


@pytest.fixture(scope="module")
def houses() -> dict[str, House]:
    return {name: load_house(name) for name in HAND_WRITTEN}


# ---- schema -------------------------------------------------------------------------------------
def test_at_least_three_hand_written_houses_load(houses: dict[str, House]) -> None:
    assert len(houses) >= 3
    for h in houses.values():
        types = {r.type for r in h.spec.rooms}
        assert {"kitchen", "bathroom", "bedroom"} <= types
        assert len(h.objects) >= 10 and any(not d.open for d in h.spec.doors)


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["rooms"][0].update(colour="red"), "rooms[0] 'a': colour: unknown key"),
    (lambda d: d["rooms"][1].update(type="garage"), "rooms[1] 'b': type:"),
    (lambda d: d["rooms"][0].update(x=[4, 0]), "rooms[0] 'a': x:"),
    (lambda d: d["doors"][0].update(between=["a", "zz"]),
     "doors[0] 'd': between: unknown room 'zz'"),
    (lambda d: d["doors"][0].update(at=[3.0, 1.5]), "doors[0] 'd': at:"),
    (lambda d: d["doors"][0].update(at=[4.0, 2.8]), "does not fit the shared wall"),
    (lambda d: d["doors"][0].update(widht=1.0), "doors[0] 'd': widht: unknown key"),
    (lambda d: d["objects"][0].update(label="spaceship"), "objects[0] 'fridge': size: required"),
    (lambda d: d["objects"][0].update(color="mauve"), "objects[0] 'fridge': color:"),
    (lambda d: d["objects"][0].update(position=[9.5, 1.0]), "objects[0] 'fridge': position:"),
    (lambda d: d["objects"][0].update(room="a"), "objects[0] 'fridge': room: 'a'"),
    (lambda d: d["objects"][0].update(position=[7.9, 1.5]), "footprint leaves room 'b'"),
    (lambda d: d["rooms"][1].update(x=[3, 8]), "rooms 'a' and 'b' overlap"),
    (lambda d: d["objects"].append({"id": "a", "label": "plant", "position": [1, 1]}),
     "objects[1] 'a': id: already used in rooms"),
    (lambda d: d.update(wall_height=-1), "wall_height"),
    (lambda d: d.update(roms=[]), "roms: unknown key"),
])
def test_schema_errors_name_the_key(mutate: Any, expected: str) -> None:
    data = _two_rooms()
    mutate(data)
    with pytest.raises(ValueError) as err:
        parse_house(data, source="test")
    assert expected in str(err.value)


def test_rooms_sharing_no_wall_cannot_have_a_door() -> None:
    data = _two_rooms()
    data["rooms"][1].update(x=[5, 8])
    with pytest.raises(ValueError, match="share no wall"):
        parse_house(data)


def test_object_defaults_come_from_the_catalogue() -> None:
    h = parse_house(_two_rooms())
    fridge = h.objects["fridge"]
    assert fridge.size == (0.7, 0.7, 1.8) and fridge.shape == "box" and fridge.blocks
    assert fridge.color is not None and fridge.color.name == "white"


# ---- walls and doors ----------------------------------------------------------------------------
def test_walls_leave_open_and_closed_openings_and_closed_doors_get_panels() -> None:
    for door_open in (True, False):
        h = parse_house(_two_rooms(door_open))
        assert not any(w.contains(4.0, 1.5) for w in h.walls)
        assert not any(w.contains(4.0, 1.5 + 0.44) for w in h.walls)  # opening is 0.9 wide
        assert any(w.contains(4.0, 1.5 + 0.5) for w in h.walls)
        assert any(p.contains(4.0, 1.5) for p in h.door_panels) == (not door_open)
        # Outer walls are closed all around (corners included).
        for x, y in ((0.0, 0.0), (8.0, 3.0), (2.0, 0.0), (8.0, 1.5), (4.0, 3.0)):
            assert any(w.contains(x, y) for w in h.walls), (x, y)
        assert h.line_of_sight((2.0, 1.5), (6.0, 1.5)) == door_open
        assert not h.line_of_sight((2.0, 0.3), (6.0, 0.3))


def test_room_lookup() -> None:
    h = load_house("apartment_a")
    assert h.room_at(1.0, 1.0).id == "bedroom"  # type: ignore[union-attr]
    assert h.room_at(4.8, 5.0).type == "hallway"  # type: ignore[union-attr]
    assert h.room_at(8.0, 6.0).type == "living room"  # type: ignore[union-attr]
    assert h.room_at(-1.0, 1.0) is None and h.room_at(9.0, 9.0) is None


def test_geometry_segment_tests_agree_with_dense_sampling() -> None:
    rng = random.Random(3)
    shapes = [Box2D(0.0, 0.0, 1.0, 0.4, 0.0), Box2D(0.5, -0.3, 0.7, 0.2, 0.6),
              Circle2D(0.2, 0.1, 0.5)]
    for _ in range(400):
        a = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        b = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        inflate = rng.choice((0.0, 0.2))
        for shape in shapes:
            samples = [shape.contains(a[0] + t / 400 * (b[0] - a[0]),
                                      a[1] + t / 400 * (b[1] - a[1]), inflate)
                       for t in range(401)]
            if any(samples):
                assert shape.hits_segment(a, b, inflate)
            elif shape.hits_segment(a, b, inflate):  # only a grazing miss of the sampling
                near = min(point_segment_distance(c, a, b) for c in (
                    shape.corners() if isinstance(shape, Box2D) else [(shape.cx, shape.cy)]))
                assert near < 0.5


# ---- navigation graph ---------------------------------------------------------------------------
def _edge_is_clear(house: House, a: tuple[float, float], b: tuple[float, float],
                   clearance: float) -> bool:
    """Independent of Liang-Barsky: sample the segment every 2 cm against the obstacles."""
    n = max(2, int(math.dist(a, b) / 0.02))
    for k in range(n + 1):
        x, y = a[0] + k / n * (b[0] - a[0]), a[1] + k / n * (b[1] - a[1])
        if any(o.contains(x, y, clearance - 0.01) for o in house.obstacles()):
            return False
    return True


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_no_edge_crosses_a_wall_a_closed_door_or_furniture(houses: dict[str, House],
                                                            name: str) -> None:
    h = houses[name]
    g = h.graph
    clearance = GraphConfig().clearance
    for a, b, d in g.edges():
        pa, pb = g.places[a], g.places[b]
        assert d == pytest.approx(math.dist(pa.xy, pb.xy))
        assert _edge_is_clear(h, pa.xy, pb.xy, clearance), (a, b)
        if pa.room != pb.room:  # only through a door, between its two sides
            assert pa.kind == pb.kind == "door" and pa.door_id == pb.door_id
            assert h.openings[pa.door_id].door.open  # type: ignore[index]


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_graph_reaches_every_room_with_an_open_door(houses: dict[str, House], name: str) -> None:
    h = houses[name]
    g = h.graph
    main = max((g.component(p) for p in g.places), key=len)
    open_rooms = {r for d in h.spec.doors if d.open for r in d.between}
    for room in h.spec.rooms:
        reached = any(p.id in main for p in g.places_in_room(room.id))
        assert reached == (room.id in open_rooms), room.id
    for oid in h.objects:  # every object of a reachable room has a reachable place next to it
        place = g.place_of_object(oid)
        if h.room_of_object(oid).id in open_rooms:
            assert place is not None and place.id in main, oid
    degrees = [len(v) for v in g.adjacency.values()]
    assert 2.0 <= sum(degrees) / len(degrees) <= 6.0  # sparse, R2R-like


def test_closed_door_forces_the_way_round() -> None:
    h = load_house("apartment_a")  # bedroom and bathroom share a closed door
    g = h.graph
    path = g.shortest_path("bedroom", "bathroom")
    assert "hall" in {g.places[p].room for p in path}
    assert not any(g.places[a].room == "bedroom" and g.places[b].room == "bathroom"
                   for a, b, _ in g.edges())
    assert g.distance("bedroom", "closet") == math.inf  # only a closed door leads there
    with pytest.raises(ValueError, match="not reachable"):
        g.shortest_path("bedroom", "closet")


def test_partial_wall_is_walked_around() -> None:
    h = load_house("studio_loft")  # a wall x = 3, y 2.2..5 splits the living room's north
    g = h.graph
    a, b = g.places["near/tv"], g.places["near/piano"]
    assert a.x < 3.0 < b.x
    path = [g.places[p] for p in g.shortest_path(a.id, b.id)]
    assert min(p.y for p in path) < 2.2 - GraphConfig().clearance


def test_narrow_door_is_rejected() -> None:
    data = _two_rooms()
    data["doors"][0]["width"] = 0.5
    with pytest.raises(ValueError, match="too narrow"):
        parse_house(data).graph


# ---- visibility ---------------------------------------------------------------------------------
def test_visibility_through_open_doors_and_range() -> None:
    open_house, closed_house = parse_house(_two_rooms(True)), parse_house(_two_rooms(False))
    seen = {s.object_id: s for s in open_house.seen_objects((1.0, 1.5), max_range=8.0)}
    assert "fridge" in seen and "door/d" in seen and "room/b" in seen
    assert seen["fridge"].name == "fridge"
    assert seen["fridge"].heading == pytest.approx(math.pi / 2)  # due east, clockwise from +y
    assert seen["room/b"].name == "kitchen"
    near = {s.object_id: s for s in open_house.seen_objects((6.0, 1.5), max_range=8.0)}
    assert near["fridge"].closeness > seen["fridge"].closeness
    assert "fridge" not in {s.object_id for s in open_house.seen_objects((1.0, 1.5), 5.0)}
    closed = {s.object_id: s for s in closed_house.seen_objects((1.0, 1.5), max_range=8.0)}
    assert "fridge" not in closed and "room/b" not in closed
    assert closed["door/d"].name == "closed door"
    assert "fridge" not in {s.object_id for s in open_house.seen_objects((1.0, 0.3), 8.0)}


def test_headings_and_yaws_convert_both_ways() -> None:
    for yaw, heading in ((0.0, math.pi / 2), (math.pi / 2, 0.0), (math.pi, -math.pi / 2)):
        assert yaw_to_heading(yaw) == pytest.approx(heading)
        assert math.cos(heading_to_yaw(heading) - yaw) == pytest.approx(1.0)


# ---- generator ----------------------------------------------------------------------------------
def test_generator_is_deterministic_per_seed() -> None:
    assert generate_house_data(4) == generate_house_data(4)
    assert generate_house_data(4) != generate_house_data(5)


@pytest.mark.parametrize("seed", range(6))
def test_generated_houses_are_valid_and_connected(seed: int) -> None:
    h = generate_house(seed)
    g = h.graph
    assert h.name == f"generated_{seed:03d}" and len(h.spec.rooms) >= 5
    assert {"kitchen", "bathroom", "bedroom", "hallway", "living room"} <= {
        r.type for r in h.spec.rooms}
    main = max((g.component(p) for p in g.places), key=len)
    for room in h.spec.rooms:
        assert any(p.id in main for p in g.places_in_room(room.id)), room.id
    for oid in h.objects:
        assert (p := g.place_of_object(oid)) is not None and p.id in main
    clearance = GraphConfig().clearance
    for a, b, _ in g.edges():
        assert _edge_is_clear(h, g.places[a].xy, g.places[b].xy, clearance)


def test_generated_data_round_trips_through_the_schema() -> None:
    data = generate_house_data(2)
    again = parse_house(copy.deepcopy(data))
    assert sorted(again.graph.places) == sorted(generate_house(2).graph.places)
