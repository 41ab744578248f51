"""The scripted expert: pure behaviour on hand-made observations, then real success in the
simulated tabletop (one seed per family; the 20-seed rates are in the collect report)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from test_tasks import layout

from ifagent_ros.core.latent_actions.expert import (
    ExpertConfig,
    ScriptedExpert,
    correction_actions,
    plan_correction,
    rotation_vector,
)
from ifagent_ros.core.latent_actions.state import ActionScale
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, TASK_FAMILIES, sample_task

DOWN = np.diag([1.0, -1.0, -1.0])  # the gripper pointing at the table (home orientation)


def obs(ee: tuple[float, float, float], width: float = 0.08, rot: np.ndarray = DOWN,
        objects: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(ee_position=np.array(ee, dtype=float), ee_rotation=rot,
                           gripper_width=width, objects=objects or layout())


def bowl_task(block: str = "green_block"):
    inst = sample_task("pick_place_bowl", np.random.default_rng(0))
    inst.params.update(block_id=block, block=block.replace("_", " "))
    return inst


def test_it_heads_for_the_first_waypoint_smoothly_within_the_action_box() -> None:
    expert = ScriptedExpert(bowl_task())
    first = expert.act(obs((0.3, 0.0, 0.48)))
    target = np.array([0.55, 0.0, 0.02 - 0.005 + 0.08])
    direction = target - np.array([0.3, 0.0, 0.48])
    assert first.action[:3] @ direction > 0 and not first.done
    assert first.gripper == "open" and first.waypoint == "above green_block"
    speeds = [np.linalg.norm(first.action[:3])]
    for _ in range(5):
        speeds.append(np.linalg.norm(expert.act(obs((0.3, 0.0, 0.48))).action[:3]))
    assert np.all(np.diff(speeds) >= -1e-9)  # ramps up, no jump
    assert speeds[0] * 0.15 <= ExpertConfig().max_speed_change + 1e-9
    assert max(speeds) * 0.15 <= ExpertConfig().max_speed + 1e-6
    assert np.all(np.abs(first.action) <= 1.0)


def test_it_corrects_orientation_drift_back_to_where_it_started() -> None:
    expert = ScriptedExpert(bowl_task())
    expert.act(obs((0.3, 0.0, 0.48)))  # remembers "pointing down"
    drifted = Rotation.from_euler("z", 0.2).as_matrix() @ DOWN
    a = expert.act(obs((0.3, 0.0, 0.48), rot=drifted))
    assert a.action[5] < 0 and abs(a.action[3]) < 1e-6 and abs(a.action[4]) < 1e-6


def test_it_stops_closes_and_waits_for_the_fingers_before_lifting() -> None:
    expert = ScriptedExpert(bowl_task())
    at_grasp = (0.55, 0.0, 0.015)
    expert.act(obs((0.55, 0.0, 0.095)))  # arrives above the block ...
    a = expert.act(obs(at_grasp, width=0.08))  # ... and at the grasp point
    assert a.gripper == "close" and np.allclose(a.action[:3], 0.0)
    widths = [0.07, 0.055, 0.045, 0.0412, 0.041]  # closing, then stopped on the block
    actions = [expert.act(obs(at_grasp, width=w)) for w in widths]
    assert all(np.allclose(x.action[:3], 0.0) for x in actions[:-1])  # still waiting
    assert actions[-1].action[2] > 0  # fingers settled on the block: lift
    assert actions[-1].waypoint == "lift green_block"


def test_the_plan_follows_a_nudged_block_until_the_grasp_then_freezes() -> None:
    expert = ScriptedExpert(bowl_task())
    expert.act(obs((0.3, 0.0, 0.48)))
    nudged = layout(green_block=(0.5, 0.05, 0.02))
    expert.act(obs((0.3, 0.0, 0.48), objects=nudged))
    assert expert.plan is not None and np.allclose(expert.plan[0].position[:2], [0.5, 0.05])
    expert.frozen = True
    expert.act(obs((0.3, 0.0, 0.48)))
    assert np.allclose(expert.plan[0].position[:2], [0.5, 0.05])


def test_done_after_the_last_waypoint() -> None:
    expert = ScriptedExpert(bowl_task())
    plan = bowl_task().waypoints(layout())
    widths = {"open": 0.08, "close": 0.04}
    width, result = 0.08, None
    for wp in plan:
        for _ in range(30):
            result = expert.act(obs(tuple(wp.position), width=width))
            width = widths[result.gripper]
            if result.waypoint != wp.label:
                break
    assert result is not None and result.done and np.allclose(result.action, 0.0)


def test_a_broken_observation_is_a_clear_error() -> None:
    expert = ScriptedExpert(bowl_task())
    with pytest.raises(ValueError, match="finite"):
        expert.act(obs((0.3, np.nan, 0.48)))
    with pytest.raises(KeyError, match="green_block"):  # the block it must pick is not seen
        expert.act(obs((0.3, 0.0, 0.48), objects={k: v for k, v in layout().items()
                                                   if k != "green_block"}))


def test_rotation_vector_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    for rv in [*rng.normal(size=(20, 3)), np.array([np.pi, 0, 0]), np.array([0, 0, 3.1415])]:
        if np.linalg.norm(rv) > np.pi:
            rv = rv / np.linalg.norm(rv) * (np.linalg.norm(rv) % np.pi)
        r = Rotation.from_rotvec(rv).as_matrix()
        got = rotation_vector(r)
        assert np.allclose(Rotation.from_rotvec(got).as_matrix(), r, atol=1e-6)


def test_correction_segments_hold_the_primitive_and_keep_inside_the_box() -> None:
    acts = correction_actions("tilt_left", 12, 0.5)
    assert acts.shape == (12, 6) and np.allclose(acts, [0, 0, 0, -0.5, 0, 0])
    rng = np.random.default_rng(0)
    for _ in range(20):
        steps, speed = plan_correction("up", np.array([0.5, 0.0, 0.2]), rng)
        assert 10 <= steps <= 20 and 0.5 <= speed <= 1.0
    for _ in range(20):  # 8 cm above the box floor: shorter or slower, never through it
        steps, speed = plan_correction("down", np.array([0.5, 0.0, 0.12]), rng)
        assert steps / 10 * speed * ActionScale().linear <= 0.12 - 0.04 + 1e-9
    assert plan_correction("down", np.array([0.5, 0.0, 0.045]), rng) is None
    with pytest.raises(KeyError):
        correction_actions("sideways", 10)
    assert set(PRIMITIVES) >= {"left", "tilt_right", "twist_left"}


# ---- in the simulator ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def env() -> Iterator[object]:
    from ifagent_ros.sim.arm_env import TabletopArmEnv

    with TabletopArmEnv() as e:
        yield e


@pytest.mark.parametrize("family", list(TASK_FAMILIES))
def test_the_expert_succeeds_in_the_simulator(env, family: str) -> None:
    from ifagent_ros.core.recording.demonstrations import run_task_episode

    seed = 11
    task = sample_task(family, np.random.default_rng(seed))
    rec, ok = run_task_episode(env, task, seed, max_steps=300)
    assert ok, f"{family} ({task.text}) failed after {len(rec)} steps"
    actions = np.stack(rec.actions)
    assert np.all(np.abs(actions) <= 1.0) and len(rec) < 300
    assert 1.0 in rec.gripper_close  # the gripper was used
