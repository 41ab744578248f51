"""`ifagent collect` end to end: a tiny dataset that loads, and MCAP bags that read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.cli import main
from ifagent_ros.core.latent_actions.dataset import load_dataset
from ifagent_ros.core.latent_actions.state import STATE_DIM
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, TASK_FAMILIES
from ifagent_ros.core.recording import bag_summary, read_messages
from ifagent_ros.core.schemas import GroundTruth


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("collect") / "ds"
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["collect", "--out", str(out), "--demos-per-task", "1",
                     "--corrections-per-primitive", "1", "--seed", "3", "--json"])
    assert code == 0, buf.getvalue()
    figures = json.loads(buf.getvalue().strip().splitlines()[-1])
    return out, figures


def test_the_dataset_holds_one_demo_per_task_and_one_segment_per_primitive(
    collected: tuple[Path, dict],
) -> None:
    out, figures = collected
    ds = load_dataset(out)
    tasks = [d for d in ds.demos if d.kind == "task"]
    corrections = [d for d in ds.demos if d.kind == "correction"]
    assert sorted(d.task for d in tasks) == sorted(TASK_FAMILIES)
    assert sorted(d.task for d in corrections) == sorted(PRIMITIVES)
    assert ds.meta.state_dim == STATE_DIM and ds.meta.action_rate_hz == 10.0
    assert set(ds.meta.phrasings) == set(TASK_FAMILIES) | set(PRIMITIVES)
    for d in tasks:
        assert d.alpha == 1.0 and d.states.shape[0] > 30  # a whole pick/push takes seconds
        assert d.gripper_close.max() == 1.0 and np.abs(d.actions).max() <= 1.0
        assert d.text in ds.phrasings_for(d) or d.split == "heldout"
    for d in corrections:
        assert d.alpha == 0.0 and 10 <= d.states.shape[0] <= 20
        prim = PRIMITIVES[d.task]
        direction = d.actions / np.linalg.norm(d.actions, axis=1, keepdims=True)
        assert np.allclose(direction, prim.twist)  # every step says the same primitive
        assert d.text in prim.phrasings(d.split)  # type: ignore[arg-type]
    # States move the way the actions say: the end effector (state[7:10]) follows "up".
    up = next(d for d in corrections if d.task == "up")
    assert up.states[-1, 9] - up.states[0, 9] > 0.03
    assert figures["demos"] == len(ds.demos)
    for family in TASK_FAMILIES:
        row = figures["tasks"][family]
        assert row["kept"] == 1 and row["tried"] >= 1 and 0 < row["success_rate"] <= 1


def test_one_mcap_per_task_reads_back(collected: tuple[Path, dict]) -> None:
    out, _ = collected
    for family in TASK_FAMILIES:
        bag = out / "mcap" / family
        summary = bag_summary(bag)
        assert summary["/ifagent/instruction"] == {"type": "std_msgs/msg/String", "count": 1}
        n = summary["/joint_states"]["count"]
        assert n > 30 and summary["/ifagent/ee_twist_cmd"]["count"] == n
        assert summary["/sim/ground_truth"]["count"] == n
    msgs = list(read_messages(out / "mcap" / "push"))
    texts = [m.data for t, _, _, m in msgs if t == "/ifagent/instruction"]
    push_demo = next(d for d in load_dataset(out).demos if d.task == "push")
    assert texts == [push_demo.text]
    joint = next(m for t, _, _, m in msgs if t == "/joint_states")
    assert list(joint.name) == [*(f"panda_joint{i}" for i in range(1, 8)),
                                "panda_finger_joint1", "panda_finger_joint2"]
    widths = [m.position[7] + m.position[8] for t, _, _, m in msgs if t == "/joint_states"]
    assert max(widths) > 0.075 and min(widths) < 0.01  # pushes with closed fingers
    twist = [m for t, _, _, m in msgs if t == "/ifagent/ee_twist_cmd"]
    assert twist[0].header.frame_id == "base_link"
    assert max(abs(m.twist.linear.z) for m in twist) > 0.05
    gt = GroundTruth.model_validate_json(
        next(m for t, _, _, m in msgs if t == "/sim/ground_truth").data)
    assert {o.id for o in gt.objects} >= {"red_block", "yellow_bowl"}
    stamps = [ts for _, _, ts, _ in msgs]
    assert stamps == sorted(stamps)


def test_an_existing_dataset_is_not_overwritten_without_force(
    collected: tuple[Path, dict], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = collected
    code = main(["collect", "--out", str(out), "--demos-per-task", "0",
                 "--corrections-per-primitive", "0"])
    assert code == 2 and "--force" in capsys.readouterr().err
    assert (out / "index.json").is_file()
    for bad in (["--demos-per-task", "-1"], ["--xy-jitter", "0.5"]):
        assert main(["collect", "--out", str(out / "new"), *bad]) == 2
    assert not (out / "new").exists()
