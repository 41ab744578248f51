"""The online topological map and its MapGPT-style text."""

import math

import pytest

from ifagent_ros.core.vln.topo_map import TopoMap, direction_words
from ifagent_ros.core.vln.types import NavObservation, Neighbour, SeenObject


def obs(place, pos, heading, neighbours, objects=()):
    return NavObservation(
        place_id=place, position=(*pos, 0.0), heading=heading,
        neighbours=tuple(Neighbour(n, (*p, 0.0), math.atan2(p[0] - pos[0], p[1] - pos[1]),
                                   math.dist(p, pos)) for n, p in neighbours),
        objects=tuple(objects))


def two_steps() -> TopoMap:
    m = TopoMap()
    m.update(obs("s", (0, 0), 0.0, [("a", (0, 2)), ("b", (2, 0))],
                 [SeenObject("sofa", math.radians(-90), 0.2)]))
    m.update(obs("a", (0, 2), 0.0, [("s", (0, 0)), ("c", (0, 4)), ("d", (-2, 2))],
                 [SeenObject("fridge", 0.0, 0.4), SeenObject("lamp", math.radians(100), 0.01)]))
    return m


def test_places_are_numbered_in_discovery_order_and_connected():
    m = two_steps()
    assert [m.index(p) for p in ("s", "a", "b", "c", "d")] == [0, 1, 2, 3, 4]
    assert m.places["s"].visited and m.places["a"].visited and not m.places["c"].visited
    assert {p.place_id for p in m.frontier()} == {"b", "c", "d"}
    assert m.path("b", "c") == ["b", "s", "a", "c"]
    assert m.path("b", "zzz") == []
    assert m.trajectory == ["s", "a"]


def test_text_rendering():
    text = two_steps().to_text("a", heading=0.0)
    assert "Trajectory: Place 0 -> Place 1" in text
    assert "Place 0 (visited) is connected with Places 1, 2." in text
    assert "Place 1 (current) is connected with Places 0, 3, 4." in text
    assert "- fridge: ahead, very close" in text
    assert "- lamp: right (100 deg), far" in text
    assert "- Place 3 (unvisited): ahead, 2.0 m; toward it: fridge" in text
    assert "- Place 4 (unvisited): left (90 deg), 2.0 m" in text
    assert "- Place 0 (visited): behind, 2.0 m" in text
    assert "Place 2 (" not in text.split("Map:")[1].split("Objects")[0]  # not visited: no line
    # directions are relative to the agent's heading
    turned = two_steps().to_text("a", heading=math.pi / 2)
    assert "- Place 3 (unvisited): left (90 deg)" in turned


def test_direction_words():
    assert direction_words(0.1) == "ahead"
    assert direction_words(math.radians(45)) == "slightly right (45 deg)"
    assert direction_words(math.radians(-90)) == "left (90 deg)"
    assert direction_words(math.radians(179)) == "behind"
    assert direction_words(math.radians(-140)) == "behind left (140 deg)"


def test_bad_input():
    m = TopoMap()
    with pytest.raises(ValueError, match="non-finite"):
        m.update(obs("x", (math.nan, 0), 0.0, []))
    m.update(obs("s", (0, 0), 0.0, []))
    with pytest.raises(KeyError):
        m.to_text("nowhere", 0.0)
    assert "nothing recognised" in m.to_text("s", 0.0)
