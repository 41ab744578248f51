"""House episodes (R2R style), the house graph environment and `ifagent eval houses`."""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import Counter

import pytest

from ifagent_ros.core.vln.evaluate import evaluate, run_episode
from ifagent_ros.core.vln.house_env import HouseEnvConfig, HouseNavEnv
from ifagent_ros.core.vln.types import NavDecision, NavObservation
from ifagent_ros.core.worlds.house import House, list_house_files
from ifagent_ros.core.worlds.house_episodes import (
    HouseEpisode,
    build_house_set,
    describe_path,
    generate_episodes,
)


@pytest.fixture(scope="module")
def houses() -> list[House]:
    return build_house_set(10, seed=0)


@pytest.fixture(scope="module")
def episodes(houses: list[House]) -> list[HouseEpisode]:
    return generate_episodes(houses, 100, seed=0)


def test_house_set_is_hand_written_then_generated(houses: list[House]) -> None:
    n_files = len(list_house_files())
    assert n_files >= 3 and len(houses) == 10
    assert [h.name for h in houses[n_files:]] == [f"generated_{k:03d}"
                                                   for k in range(10 - n_files)]
    assert len({h.name for h in houses}) == 10


def test_hundred_episodes_over_ten_houses(houses: list[House],
                                          episodes: list[HouseEpisode]) -> None:
    by_name = {h.name: h for h in houses}
    assert len(episodes) == 100 and len({e.house for e in episodes}) == 10
    assert len({e.episode_id for e in episodes}) == 100
    for ep in episodes:
        g = by_name[ep.house].graph
        for a, b in zip(ep.path, ep.path[1:], strict=False):
            assert b in g.adjacency[a]
        # the ground truth is a shortest path, of the recorded length
        assert ep.distance == pytest.approx(g.distance(ep.start, ep.goal), abs=1e-3)
        assert sum(g.adjacency[a][b] for a, b in zip(ep.path, ep.path[1:], strict=False)) == \
            pytest.approx(ep.distance, abs=1e-3)
        assert 3.0 <= ep.distance <= 20.0 and -math.pi <= ep.heading <= math.pi
        goal = g.places[ep.goal]
        assert goal.kind in ("landmark", "room") and goal.room == ep.goal_room
        assert goal.object_id == ep.goal_object
        assert ep.instruction[0].isupper() and ep.instruction.endswith(".")


def test_instructions_name_the_goal_and_the_rooms(houses: list[House],
                                                  episodes: list[HouseEpisode]) -> None:
    by_name = {h.name: h for h in houses}
    for ep in episodes:
        h = by_name[ep.house]
        text = ep.instruction.lower()
        rooms = [h.rooms[h.graph.places[p].room].type for p in ep.path]
        if ep.goal_object:
            assert h.objects[ep.goal_object].label in text
        else:
            assert "middle of" in text or rooms[-1] in text
        if rooms[0] != rooms[-1]:
            assert rooms[0] in text and rooms[-1] in text
    # varied templates, not one sentence pattern
    openings = Counter(e.instruction.split()[0] for e in episodes)
    assert len(openings) >= 5


def test_goal_names_are_unique_in_their_room(houses: list[House],
                                             episodes: list[HouseEpisode]) -> None:
    by_name = {h.name: h for h in houses}
    for ep in episodes:
        if not ep.goal_object:
            continue
        h = by_name[ep.house]
        goal = h.objects[ep.goal_object]
        room = h.room_of_object(goal.id)
        twins = [o for o in h.objects.values() if o.label == goal.label and o.id != goal.id
                 and h.room_of_object(o.id) is room]
        if twins:  # then the colour tells them apart, and the instruction says it
            assert goal.color is not None and f"{goal.color.name} {goal.label}" in \
                ep.instruction.lower()
            assert all(t.color is None or t.color.name != goal.color.name for t in twins)


def test_episodes_are_seeded(houses: list[House], episodes: list[HouseEpisode]) -> None:
    assert generate_episodes(houses, 100, seed=0) == episodes
    assert generate_episodes(houses, 100, seed=1) != episodes


def test_turns_are_described_on_the_correct_side() -> None:
    from ifagent_ros.core.worlds.house import load_house

    h = load_house("apartment_a")
    g = h.graph
    # East out of the bedroom, left (north) up the hall, right (east) into the living room.
    path = g.shortest_path("bedroom", "living_room")
    rng = random.Random(0)
    for _ in range(30):
        text = describe_path(h, path, rng)
        assert text is not None
        words = [w.strip(".,") for w in text.lower().split()]
        assert [w for w in words if w in ("left", "right")] == ["left", "right"], text


# ---- environment ----------------------------------------------------------------------------
class _FollowPath:
    """Oracle: walks the ground-truth path and stops (what a perfect planner does)."""

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path

    def reset(self, instruction: str, observation: NavObservation) -> None:
        self.k = 0

    def act(self, observation: NavObservation) -> NavDecision:
        assert observation.place_id == self.path[self.k]
        self.k += 1
        if self.k == len(self.path):
            return NavDecision("stop", reason="at the goal")
        return NavDecision("move", target=self.path[self.k])


def test_env_observations_match_the_graph(houses: list[House],
                                          episodes: list[HouseEpisode]) -> None:
    env = HouseNavEnv(houses)
    ep = episodes[0]
    g = env.houses[ep.house].graph
    obs = env.reset(ep)
    assert obs.place_id == ep.start and obs.heading == ep.heading and obs.step == 0
    assert {n.place_id for n in obs.neighbours} == set(g.adjacency[ep.start])
    assert obs.room == env.houses[ep.house].rooms[g.places[ep.start].room].type
    assert obs.objects and all(-math.pi <= o.heading <= math.pi for o in obs.objects)
    nxt = ep.path[1]
    obs2 = env.step(NavDecision("move", target=nxt))
    n = next(n for n in obs.neighbours if n.place_id == nxt)
    assert obs2.place_id == nxt and obs2.heading == pytest.approx(n.heading)
    assert obs2.step == 1 and env.trajectory == [ep.start, nxt]
    far = next(p for p in g.places if p not in g.adjacency[nxt] and p != nxt)
    with pytest.raises(ValueError, match="not a move to a neighbour"):
        env.step(NavDecision("move", target=far))
    assert env.trajectory == [ep.start, nxt]  # a bad decision changes nothing
    env.step(NavDecision("stop", reason="test"))
    assert env.done and env.stop_reason == "test"
    with pytest.raises(RuntimeError):
        env.step(NavDecision("stop"))


def test_env_step_limit() -> None:
    from ifagent_ros.core.worlds.house import load_house

    h = load_house("apartment_a")
    env = HouseNavEnv(h, HouseEnvConfig(max_steps=3))
    g = h.graph
    ep = HouseEpisode("e", h.name, tuple(g.shortest_path("bedroom", "near/sofa")), 0.0,
                      "go", 1.0, "living_room", "sofa")
    obs = env.reset(ep)
    for _ in range(3):
        obs = env.step(NavDecision("move", target=obs.neighbours[0].place_id))
    assert env.done and "step limit" in env.stop_reason


def test_oracle_scores_perfectly_and_stop_scores_zero(houses: list[House],
                                                      episodes: list[HouseEpisode]) -> None:
    env = HouseNavEnv(houses)
    for ep in episodes[:20]:
        r = run_episode(env, _FollowPath(ep.path), ep)
        assert r.trajectory == list(ep.path)
        assert r.metrics["success"] == 1.0 and r.metrics["ne"] == 0.0
        assert r.metrics["spl"] == pytest.approx(1.0) and r.metrics["ndtw"] == pytest.approx(1.0)

    class Stop:
        def reset(self, instruction: str, observation: NavObservation) -> None:
            pass

        def act(self, observation: NavObservation) -> NavDecision:
            return NavDecision("stop")

    summary = evaluate(env, Stop(), episodes[:20]).summary(count_reset=True)
    assert summary["success_rate"] == pytest.approx(
        100.0 * sum(e.distance < 3.0 for e in episodes[:20]) / 20)
    assert summary["ne_m"] == pytest.approx(sum(e.distance for e in episodes[:20]) / 20, rel=1e-3)
    assert summary["plan_p99_ms"] >= summary["plan_p50_ms"] >= 0.0


# ---- CLI ------------------------------------------------------------------------------------
def _cli_args(**over: object) -> argparse.Namespace:
    from ifagent_ros.cli.eval.houses import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    for k, v in over.items():
        setattr(args, k, v)
    return args


@pytest.mark.parametrize("planner", ["stop", "random"])
def test_cli_prints_figures_and_one_json_object_last(planner: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from ifagent_ros.cli.eval.houses import run

    assert run(_cli_args(episodes=12, houses=4, planner=planner, json=True)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(out[-1])
    assert figures["episodes"] == 12 and figures["houses"] == 4
    for key in ("success_rate", "spl", "ne_m", "osr", "ndtw", "plan_p50_ms", "plan_p99_ms"):
        assert key in figures
    assert any(line.strip().startswith("SR ") for line in out)
    if planner == "stop":
        assert figures["tl_m"] == 0.0 and figures["ne_m"] == pytest.approx(
            figures["mean_reference_path_m"], rel=1e-3)


def test_cli_rejects_bad_arguments(tmp_path: object) -> None:
    from ifagent_ros.cli.eval.houses import run

    with pytest.raises(SystemExit):
        run(_cli_args(episodes=0))
    with pytest.raises(SystemExit):
        run(_cli_args(house_dir="/nonexistent/houses"))
