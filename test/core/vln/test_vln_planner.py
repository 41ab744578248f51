"""The rule planner against the naive baselines on a synthetic building, and bad input."""

import math
import random

import pytest
from r2r_world import INSTRUCTION, write_world

from ifagent_ros.core.vln.baselines import NearestObjectPlanner, RandomWalkPlanner, StopPlanner
from ifagent_ros.core.vln.candidate_features import FEATURES
from ifagent_ros.core.vln.evaluate import evaluate, run_episode
from ifagent_ros.core.vln.planner import RulePlanner, RulePlannerConfig
from ifagent_ros.core.vln.r2r_env import R2RData, R2REpisode, R2RGraphEnv
from ifagent_ros.core.vln.types import NavObservation, Neighbour, SeenObject


def toy(tmp_path, instructions=None):
    data = R2RData(write_world(tmp_path / "r2r", instructions))
    return data, R2RGraphEnv(data), data.episodes("toy")


def test_following_the_landmarks_reaches_the_goal(tmp_path):
    _, env, (episode,) = toy(tmp_path)
    result = run_episode(env, RulePlanner(), episode, keep_decisions=True)
    assert result.trajectory[:4] == ["S", "B", "D", "G"]  # out, left, past the couch
    assert result.metrics["success"] == 1 and result.metrics["ne"] < 3.0
    first, turn = result.decisions[0], result.decisions[1]
    assert first.subgoal.startswith("exit") and turn.subgoal == "turn left"
    assert result.decisions[-1].action == "stop"
    assert "plan" in first.extras and "now:" in first.extras["plan"]


def test_naive_baselines_do_not(tmp_path):
    _, env, (episode,) = toy(tmp_path)
    assert run_episode(env, StopPlanner(), episode).metrics["success"] == 0
    nearest = run_episode(env, NearestObjectPlanner(), episode)
    assert nearest.trajectory == ["S", "A"] and nearest.metrics["success"] == 0  # the decoy
    walks = evaluate(env, RandomWalkPlanner(seed=0), [episode] * 20).summary()
    assert walks["success_rate"] < 30.0
    again = evaluate(env, RandomWalkPlanner(seed=0), [episode] * 20).summary()
    assert (again["success_rate"], again["ne_m"]) == (walks["success_rate"], walks["ne_m"])


def test_plan_is_kept_and_revised_across_steps(tmp_path):
    _, env, (episode,) = toy(tmp_path)
    planner = RulePlanner()
    obs = env.reset(episode)
    planner.reset(episode.instruction, obs)
    seen = []
    while not env.done:
        decision = planner.act(obs)
        seen.append(planner.state.subgoal_index)
        obs = env.step(decision)
    assert seen == sorted(seen) and seen[-1] > seen[0]  # progress only moves forward
    assert len(planner.state.history) >= 3  # sub-goals closed, each with a reason
    assert all(":" in h for h in planner.state.history)


def test_empty_instruction_stops_at_once_with_a_reason(tmp_path):
    _, env, _ = toy(tmp_path)
    for text in ("", "   "):
        episode = R2REpisode("e", "toyhouse", ("S", "K"), 0.0, text)
        result = run_episode(env, RulePlanner(), episode, keep_decisions=True)
        assert result.trajectory == ["S"] and "empty instruction" in result.stop_reason


def test_unknown_words_stop_safely_and_say_so(tmp_path):
    _, env, _ = toy(tmp_path)
    episode = R2REpisode("e", "toyhouse", ("S", "K"), 0.0, "Walk to the zorblax, then wait.")
    result = run_episode(env, RulePlanner(), episode, keep_decisions=True)
    assert result.trajectory == ["S"]
    assert "zorblax" in result.stop_reason


def test_landmark_never_seen_explores_then_stops_with_reason(tmp_path):
    _, env, _ = toy(tmp_path)
    episode = R2REpisode("e", "toyhouse", ("S", "K"), 0.0,
                         "Walk down the hall and stop at the piano.")
    result = run_episode(env, RulePlanner(), episode, keep_decisions=True)
    moves = [d for d in result.decisions if d.action == "move"]
    assert moves and result.decisions[-1].action == "stop"
    assert "never seen" in result.stop_reason and "piano" in result.stop_reason


def random_graph(rng: random.Random, n: int):
    """Places on a jittered grid, edges to grid neighbours; random objects."""
    names = ["chair", "sofa", "refrigerator", "bed", "stair", "picture", "toilet", "zzz"]
    pos = {f"p{i}": (i % 4 * 2.0 + rng.uniform(-.3, .3), i // 4 * 2.0, rng.choice([0, 0, 1.0]))
           for i in range(n)}
    edges = {p: {} for p in pos}
    for a in pos:
        for b in pos:
            if a < b and math.dist(pos[a][:2], pos[b][:2]) < 2.9 and rng.random() < 0.8:
                edges[a][b] = edges[b][a] = math.dist(pos[a], pos[b])
    objects = {p: tuple(SeenObject(rng.choice(names), rng.uniform(-3, 3), rng.random() * 0.4)
                        for _ in range(rng.randint(0, 3))) for p in pos}
    return pos, edges, objects


def test_never_moves_to_a_non_neighbour_on_random_graphs():
    rng = random.Random(3)
    texts = ["Exit the bedroom, turn left and go up the stairs. Stop by the sofa.",
             "walk past the zorblax and turn around", "Go straight and wait.",
             "turn right turn right turn right and stop at the toilet in the bathroom", ""]
    for trial in range(30):
        pos, edges, objects = random_graph(rng, rng.randint(2, 14))
        here, heading = "p0", rng.uniform(-math.pi, math.pi)
        planner = RulePlanner()

        def observe(place, step):
            return NavObservation(place, pos[place], heading, tuple(
                Neighbour(n, pos[n], math.atan2(pos[n][0] - pos[place][0],
                                                pos[n][1] - pos[place][1]), d)
                for n, d in sorted(edges[place].items())), objects[place], step=step)

        obs = observe(here, 0)
        planner.reset(texts[trial % len(texts)], obs)
        for step in range(40):
            decision = planner.act(obs)
            assert decision.reason
            if decision.action == "stop":
                break
            assert decision.target in edges[here], (trial, step, decision)
            heading = math.atan2(pos[decision.target][0] - pos[here][0],
                                 pos[decision.target][1] - pos[here][1])
            here = decision.target
            obs = observe(here, step + 1)
        else:
            pytest.fail("planner never stopped")


def test_config_validation_and_features():
    with pytest.raises(ValueError, match="unknown feature"):
        RulePlannerConfig(weights={"telepathy": 1.0})
    assert len(set(FEATURES)) == len(FEATURES)


def test_instruction_length_sets_expected_route(tmp_path):
    planner = RulePlanner()
    short = planner.expected_length(planner.parser.parse("Go to the sofa."))
    long = planner.expected_length(planner.parser.parse(INSTRUCTION + " " + INSTRUCTION))
    assert 0 < short < long <= planner.config.length_max_m
