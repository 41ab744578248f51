"""Real-robot mode: the operator's prompts and verdicts, the safety check of the params file,
the specs moved onto the robot's graph (fake episode program, fake scenario)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fake_episode
import pytest
import yaml

from ifagent_ros.core.campaign.real_robot import (
    ConsoleOperator,
    RealParamsError,
    ScriptedOperator,
    check_real_params,
    real_specs,
)
from ifagent_ros.core.campaign.runner import CampaignError, run_campaign
from ifagent_ros.core.campaign.types import CampaignIndex, EpisodeRecord

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def fake_scenario_api(monkeypatch):
    fake_episode.install(monkeypatch.setattr)


def params(path: Path, *, require_deadman=True, estop="/ifagent/estop", extra=None) -> Path:
    executor = {"require_deadman": require_deadman, "pad": {"deadman": 5}}
    if estop is not None:
        executor["topics"] = {"estop": estop}
    data = {"executor_node": {"ros__parameters": executor},
            "teleop_node": {"ros__parameters": {"max_linear_speed": 0.1}}}
    data.update(extra or {})
    path.write_text(yaml.safe_dump(data))
    return path


def run_real(tmp_path: Path, operator, params_file: Path, **kw):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=3)
    return run_campaign(scenario, tmp_path / "run", real=params_file, operator=operator,
                        episode_command=fake_episode.COMMAND,
                        metrics_fn=fake_episode.fake_metrics, progress=io.StringIO(), **kw)


def test_skip_invalid_success_with_a_scripted_operator(tmp_path, monkeypatch):
    monkeypatch.setenv("ROS_DOMAIN_ID", "7")  # the robot's domain: real mode keeps it
    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE", raising=False)
    robot = params(tmp_path / "robot.yaml")
    operator = ScriptedOperator(["s", "", "i", "", "s"])
    result = run_real(tmp_path, operator, robot, workers=4)

    assert result.workers == 1 and result.backend == "real"
    assert (result.skipped, result.invalid, result.finished) == (1, 1, 2)
    assert result.conditions["a"].rate == 1.0  # the invalid one is not counted
    assert operator.prompts == [
        "Reset the scene for a-0000 (a), then press Enter  [s]kip  [q]uit: ",
        "Reset the scene for a-0001 (a), then press Enter  [s]kip  [q]uit: ",
        "When the episode ends type s (success), f (failure) or i (invalid): ",
        "Reset the scene for a-0002 (a), then press Enter  [s]kip  [q]uit: ",
        "When the episode ends type s (success), f (failure) or i (invalid): "]
    out = tmp_path / "run"
    assert not (out / "episodes" / "a-0000").exists()  # skipped: offered again on a rerun
    invalid = EpisodeRecord.model_validate_json(
        (out / "episodes" / "a-0001" / "episode.json").read_text())
    assert invalid.status == "invalid" and not invalid.success
    ok = EpisodeRecord.model_validate_json(
        (out / "episodes" / "a-0002" / "episode.json").read_text())
    assert ok.status == "ok" and ok.success and ok.run.end_reason == "operator"
    assert json.loads((out / "episodes" / "a-0002" / "verdict.json").read_text()) == {
        "success": True, "valid": True, "note": "scripted"}
    # the spec moved onto the robot's graph: its file, all its nodes, only its nodes' overrides
    assert ok.spec.real and ok.spec.params_file == str(robot.resolve()) and ok.spec.nodes == []
    assert ok.spec.overrides == {"executor_node": {"x": 1}}
    assert ok.spec.domain_id == 7
    env = json.loads((out / "episodes" / "a-0002" / "fake_env.json").read_text())
    assert env["ROS_DOMAIN_ID"] == "7" and env["ROS_AUTOMATIC_DISCOVERY_RANGE"] is None
    index = CampaignIndex.model_validate_json((out / "campaign.json").read_text())
    assert index.real and [r.status for r in index.episodes] == ["pending", "invalid", "ok"]

    # the rerun offers the skipped episode only; a failure verdict is a counted failure
    again = run_real(tmp_path, ScriptedOperator(["", "f"]), robot)
    assert again.ran == 1 and again.conditions["a"].rate == 0.5


def test_quit_stops_and_keeps_what_is_done(tmp_path):
    operator = ScriptedOperator(["", "s", "q"])
    result = run_real(tmp_path, operator, params(tmp_path / "robot.yaml"))
    assert result.stopped == "quit" and result.exit_code == 0 and result.finished == 1
    assert "quit by the operator" in result.message and "rerun" in result.message


@pytest.mark.parametrize("kw, problem", [
    ({"require_deadman": False}, "require_deadman is False (need true)"),
    ({"estop": None}, "topics.estop is 'not set'"),
    ({"estop": ""}, "topics.estop is ''"),
    ({"extra": {"executor_node": {"ros__parameters": {
        "require_deadman": True, "topics": {"estop": "/ifagent/estop"},
        "pad": {"deadman": -1}}}}}, "pad.deadman is -1 (need a button index >= 0)"),
    ({"extra": {"executor_node": {"ros__parameters": {
        "require_deadman": True, "topics": {"estop": "/ifagent/estop"},
        "deadman_button": 5}}}}, "deadman_button is now pad.deadman"),
])
def test_params_without_armed_stops_are_refused(tmp_path, kw, problem):
    robot = params(tmp_path / "robot.yaml", **kw)
    with pytest.raises(CampaignError) as err:
        run_real(tmp_path, ScriptedOperator([]), robot)
    assert "refusing a real-robot campaign" in str(err.value) and problem in str(err.value)
    assert err.value.exit_code == 2
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_no_executor_or_unreadable_params_are_refused(tmp_path):
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump({"teleop_node": {"ros__parameters": {}}}))
    with pytest.raises(RealParamsError, match="no executor_node section"):
        check_real_params(bare)
    with pytest.raises(RealParamsError, match="cannot read"):
        check_real_params(tmp_path / "missing.yaml")
    with pytest.raises(CampaignError, match="drop --ray"):
        run_real(tmp_path, ScriptedOperator([]), params(tmp_path / "r.yaml"), ray="local")


def test_shipped_robot_files_keep_the_stops_armed():
    assert "executor_node" in check_real_params(REPO / "config" / "franka.yaml")
    standin = check_real_params(REPO / "config" / "franka_standin.yaml")
    assert set(standin) == {"sim_node", "fault_relay_node", "executor_node",
                            "shared_autonomy_node", "correction_node", "sim_user_node"}
    sim = standin["sim_node"]
    assert (sim["domain.friction_scale"], sim["domain.mass_scale"]) == (1.3, 1.2)
    assert sim["joint_states_topic"] == "/sim/raw/joint_states"


def test_the_standins_relay_becomes_spec_links(tmp_path):
    path = REPO / "config" / "franka_standin.yaml"
    spec = fake_episode.expand(fake_episode.load_scenario(
        fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=1)),
        real=True)[0]
    [moved] = real_specs([spec], path, check_real_params(path))
    # the episode adds the relay itself: the file's relay section becomes a 20 ms link on
    # /joint_states and sim_node is pointed back at the standard name (the episode re-routes)
    assert "fault_relay_node" not in moved.nodes and "sim_user_node" in moved.nodes
    assert moved.links["/joint_states"].latency_s == 0.02
    assert moved.overrides["sim_node"] == {"joint_states_topic": "/joint_states", "seed": 1000}
    assert moved.overrides["executor_node"] == {"x": 1}  # a node of the file keeps its own


def test_console_operator_asks_again_on_a_wrong_answer():
    answers = iter(["", "x", "s", "maybe", "f", "gripper slipped"])
    printed: list[str] = []
    op = ConsoleOperator(input=lambda prompt: next(answers), print=printed.append)
    spec = fake_episode.expand(fake_episode.SimpleNamespace(
        name="n", conditions=["a"], episodes=1, modes={}, slow_s=0, wall_limit_s=5,
        success={}))[0]
    assert op.before_episode(spec) == "run"
    assert op.before_episode(spec) == "skip"
    assert op.verdict(spec) == {"success": False, "valid": True, "note": "gripper slipped"}
    assert printed == ["  please answer one of: '', 's', 'q'",
                       "  please answer one of: 's', 'f', 'i'"]
