"""Scripted experts of the paper tasks (core/latent_actions/paper_expert.py) succeed in PyBullet
through the executor, on unseen layouts and start poses."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.latent_actions.paper_expert import PAPER_PLANS, PaperExpert, down
from ifagent_ros.core.latent_actions.paper_tasks import PaperTaskError, sample_paper_task
from ifagent_ros.core.latent_actions.state import ActionScale
from ifagent_ros.sim.paper_env import PaperArmEnv


def run(env: PaperArmEnv, seed: int, max_s: float = 40.0) -> tuple[str, set[str]]:
    obs = env.reset(seed)
    expert, scale, labels = PaperExpert(env.task), ActionScale(), set()
    while obs.time < max_s:
        a = expert.act(obs)
        labels.add(a.waypoint)
        env.step(scale.to_twist(a.action), a.gripper, 0.1)
        obs = env.observe()
        out = env.outcome(obs)
        if out.done:
            return out.status, labels
    return "timeout", labels


@pytest.mark.parametrize("name", sorted(set(PAPER_PLANS) - {"transfer_pen"}))
def test_the_expert_does_the_task_on_unseen_layouts(name: str) -> None:
    with PaperArmEnv(name) as env:
        for seed in (101, 102, 103):
            status, labels = run(env, seed)
            assert status == "success", (name, seed, sorted(labels))


def test_the_pen_expert_stands_the_pen_in_the_cup_most_of_the_time() -> None:
    """16 of 20 over seeds 200-219 (a miss leaves the pen on the rim); here 5 of them."""
    with PaperArmEnv("transfer_pen") as env:
        results = [run(env, seed)[0] for seed in range(200, 205)]
    assert results.count("success") >= 3, results


def test_tasks_without_an_expert_say_so() -> None:
    task = sample_paper_task("insert_book", np.random.default_rng(0))
    with pytest.raises(PaperTaskError, match="no scripted expert for 'insert_book'"):
        PaperExpert(task)


def test_down_points_the_tcp_down_with_the_fingers_turned_by_yaw() -> None:
    r = down(0.0)
    assert np.allclose(r[:, 2], [0, 0, -1]) and np.allclose(r[:, 1], [0, -1, 0])
    assert np.allclose(down(np.pi / 2)[:, 1], [1, 0, 0])
