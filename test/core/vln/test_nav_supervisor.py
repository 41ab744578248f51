"""NavSupervisor: instruction + odometry + objects -> goals, paths, status; every bad input."""

from __future__ import annotations

import math
import random

import pytest

from ifagent_ros.core.schemas import NavStatus
from ifagent_ros.core.vln.known_map import KnownMap
from ifagent_ros.core.vln.nav_supervisor import (
    NavSupervisor,
    NavSupervisorConfig,
    NavUpdate,
    PerceivedThing,
)
from ifagent_ros.core.vln.types import NavDecision, NavObservation
from ifagent_ros.core.worlds.house import load_house

INSTRUCTION = "leave the bedroom, walk past the bench and stop next to the fridge in the kitchen"
BEDROOM = (2.3, 2.2, 0.0)

# A real-robot style place graph: the music room (with the piano) is behind a closed door.
PLACE_GRAPH = {
    "frame_id": "map",
    "rooms": [{"id": "hall", "type": "hallway", "x": [0, 4], "y": [0, 2]},
              {"id": "kitchen", "type": "kitchen", "x": [0, 4], "y": [2, 5]},
              {"id": "music", "type": "office", "x": [4, 7], "y": [0, 5]}],
    "places": [{"id": "hall_w", "x": 0.8, "y": 1.0, "room": "hall"},
               {"id": "hall_e", "x": 3.2, "y": 1.0, "room": "hall"},
               {"id": "kitchen", "x": 2.0, "y": 3.5, "room": "kitchen"},
               {"id": "near_fridge", "x": 3.3, "y": 4.4, "room": "kitchen", "labels": ["fridge"]},
               {"id": "music", "x": 5.5, "y": 2.5, "room": "music"},
               {"id": "near_piano", "x": 6.2, "y": 4.0, "room": "music", "labels": ["piano"]}],
    "edges": [["hall_w", "hall_e"], ["hall_w", "kitchen"], ["hall_e", "kitchen"],
              ["kitchen", "near_fridge"], ["music", "near_piano"]],
}


@pytest.fixture(scope="module")
def house():
    return load_house("apartment_a")


def seen_from(house, x: float, y: float, yaw: float) -> list[PerceivedThing]:
    from ifagent_ros.nodes.sim_house_world import house_object_list

    return [PerceivedThing(o.id, o.label, o.position, o.size)
            for o in house_object_list(house, x, y, yaw)]


def assert_safe(sup: NavSupervisor, update: NavUpdate | None) -> None:
    """Whatever leaves the supervisor: finite, on the known map, and a valid status."""
    if update is None:
        return
    NavStatus(stamp=0.0, **update.status)  # the schema accepts it
    for pose in ([update.goal] if update.goal else []) + list(update.path or []):
        assert all(math.isfinite(v) for v in pose), pose
        assert sup.map.contains(pose[0], pose[1]), pose
    if update.goal is not None:
        assert update.status["mode"] == "navigating"
        assert update.path and update.path[-1] == update.goal


def drive(sup: NavSupervisor, house, update: NavUpdate, t: float, max_goals: int = 40):
    """A perfect base: teleports to each goal (slowly enough not to look like a jump)."""
    goals = []
    while update is not None and update.goal is not None and len(goals) < max_goals:
        assert_safe(sup, update)
        here = sup.current_place
        goals.append(update.status["goal_place"])
        assert goals[-1] in sup.map.adjacency[here]  # only ever a neighbour of where it is
        x, y, yaw = update.goal
        t += 10.0
        sup.on_objects(seen_from(house, x, y, yaw), t, t, (x, y, yaw))
        update = sup.on_odometry(x, y, yaw, t)
    assert_safe(sup, update)
    return goals, update, t


def start(house, text: str = INSTRUCTION, pose=BEDROOM) -> tuple[NavSupervisor, NavUpdate]:
    sup = NavSupervisor(KnownMap.from_house(house))
    sup.on_odometry(*pose, 0.0)
    sup.on_objects(seen_from(house, *pose), 0.0, 0.0)
    return sup, sup.set_instruction(text, 0.0)


def test_instruction_leads_place_by_place_to_a_reasoned_stop(house) -> None:
    sup, update = start(house)
    assert update.status["mode"] == "navigating"
    assert update.status["subgoals"][0] == "exit the bedroom"
    assert len(update.path) == 2 and update.path[0][:2] == sup.map.places["bedroom"].xy
    goals, final, _ = drive(sup, house, update, 0.0)
    assert goals[:2] == ["bedroom_door@bedroom", "bedroom_door@hall"]  # it leaves the bedroom
    assert final.status["mode"] == "stopped" and final.path == [] and final.goal is None
    assert final.status["reason"]
    assert final.status["route"][0] == "bedroom" and len(final.status["route"]) == len(goals) + 1
    assert len(sup.plan_ms) == len(goals) + 1 and all(ms >= 0 for ms in sup.plan_ms)
    assert "known places" in final.status["map_summary"]


def test_empty_instruction_asks_and_does_not_move(house) -> None:
    sup, update = start(house, "   ")
    assert update.status["mode"] == "asking" and update.goal is None and update.path == []
    assert "empty instruction" in update.status["question"]


def test_instruction_with_only_unknown_landmarks_asks(house) -> None:
    sup, update = start(house, "go to the zorblax")
    assert update.status["mode"] == "asking" and update.goal is None and update.path == []
    assert "zorblax" in update.status["question"]
    assert update.status["unknown_words"] == ["zorblax"]


def test_unknown_words_are_reported_and_the_rest_is_followed(house) -> None:
    sup, update = start(house, "walk past the zorblax and stop at the sofa")
    assert update.status["mode"] == "navigating"
    assert any("zorblax" in w for w in update.status["warnings"])


def test_a_landmark_never_seen_is_named_in_the_stop_reason() -> None:
    sup = NavSupervisor(KnownMap.from_dict(PLACE_GRAPH))
    sup.on_odometry(0.8, 1.0, 0.0, 0.0)
    update = sup.set_instruction("walk to the fridge and stop", 0.0)
    t = 0.0
    while update is not None and update.goal is not None:
        assert_safe(sup, update)
        t += 10.0
        update = sup.on_odometry(*update.goal, t)  # no object list ever arrives
    assert update.status["mode"] == "stopped"
    reason = update.status["reason"]
    assert "never seen" in reason and "refrigerator" in reason and reason.count("never seen") == 1
    assert any("no recent object list" in w for w in update.status["warnings"])


def test_a_landmark_missing_from_the_map_is_warned_about(house) -> None:
    sup, update = start(house, "walk to the piano and stop")
    assert any("the map has no piano" in w for w in update.status["warnings"])
    _, final, _ = drive(sup, house, update, 0.0)
    reason = final.status["reason"]
    assert final.status["mode"] == "stopped" and "never seen" in reason and "piano" in reason


def test_goal_behind_a_closed_wall_asks_instead_of_moving() -> None:
    sup = NavSupervisor(KnownMap.from_dict(PLACE_GRAPH))
    sup.on_odometry(0.8, 1.0, 0.0, 0.0)
    update = sup.set_instruction("go to the piano", 0.0)
    assert update.status["mode"] == "asking" and update.goal is None and update.path == []
    assert "no route reaches it" in update.status["question"]


def test_odometry_jump_mid_route_halts_until_the_instruction_comes_again(house) -> None:
    sup, update = start(house)
    assert update.goal is not None
    halted = sup.on_odometry(BEDROOM[0] + 3.0, BEDROOM[1], 0.0, 0.05)
    assert halted.status["mode"] == "halted" and halted.path == [] and halted.goal is None
    assert "odometry jumped" in halted.status["reason"]
    assert sup.on_odometry(BEDROOM[0] + 3.0, BEDROOM[1], 0.0, 0.1) is None  # stays stopped
    again = sup.set_instruction(INSTRUCTION, 0.2)
    assert again.status["mode"] == "navigating"
    assert_safe(sup, again)
    assert again.status["current_place"] == sup.map.nearest(BEDROOM[0] + 3.0, BEDROOM[1])[0].id


def test_new_instruction_mid_route_replaces_the_old_one(house) -> None:
    sup, update = start(house)
    x, y, yaw = update.goal
    mid = ((BEDROOM[0] + x) / 2, (BEDROOM[1] + y) / 2)
    sup.on_odometry(mid[0], mid[1], yaw, 5.0)  # half way along the first edge
    new = sup.set_instruction("go to the bathroom and stop at the toilet", 5.0)
    assert new.status["mode"] == "navigating"
    assert new.status["instruction"] == "go to the bathroom and stop at the toilet"
    assert any("new instruction replaces" in e for e in new.status["events"])
    assert new.status["current_place"] == sup.map.nearest(*mid)[0].id
    assert_safe(sup, new)


def test_instruction_before_odometry_waits_then_plans(house) -> None:
    sup = NavSupervisor(KnownMap.from_house(house))
    waiting = sup.set_instruction(INSTRUCTION, 0.0)
    assert waiting.status["mode"] == "waiting" and waiting.goal is None
    update = sup.on_odometry(*BEDROOM, 0.1)
    assert update is not None and update.status["mode"] == "navigating"


def test_pose_off_the_map_and_non_finite_odometry_halt(house) -> None:
    sup = NavSupervisor(KnownMap.from_house(house))
    sup.on_odometry(30.0, 30.0, 0.0, 0.0)
    update = sup.set_instruction(INSTRUCTION, 0.0)
    assert update.status["mode"] == "halted" and "off the map" in update.status["reason"]
    sup2, _ = start(house)
    bad = sup2.on_odometry(math.nan, 1.0, 0.0, 1.0)
    assert bad.status["mode"] == "halted" and bad.path == [] and bad.goal is None


class _BadPlanner:
    name = "bad"

    def __init__(self, decision: NavDecision | None) -> None:
        self.decision = decision

    def reset(self, instruction: str, observation: NavObservation) -> None:
        pass

    def act(self, observation: NavObservation) -> NavDecision:
        if self.decision is None:
            raise RuntimeError("boom")
        return self.decision


@pytest.mark.parametrize("decision, words", [
    (NavDecision("move", target="near/fridge"), "not a neighbour"),  # far away, not adjacent
    (NavDecision("move", target="nowhere"), "not a neighbour"),
    (None, "planner failed"),
])
def test_a_misbehaving_planner_never_gets_a_goal_out(house, decision, words) -> None:
    sup = NavSupervisor(KnownMap.from_house(house), planner=_BadPlanner(decision))
    sup.on_odometry(*BEDROOM, 0.0)
    update = sup.set_instruction(INSTRUCTION, 0.0)
    assert update.status["mode"] == "halted" and update.goal is None and update.path == []
    assert words in update.status["reason"]


def test_final_check_refuses_non_finite_and_off_map_poses(house) -> None:
    sup = NavSupervisor(KnownMap.from_house(house))
    assert sup._checked((math.nan, 1.0, 0.0), "bedroom") is None
    assert sup._checked((50.0, 1.0, 0.0), "bedroom") is None
    assert sup._checked((2.3, 2.2, math.inf), "bedroom") is None
    assert sup._checked((2.3, 2.2, 0.0), "no such place") is None
    assert sup._checked((2.3, 2.2, 0.0), "bedroom") == (2.3, 2.2, 0.0)


def test_goal_not_reached_in_time_halts(house) -> None:
    sup = NavSupervisor(KnownMap.from_house(house), config=NavSupervisorConfig(goal_timeout_s=5.0))
    sup.on_odometry(*BEDROOM, 0.0)
    assert sup.set_instruction(INSTRUCTION, 0.0).status["mode"] == "navigating"
    assert sup.tick(1.0) is None
    update = sup.tick(6.0)
    assert update.status["mode"] == "halted" and "not reached" in update.status["reason"]


def test_stale_object_lists_are_ignored(house) -> None:
    sup = NavSupervisor(KnownMap.from_house(house))
    sup.on_odometry(*BEDROOM, 100.0)
    sup.on_objects(seen_from(house, *BEDROOM), stamp=10.0, now=100.0)
    assert sup.objects == {}
    sup.on_objects(seen_from(house, *BEDROOM), stamp=99.5, now=100.0)
    assert {o.label for o in sup.objects.values()} >= {"bed", "door"}


def test_random_input_sequences_never_publish_an_unsafe_pose(house) -> None:
    rng = random.Random(3)
    texts = [INSTRUCTION, "", "go to the zorblax", "turn left and stop at the tv",
             "go into the kitchen", "x" * 3000, "walk past the sofa then stop"]
    for _ in range(5):
        sup = NavSupervisor(KnownMap.from_house(house))
        t = 0.0
        pose = BEDROOM
        for _ in range(150):
            t += rng.choice([0.05, 1.0, 10.0])
            r = rng.random()
            if r < 0.1:
                update = sup.set_instruction(rng.choice(texts), t)
            elif r < 0.2:
                pose = (rng.uniform(-5, 15), rng.uniform(-5, 15), rng.uniform(-4, 4))
                update = sup.on_odometry(*pose, t)
            elif r < 0.25:
                update = sup.on_odometry(math.nan, 0.0, 0.0, t)
            elif r < 0.3:
                update = sup.tick(t)
            else:
                if sup.goal is not None and rng.random() < 0.7:
                    pose = sup.goal
                update = sup.on_odometry(*pose, t)
                sup.on_objects(seen_from(house, *pose) if house.room_at(*pose[:2]) else [], t, t)
            assert_safe(sup, update)


def test_place_graph_files_are_validated() -> None:
    bad_edge = {**PLACE_GRAPH, "edges": [["hall_w", "attic"]]}
    with pytest.raises(ValueError, match="unknown place 'attic'"):
        KnownMap.from_dict(bad_edge)
    outside = {**PLACE_GRAPH, "places": [*PLACE_GRAPH["places"],
                                         {"id": "garden", "x": 20.0, "y": 1.0}]}
    with pytest.raises(ValueError, match="in no room"):
        KnownMap.from_dict(outside)
    with pytest.raises(ValueError, match="non-finite"):
        KnownMap.from_dict({"places": [{"id": "a", "x": "nan", "y": 0.0}]})
    with pytest.raises(ValueError, match="places"):
        KnownMap.from_dict({"nodes": []})
    m = KnownMap.from_dict(PLACE_GRAPH)
    assert m.component("hall_w") == {"hall_w", "hall_e", "kitchen", "near_fridge"}
    assert not m.contains(8.0, 1.0) and m.contains(5.0, 1.0)
    assert m.shortest_path("hall_e", "near_fridge") == ["hall_e", "kitchen", "near_fridge"]
