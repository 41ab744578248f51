"""Scripted demonstrations of the tabletop tasks: the episode loops behind ``ifagent collect``.

For each task family the scripted expert (``core/latent_actions/expert.py``) runs at 10 Hz in an
arm environment (``sim.arm_env.TabletopArmEnv``: the real executor and safety filter, passed in)
with object layouts from consecutive seeds; a demo is kept only when the task's physical success
check passes (failures are counted, and another seed is tried, up to 3x the demos asked for).
Then, per correction primitive, short segments (1-2 s) start from a mid-task pose (the expert of
a random task run for a random number of steps) and hold the primitive; a segment is kept when
the arm really moved that way. Kept demos go to a ``DatasetWriter``; the first kept demo of each
task can also go to an MCAP bag for inspection (:func:`write_demo_bag`).

The environment is duck-typed (``reset(seed)``, ``step(twist, gripper, dt)``, ``observe()``,
``state_vector(obs)``, ``object_poses()``), so nothing here imports the simulator.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("ifagent.collect")

RATE_HZ = 10.0
SETTLE_STEPS = 5  # 0.5 s at rest before judging success

__all__ = ["RATE_HZ", "SETTLE_STEPS", "CollectConfig", "Recording", "collect_correction_segments",
           "collect_task_demos", "env_action_scale", "run_correction_segment", "run_task_episode",
           "write_demo_bag"]


@dataclass(frozen=True)
class CollectConfig:
    """How many demos and segments to keep, from which seeds (see ``ifagent collect --help``)."""

    demos_per_task: int = 45
    corrections_per_primitive: int = 20
    seed: int = 0  # base seed of layouts and parameters
    heldout_phrasing_fraction: float = 0.15  # share of demos recorded with a held-out phrasing
    max_steps: int = 400  # per task episode (10 Hz)


@dataclass
class Recording:
    """One episode at 10 Hz: what the dataset stores plus what the MCAP bag shows."""

    states: list[np.ndarray] = field(default_factory=list)
    actions: list[np.ndarray] = field(default_factory=list)
    gripper_close: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    q: list[np.ndarray] = field(default_factory=list)
    gripper_width: list[float] = field(default_factory=list)
    twists: list[np.ndarray] = field(default_factory=list)
    poses: list[list[dict[str, Any]]] = field(default_factory=list)
    interventions: dict[str, int] = field(default_factory=dict)

    def add(self, env: Any, obs: Any, action: np.ndarray, twist: np.ndarray, close: bool,
            keep_poses: bool) -> None:
        self.states.append(env.state_vector(obs))
        self.actions.append(np.asarray(action, dtype=np.float32))
        self.gripper_close.append(1.0 if close else 0.0)
        self.times.append(float(obs.time))
        self.q.append(np.asarray(obs.q, dtype=float))
        self.gripper_width.append(float(obs.gripper_width))
        self.twists.append(np.asarray(twist, dtype=float))
        if keep_poses:
            self.poses.append(env.object_poses())

    def count(self, interventions: dict[str, int]) -> None:
        for k, v in interventions.items():
            self.interventions[k] = self.interventions.get(k, 0) + v

    def __len__(self) -> int:
        return len(self.actions)


def env_action_scale() -> Any:
    from ifagent_ros.core.latent_actions.state import ActionScale

    return ActionScale()


def run_task_episode(env: Any, task: Any, seed: int, max_steps: int,
                     keep_poses: bool = False) -> tuple[Recording, bool]:
    """The expert performs ``task`` from layout ``seed``; (recording, physical success)."""
    from ifagent_ros.core.latent_actions.expert import ScriptedExpert

    scale = env_action_scale()
    obs = env.reset(seed)
    start = obs.objects
    expert = ScriptedExpert(task)
    rec = Recording()
    for _ in range(max_steps):
        act = expert.act(obs)
        if act.done:
            break
        twist = scale.to_twist(act.action)
        rec.add(env, obs, act.action, twist, act.gripper == "close", keep_poses)
        rec.count(env.step(twist, act.gripper, 1.0 / RATE_HZ).interventions)
        obs = env.observe()
    else:
        return rec, False
    for _ in range(SETTLE_STEPS):
        env.step(np.zeros(6), None, 1.0 / RATE_HZ)
    obs = env.observe()
    return rec, task.success(obs.objects, start, obs.gripper_width, obs.ee_position)


def run_correction_segment(env: Any, primitive: str, seed: int, rng: np.random.Generator,
                           tasks: list[str]) -> tuple[Recording, bool]:
    """From a mid-task pose (the expert of a random task, run a random while), hold
    ``primitive`` for 1-2 s. Kept (True) when the arm moved at least half the commanded way."""
    from ifagent_ros.core.latent_actions.expert import (
        ScriptedExpert,
        correction_actions,
        plan_correction,
        rotation_vector,
    )
    from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, sample_task

    scale = env_action_scale()
    task = sample_task(tasks[int(rng.integers(len(tasks)))], rng)
    obs = env.reset(seed)
    expert = ScriptedExpert(task)
    gripper = "open"
    plan = None
    for _ in range(int(rng.integers(10, 70))):
        act = expert.act(obs)
        if act.done:
            break
        gripper = act.gripper
        env.step(scale.to_twist(act.action), act.gripper, 1.0 / RATE_HZ)
        obs = env.observe()
    for _ in range(30):  # out of room that way: step back towards the middle and retry
        plan = plan_correction(primitive, obs.ee_position, rng, RATE_HZ, scale)
        if plan is not None:
            break
        toward = np.array([0.5, 0.0, 0.25]) - obs.ee_position
        env.step(np.concatenate([0.1 * toward / np.linalg.norm(toward), np.zeros(3)]), None,
                 1.0 / RATE_HZ)
        obs = env.observe()
    rec = Recording()
    if plan is None:
        return rec, False
    steps, speed = plan
    p0, r0 = obs.ee_position.copy(), obs.ee_rotation.copy()
    for action in correction_actions(primitive, steps, speed):
        twist = scale.to_twist(action)
        rec.add(env, obs, action, twist, gripper == "close", False)
        rec.count(env.step(twist, gripper, 1.0 / RATE_HZ).interventions)
        obs = env.observe()
    prim = PRIMITIVES[primitive]
    axis = np.asarray(prim.axis)
    if prim.kind == "direction":
        moved, wanted = float((obs.ee_position - p0) @ axis), steps / RATE_HZ * speed * scale.linear
    else:
        moved = float(rotation_vector(obs.ee_rotation @ r0.T) @ axis)
        wanted = steps / RATE_HZ * speed * scale.angular
    return rec, moved >= 0.5 * wanted


def collect_task_demos(env: Any, writer: Any, family: str, family_index: int,
                       config: CollectConfig, bag_dir: Path | None = None,
                       joint_names: Sequence[str] = ()) -> dict[str, Any]:
    """Keep up to ``config.demos_per_task`` successful expert demos of ``family`` (trying at most
    3x as many seeds) in ``writer``; the first kept one also goes to an MCAP bag in ``bag_dir``
    when given. Returns the family's figures (kept, tried, no_layout, success_rate, steps,
    wall_s, interventions)."""
    from ifagent_ros.core.latent_actions.tasks import sample_task

    t0, kept, tried, steps, bag_written = time.perf_counter(), 0, 0, 0, False
    no_layout = 0
    inter: dict[str, int] = {}
    while kept < config.demos_per_task and tried < 3 * config.demos_per_task:
        seed = config.seed * 10_000 + tried
        rng = np.random.default_rng([config.seed, family_index, tried])
        split = "heldout" if rng.random() < config.heldout_phrasing_fraction else "train"
        task = sample_task(family, rng, split)
        want_bag = bag_dir is not None and not bag_written
        tried += 1
        try:
            rec, ok = run_task_episode(env, task, seed, config.max_steps, want_bag)
        except ValueError as err:  # no valid object layout for this seed and jitter
            log.warning("%s seed %d: %s; skipped", family, seed, err)
            no_layout += 1
            continue
        if not ok:
            log.info("%s seed %d: expert failed (%d steps); not kept", family, seed, len(rec))
            continue
        kept += 1
        steps += len(rec)
        for k, v in rec.interventions.items():
            inter[k] = inter.get(k, 0) + v
        writer.add_demo(np.stack(rec.states), np.stack(rec.actions),
                        np.asarray(rec.gripper_close, dtype=np.float32), family, "task",
                        task.text, task.split, 1.0, seed, task.params)
        if want_bag:
            assert bag_dir is not None
            write_demo_bag(bag_dir, rec, task.text, list(joint_names))
            bag_written = True
    episodes = tried - no_layout
    return {"kept": kept, "tried": episodes, "no_layout": no_layout,
            "success_rate": kept / episodes if episodes else 0.0, "steps": steps,
            "wall_s": round(time.perf_counter() - t0, 1), "interventions": inter}


def collect_correction_segments(env: Any, writer: Any, primitive: str, primitive_index: int,
                                tasks: Sequence[str], config: CollectConfig) -> dict[str, Any]:
    """Keep up to ``config.corrections_per_primitive`` segments of ``primitive`` (trying at most
    3x as many) in ``writer``, lead-ins from the expert of ``tasks``. Returns kept, tried,
    steps, wall_s."""
    from ifagent_ros.core.latent_actions.dataset import label_alpha
    from ifagent_ros.core.latent_actions.tasks import PRIMITIVES

    t0, kept, tried, steps = time.perf_counter(), 0, 0, 0
    spread = max(config.demos_per_task, 1) / max(config.corrections_per_primitive, 1)
    while kept < config.corrections_per_primitive \
            and tried < 3 * config.corrections_per_primitive:
        # Layout seeds spread over the task seeds: held-out layouts include corrections.
        seed = config.seed * 10_000 + int(kept * spread)
        rng = np.random.default_rng([config.seed, 100 + primitive_index, tried])
        tried += 1
        try:
            rec, ok = run_correction_segment(env, primitive, seed, rng, list(tasks))
        except ValueError as err:
            log.warning("%s seed %d: %s; skipped", primitive, seed, err)
            continue
        if not ok:
            continue
        split = "heldout" if rng.random() < config.heldout_phrasing_fraction else "train"
        texts = PRIMITIVES[primitive].phrasings(split)  # type: ignore[arg-type]
        text = texts[int(rng.integers(len(texts)))]
        writer.add_demo(np.stack(rec.states), np.stack(rec.actions),
                        np.asarray(rec.gripper_close, dtype=np.float32), primitive,
                        "correction", text, split, label_alpha(text, "correction"), seed, {})
        kept += 1
        steps += len(rec)
    return {"kept": kept, "tried": tried, "steps": steps,
            "wall_s": round(time.perf_counter() - t0, 1)}


def write_demo_bag(path: Path, rec: Recording, text: str, joint_names: list[str]) -> None:
    """An MCAP bag of one demo: the instruction, /joint_states, /ifagent/ee_twist_cmd and (when
    recorded) /sim/ground_truth, as the live graph would have published them."""
    from ifagent_ros.core.recording.bag import BagWriter, jazzy_typestore, make_qos
    from ifagent_ros.core.schemas import GroundTruth, ObjectPose

    store = jazzy_typestore()
    t = store.types

    def header(sec: float) -> Any:
        ns = int(round(sec * 1e9))
        return t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=ns // 10**9, nanosec=ns % 10**9),
            frame_id="base_link")

    def vec(v: np.ndarray) -> Any:
        return t["geometry_msgs/msg/Vector3"](x=float(v[0]), y=float(v[1]), z=float(v[2]))

    def put(bag: BagWriter, topic: str, msgtype: str, msg: Any, sec: float) -> None:
        bag.write(topic, msgtype, store.serialize_cdr(msg, msgtype), int(round(sec * 1e9)))

    offset = 1.0  # stamps start at 1 s: a zero stamp reads as "unset" in ROS tools
    with BagWriter(path) as bag:
        bag.add_topic("/ifagent/instruction", "std_msgs/msg/String", [make_qos()])
        put(bag, "/ifagent/instruction", "std_msgs/msg/String",
            t["std_msgs/msg/String"](data=text), offset)
        for k, sec in enumerate(np.asarray(rec.times) + offset):
            finger = rec.gripper_width[k] / 2.0  # as sim_node: two finger joints, metres each
            q = np.concatenate([rec.q[k], [finger, finger]]).astype(np.float64)
            put(bag, "/joint_states", "sensor_msgs/msg/JointState", t["sensor_msgs/msg/JointState"](
                header=header(sec), name=joint_names, position=q, velocity=np.zeros(0),
                effort=np.zeros(0)), sec)
            put(bag, "/ifagent/ee_twist_cmd", "geometry_msgs/msg/TwistStamped",
                t["geometry_msgs/msg/TwistStamped"](header=header(sec), twist=t[
                    "geometry_msgs/msg/Twist"](linear=vec(rec.twists[k][:3]),
                                               angular=vec(rec.twists[k][3:]))), sec)
            if k < len(rec.poses):
                gt = GroundTruth(stamp=float(sec),
                                 objects=[ObjectPose(**o) for o in rec.poses[k]])
                put(bag, "/sim/ground_truth", "std_msgs/msg/String",
                    t["std_msgs/msg/String"](data=gt.model_dump_json()), sec)
