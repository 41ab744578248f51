"""One campaign episode as its own process: `python -m ifagent_ros.campaign_episode DIR`.

Real short episodes of the real graph (sim_node, executor, teleop, simulated person, perception)
on a private DDS domain, each run as a subprocess like the runner runs it; the bag, run.json
and the exit status are checked. Plus GraphHandle.kill_node on the fake nodes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from nodes.ros_helpers import private_domain_id

from ifagent_ros.bringup import BringupError, start_graph
from ifagent_ros.core.campaign.types import (
    EVENTS_TOPIC,
    RAW_PREFIX,
    CampaignEvent,
    EpisodeRun,
)
from ifagent_ros.core.recording import bag_summary, read_messages

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_S = 180
FAKES = {"talker": "fake_nodes.talker", "talker2": "fake_nodes.talker"}
SMALL_CAMERA = {"camera.width": 160, "camera.height": 120}


# --- GraphHandle.kill_node ------------------------------------------------------------------


def _wait(cond: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.parametrize("executor", ["events", "events_shared", "multi"])
def test_kill_node_stops_one_node_like_a_crash_and_keeps_the_others(executor: str) -> None:
    params = {"talker": {"topic": "kill_a", "period_s": 0.02},
              "talker2": {"topic": "kill_b", "period_s": 0.02}}
    with start_graph(params, registry=FAKES, domain_id=private_domain_id(),
                     executor=executor) as graph:
        a, b = graph.nodes["talker"], graph.nodes["talker2"]
        probe = graph.nodes["talker2"]  # any node of the graph sees the publishers
        assert _wait(lambda: a.count > 3 and probe.count_publishers("/kill_a") == 1)
        graph.kill_node("talker")
        assert graph.alive_nodes() == ["talker2"] and graph.dead_nodes() == ["talker"]
        assert a.closed == 0  # no clean shutdown: a crash says no goodbye
        count = a.count
        b_count = b.count
        assert _wait(lambda: b.count > b_count + 5)  # the other node spins on
        assert a.count == count  # the killed one does not
        assert _wait(lambda: probe.count_publishers("/kill_a") == 0)  # its publisher vanished
        assert graph.running and not graph.wait(0)
        with pytest.raises(BringupError, match="dead already"):
            graph.kill_node("talker")
        with pytest.raises(BringupError, match="no node 'nobody'"):
            graph.kill_node("nobody")
    assert a.closed == 1  # stop() released what it held
    assert b.closed == 1


@pytest.mark.parametrize("executor", ["events_shared", "multi"])
@pytest.mark.parametrize("kill_timeout", [5.0, 0.05])
def test_kill_node_while_its_callback_runs_keeps_a_shared_executor_spinning(
        executor: str, kill_timeout: float) -> None:
    # The killed node's timer callback is in a 0.4 s sleep, before its publish, when kill_node()
    # runs. Destroying the node under it made the publish raise InvalidHandle, which the shared
    # executor re-raised on a later spin_once() as a crash of the graph: the other node stopped.
    # kill_node() lets the callback finish (up to its timeout) and forgets what a dead node's
    # callback raised.
    params = {"talker": {"topic": "kill_slow_a", "period_s": 0.02, "tick_sleep_s": 0.4},
              "talker2": {"topic": "kill_slow_b", "period_s": 0.02}}
    with start_graph(params, registry=FAKES, domain_id=private_domain_id(),
                     executor=executor) as graph:
        a, b = graph.nodes["talker"], graph.nodes["talker2"]
        assert _wait(lambda: a.count >= 1)
        started = a.count
        assert _wait(lambda: a.count > started)  # a fresh tick just began its sleep
        graph.kill_node("talker", timeout=kill_timeout)
        b_count = b.count
        assert _wait(lambda: b.count > b_count + 5), graph.error  # the other node spins on
        time.sleep(0.5)  # the killed callback (if still running) has ended by now
        assert graph.running and graph.error is None
        assert b.count > b_count + 10


# --- episodes as subprocesses ---------------------------------------------------------------


def _spec(episode_id: str, kind: str, nodes: list[str], params_file: str,
          overrides: dict[str, dict[str, Any]], **kw: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"kind": kind}
    if kind == "shared_autonomy":
        task.update(family="pick_place_bowl",
                    episode={"family": "pick_place_bowl", "task_seed": 3})
    elif kind == "perception":
        task.update(scene="tabletop_default.yaml", duration_s=3.0,
                    episode={"scene": "tabletop_default.yaml"})
    return {"campaign": "test", "episode_id": episode_id, "condition": episode_id.split("-")[0],
            "index": 0, "seed": 11, "scene_seed": 3, "task": task,
            "params_file": str(REPO / "config" / params_file), "nodes": nodes,
            "overrides": overrides, "time_limit_s": 10.0, "wall_limit_s": 150.0,
            "domain_id": private_domain_id(), **kw}


def teleop_spec(**kw: Any) -> dict[str, Any]:
    return _spec("teleop-0000", "shared_autonomy",
                 ["sim_node", "executor_node", "teleop_node", "sim_user_node"], "sim.yaml",
                 {"sim_node": {**SMALL_CAMERA, "seed": 3},
                  "sim_user_node": {"task": "pick_place_bowl", "seed": 3,
                                    "condition": "teleop"}}, **kw)


def perception_spec(**kw: Any) -> dict[str, Any]:
    return _spec("geometric-0000", "perception", ["sim_node", "perception_node"],
                 "shared_autonomy.yaml", {"sim_node": {**SMALL_CAMERA, "seed": 3}}, **kw)


def start_episode(tmp_path: Path, spec: dict[str, Any]) -> tuple[subprocess.Popen, Path]:
    episode_dir = tmp_path / spec["episode_id"]
    episode_dir.mkdir()
    (episode_dir / "spec.json").write_text(json.dumps(spec))
    env = {**os.environ, "ROS_DOMAIN_ID": str(spec["domain_id"]),
           "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    log = (episode_dir / "log.txt").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "ifagent_ros.campaign_episode",
                             str(episode_dir)], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    return proc, episode_dir


def finish(proc: subprocess.Popen, episode_dir: Path) -> tuple[int, EpisodeRun, str]:
    try:
        rc = proc.wait(TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    log = (episode_dir / "log.txt").read_text()
    assert (episode_dir / "run.json").is_file(), log[-3000:]
    return rc, EpisodeRun.model_validate_json((episode_dir / "run.json").read_text()), log


def run_episode(tmp_path: Path, spec: dict[str, Any]) -> tuple[int, EpisodeRun, str, Path]:
    proc, episode_dir = start_episode(tmp_path, spec)
    rc, run, log = finish(proc, episode_dir)
    return rc, run, log, episode_dir


def events(bag: Path) -> list[tuple[int, CampaignEvent]]:
    return [(ts, CampaignEvent.model_validate_json(m.data))
            for _, _, ts, m in read_messages(bag, [EVENTS_TOPIC])]


def test_perception_episode_records_its_timeline_and_ends_after_its_duration(
        tmp_path: Path) -> None:
    rc, run, log, d = run_episode(tmp_path, perception_spec())
    assert rc == 0, log[-3000:]
    assert run.end_reason == "done" and run.error is None
    assert run.episode_time_s == pytest.approx(3.0, abs=0.2)
    assert 0 < run.startup_s < run.wall_s and run.real_time_factor > 0.3
    assert run.cpu_s is not None and run.cpu_s > 0
    assert sorted(run.nodes_alive) == ["perception_node", "recorder_node", "sim_node"]
    assert run.nodes_dead == []
    evs = events(d / "bag")
    assert [e.event for _, e in evs] == ["start", "verdict", "end"]
    start = evs[0][1]
    assert start.detail["scene"] == "tabletop_default.yaml"
    assert evs[1][1].detail == {"success": None, "valid": True, "by": "perception"}
    assert evs[2][1].detail["reason"] == "done"
    # The bag is in sim time (seconds since the sim started), as the events' stamps.
    assert all(abs(ts * 1e-9 - e.stamp) < 1.0 for ts, e in evs)
    summary = bag_summary(d / "bag")
    for topic in ("/clock", "/camera/color/image_raw", "/ifagent/objects", "/sim/ground_truth"):
        assert summary[topic]["count"] > 0, topic
    assert run.bag_messages == sum(int(s["count"]) for s in summary.values())
    assert run.bag_bytes > 0
    assert (d / "snapshot.png").stat().st_size > 0


def test_teleop_episode_survives_killing_the_teleop_node_on_motion(tmp_path: Path) -> None:
    fault = {"kind": "kill_node", "target": "teleop_node", "trigger": "motion", "at_s": 1.0}
    rc, run, log, d = run_episode(tmp_path, teleop_spec(time_limit_s=6.0, faults=[fault]))
    assert rc == 0, log[-3000:]
    assert run.end_reason == "time_limit"
    assert run.nodes_dead == ["teleop_node"]
    assert sorted(run.nodes_alive) == ["executor_node", "recorder_node", "sim_node",
                                       "sim_user_node"]
    evs = [e for _, e in events(d / "bag")]
    assert [e.event for e in evs] == ["start", "fault", "verdict", "end"]
    start, fired, verdict, end = evs
    assert start.detail["family"] == "pick_place_bowl" and start.detail["task_seed"] == 3
    assert {o["id"] for o in start.detail["objects_at_start"]} >= {"blue_block"}
    assert fired.detail == {**fault, "duration_s": 0.0, "magnitude": 0.0, "active": True}
    assert fired.stamp - start.stamp >= 1.0
    assert verdict.detail["by"] == "sim_user" and verdict.detail["success"] is False
    assert end.detail["reason"] == "time_limit" and end.detail["nodes_dead"] == ["teleop_node"]
    assert end.stamp - start.stamp == pytest.approx(6.0, abs=0.2)
    # The arm was moving when the fault fired (the trigger saw it in /joint_states).
    js = [(ts, m) for _, _, ts, m in read_messages(d / "bag", ["/joint_states"])]
    assert js
    near = [m for ts, m in js if abs(ts * 1e-9 - fired.stamp) < 0.05]
    assert any(max(abs(v) for v in m.velocity[:7]) > 0.05 for m in near)
    # After the kill the teleop twists stop (its publisher is gone).
    twists = [ts * 1e-9 for _, _, ts, _ in read_messages(d / "bag", ["/ifagent/ee_twist_cmd"])]
    assert twists and max(twists) < fired.stamp + 0.5


@pytest.mark.parametrize(("overrides", "message"), [
    ({"sim_node": {"bogus_param": 1}}, "unknown parameter(s) sim_node.bogus_param"),
    ({"sim_node": {"physics_rate_hz": -5.0}},
     "sim_node: ParameterError: sim_node: parameter physics_rate_hz must be > 0"),
])
def test_a_bad_node_parameter_ends_in_error_with_run_json(
        tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    spec = perception_spec()
    spec["overrides"] = {"sim_node": {**spec["overrides"]["sim_node"], **overrides["sim_node"]}}
    rc, run, log, _ = run_episode(tmp_path, spec)
    assert rc == 3, log[-3000:]
    assert run.end_reason == "error" and message in (run.error or ""), run.error
    assert message in log


def test_an_unreadable_spec_ends_in_error(tmp_path: Path) -> None:
    d = tmp_path / "broken-0000"
    d.mkdir()
    (d / "spec.json").write_text('{"campaign": "x"}')
    proc = subprocess.run([sys.executable, "-m", "ifagent_ros.campaign_episode", str(d)],
                          cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 3
    run = EpisodeRun.model_validate_json((d / "run.json").read_text())
    assert run.end_reason == "error" and "spec" in (run.error or "")


def test_sigterm_ends_the_episode_with_a_readable_bag(tmp_path: Path) -> None:
    proc, d = start_episode(tmp_path, teleop_spec(time_limit_s=60.0))
    log = d / "log.txt"
    deadline = time.monotonic() + TIMEOUT_S
    while "event start" not in log.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    rc, run, text = finish(proc, d)
    assert rc == 3, text[-3000:]
    assert run.end_reason == "error" and "terminated" in (run.error or "")
    evs = [e for _, e in events(d / "bag")]
    assert evs[0].event == "start" and evs[-1].event == "end"
    assert evs[-1].detail["reason"] == "error" and "terminated" in evs[-1].detail["error"]
    assert bag_summary(d / "bag")["/joint_states"]["count"] > 0


def test_real_mode_waits_for_the_operators_verdict(tmp_path: Path) -> None:
    # The sim graph stands in for the robot: wall clock, no sim time, /joint_states = "up".
    proc, d = start_episode(tmp_path, perception_spec(real=True, time_limit_s=120.0))
    deadline = time.monotonic() + TIMEOUT_S
    while not (d / "awaiting_verdict").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, (d / "log.txt").read_text()[-3000:]
        time.sleep(0.1)
    (d / "verdict.json.tmp").write_text(json.dumps({"success": True, "valid": False,
                                                    "note": "scene bumped"}))
    (d / "verdict.json.tmp").replace(d / "verdict.json")
    rc, run, log = finish(proc, d)
    assert rc == 0, log[-3000:]
    assert run.end_reason == "operator"
    evs = [e for _, e in events(d / "bag")]
    assert [e.event for e in evs] == ["start", "verdict", "end"]
    assert evs[1].detail == {"success": True, "valid": False, "by": "operator",
                             "note": "scene bumped"}
    assert evs[0].detail["real"] is True
    assert evs[0].stamp > 1e9  # wall-clock ROS time on a robot, not sim time


def test_record_false_records_only_what_the_metrics_read(tmp_path: Path) -> None:
    from ifagent_ros.core.campaign.metrics import METRIC_TOPICS

    rc, run, log, d = run_episode(tmp_path, perception_spec(record=False))
    assert rc == 0, log[-3000:]
    assert "recorder_node" in run.nodes_alive
    summary = bag_summary(d / "bag")
    assert set(summary) <= set(METRIC_TOPICS)
    assert summary["/ifagent/objects"]["count"] > 0 and summary[EVENTS_TOPIC]["count"] == 3
    assert not any(t.startswith("/camera") for t in summary)


def vln_spec(**kw: Any) -> dict[str, Any]:
    """A house episode as the scenario expansion samples one (start, goal, instruction)."""
    import random

    from ifagent_ros.core.worlds.house import heading_to_yaw, load_house
    from ifagent_ros.core.worlds.house_episodes import episode_for

    path = REPO / "houses" / "apartment_a.yaml"
    house = load_house(path)
    ep = episode_for(house, random.Random(0), "apartment_a_0")
    assert ep is not None
    start, goal = house.graph.places[ep.start], house.graph.places[ep.goal]
    episode = {"house": house.name, "episode_id": ep.episode_id, "instruction": ep.instruction,
               "start": [start.x, start.y, heading_to_yaw(ep.heading)], "goal": [goal.x, goal.y],
               "shortest_path_m": ep.distance, "success_radius_m": 3.0}
    spec = _spec("rule-0000", "vln_houses", ["house_sim_node", "base_executor_node",
                                             "vln_planner_node"], "nav.yaml",
                 {"house_sim_node": {"house": str(path), "start": episode["start"]},
                  "vln_planner_node": {"house": str(path), "planner": "rule"}}, **kw)
    spec["task"].update(houses=["apartment_a"], episode=episode)
    return spec


def test_vln_episode_sends_the_instruction_and_ends_when_the_planner_stops(
        tmp_path: Path) -> None:
    rc, run, log, d = run_episode(tmp_path, vln_spec(time_limit_s=60.0, time_scale=2.0))
    assert rc == 0, log[-3000:]
    evs = [e for _, e in events(d / "bag")]
    assert [e.event for e in evs] == ["start", "verdict", "end"]
    start, verdict, end = evs
    instruction = start.detail["instruction"]
    assert start.detail["goal"] and start.detail["success_radius_m"] == 3.0
    sent = [m.data for _, _, _, m in read_messages(d / "bag", ["/ifagent/instruction"])]
    assert sent and set(sent) == {instruction}
    navs = [json.loads(m.data) for _, _, _, m in read_messages(d / "bag", ["/ifagent/nav/status"])]
    assert any(n["instruction"] == instruction for n in navs)
    # It ended because the planner stopped (or asked/halted) on our instruction.
    assert run.end_reason == "done" and end.detail["reason"] == "done"
    assert verdict.detail["by"] == "nav" and verdict.detail["mode"] in ("stopped", "asking",
                                                                         "halted")
    assert verdict.detail["pose_source"] == "base_pose"
    assert verdict.detail["success"] == (verdict.detail["distance_to_goal_m"] <= 3.0)


def test_links_and_relay_faults_go_through_the_relay(tmp_path: Path) -> None:
    spec = teleop_spec(
        time_limit_s=4.0,
        links={"/joint_states": {"latency_s": 0.02}, "/joy": {"drop_rate": 0.1}},
        faults=[{"kind": "freeze_camera", "at_s": 1.0, "duration_s": 1.0},
                {"kind": "stale_joint_states", "at_s": 2.0, "duration_s": 0.5}])
    rc, run, log, d = run_episode(tmp_path, spec)
    assert rc == 0, log[-3000:]
    assert "fault_relay_node" in run.nodes_alive and run.nodes_dead == []
    summary = bag_summary(d / "bag")
    for topic in ("/joint_states", "/joy", "/camera/color/image_raw"):
        assert summary[RAW_PREFIX + topic]["count"] > 0, topic   # what the producer sent
        assert summary[topic]["count"] > 0, topic                # what the relay passed on
    faults = [e.detail for _, e in events(d / "bag") if e.event == "fault"]
    assert [(f["kind"], f["active"]) for f in faults] == [
        ("freeze_camera", True), ("freeze_camera", False),
        ("stale_joint_states", True), ("stale_joint_states", False)]
    commands = [json.loads(m.data) for _, _, _, m in
                read_messages(d / "bag", ["/ifagent/campaign/fault"])]
    assert [(c["kind"], c["active"]) for c in commands] == [
        (f["kind"], f["active"]) for f in faults]
