"""core/recording/demonstrations without the simulator: a Recording filled from a fake arm
environment becomes an MCAP bag with the topics the live graph publishes. (The episode loops
with the real expert and TabletopArmEnv run in test/test_cli_collect.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ifagent_ros.core.recording import bag_summary, read_messages
from ifagent_ros.core.recording.demonstrations import Recording, write_demo_bag

JOINTS = [f"panda_joint{i}" for i in range(1, 8)] + ["panda_finger_joint1", "panda_finger_joint2"]


class _FakeEnv:
    def state_vector(self, obs: SimpleNamespace) -> np.ndarray:
        return np.full(4, obs.time)

    def object_poses(self) -> list[dict]:
        return [{"id": "red_block", "label": "block", "color": "red",
                 "position": [0.5, 0.0, 0.02], "orientation": [0.0, 0.0, 0.0, 1.0],
                 "size": [0.04, 0.04, 0.04]}]


def _recording(steps: int, keep_poses: bool) -> Recording:
    env, rec = _FakeEnv(), Recording()
    for k in range(steps):
        obs = SimpleNamespace(time=0.1 * k, q=np.arange(7) * 0.1, gripper_width=0.08)
        rec.add(env, obs, np.array([1.0, 0, 0, 0, 0, 0]), np.array([0.1, 0, 0, 0, 0, 0.2]),
                close=k >= 2, keep_poses=keep_poses)
        rec.count({"acceleration": 1})
    return rec


def test_recording_keeps_what_the_dataset_needs() -> None:
    rec = _recording(4, keep_poses=False)
    assert len(rec) == 4 and rec.gripper_close == [0.0, 0.0, 1.0, 1.0]
    assert rec.interventions == {"acceleration": 4} and rec.poses == []
    assert rec.actions[0].dtype == np.float32 and rec.states[3][0] == np.float64(0.1 * 3)


def test_a_demo_bag_reads_back_with_stamps_from_one_second(tmp_path: Path) -> None:
    path = tmp_path / "push"
    write_demo_bag(path, _recording(3, keep_poses=True), "push the red block", JOINTS)
    summary = bag_summary(path)
    assert {t: s["count"] for t, s in summary.items()} == {
        "/ifagent/instruction": 1, "/joint_states": 3, "/ifagent/ee_twist_cmd": 3,
        "/sim/ground_truth": 3}
    messages = list(read_messages(path))
    instruction = next(m for t, _, _, m in messages if t == "/ifagent/instruction")
    assert instruction.data == "push the red block"
    states = [(ns, m) for t, _, ns, m in messages if t == "/joint_states"]
    assert [ns for ns, _ in states] == [1_000_000_000, 1_100_000_000, 1_200_000_000]
    assert list(states[0][1].name) == JOINTS
    assert np.allclose(states[0][1].position[-2:], [0.04, 0.04])  # half the gripper width each
    twist = next(m for t, _, _, m in messages if t == "/ifagent/ee_twist_cmd")
    assert twist.twist.linear.x == 0.1 and twist.twist.angular.z == 0.2
    truth = next(m for t, _, _, m in messages if t == "/sim/ground_truth")
    assert json.loads(truth.data)["objects"][0]["id"] == "red_block"
