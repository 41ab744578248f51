"""EpisodeDriver: start, fault triggers, end conditions and verdicts, without ROS."""

from __future__ import annotations

from typing import Any

import pytest

from ifagent_ros.core.campaign.episode_driver import Action, EpisodeDriver
from ifagent_ros.core.campaign.tasks.shared_autonomy import SETTLE_S
from ifagent_ros.core.campaign.types import EpisodeSpec, FaultCommand, FaultSpec, TaskSpec

ARM = [f"panda_joint{i}" for i in range(1, 8)]
NAMES = [*ARM, "panda_finger_joint1", "panda_finger_joint2"]
VLN_EP = {"house": "apartment_a", "instruction": "go to the fridge", "goal": [4.0, 0.0],
          "shortest_path_m": 6.0, "success_radius_m": 3.0}


def spec(kind: str = "shared_autonomy", **kw: Any) -> EpisodeSpec:
    task: dict[str, Any] = {"kind": kind}
    nodes = ["sim_node", "executor_node", "shared_autonomy_node", "sim_user_node"]
    if kind == "shared_autonomy":
        task.update(family="push", episode={"family": "push", "task_seed": 3})
    elif kind == "vln_houses":
        task.update(episode=VLN_EP)
        nodes = ["house_sim_node", "base_executor_node", "vln_planner_node"]
    else:
        task.update(scene="tabletop_default.yaml", duration_s=3.0)
        nodes = ["sim_node", "perception_node"]
    base: dict[str, Any] = {"campaign": "c", "episode_id": "x-0001", "condition": "x",
                            "index": 1, "seed": 5, "scene_seed": 3, "task": TaskSpec(**task),
                            "params_file": "p.yaml", "nodes": nodes, "time_limit_s": 20.0}
    return EpisodeSpec(**{**base, **kw})


def started(s: EpisodeSpec, t: float = 1.0) -> EpisodeDriver:
    d = EpisodeDriver(s)
    d.observe_graph_up()
    d.observe_ground_truth([{"id": "red_block"}])
    acts = d.step(t)
    assert d.started and acts[0].kind == "event" and acts[0].payload.event == "start"
    return d


def events(actions: list[Action], name: str | None = None) -> list[dict[str, Any]]:
    return [a.payload.detail for a in actions
            if a.kind == "event" and (name is None or a.payload.event == name)]


def moving(d: EpisodeDriver, t: float, speed: float = 0.2) -> bool:
    return d.observe_joint_state(t, NAMES, [0.0] * 9, [speed, *[0.0] * 8])


def test_start_waits_for_graph_recorder_and_first_ground_truth() -> None:
    d = EpisodeDriver(spec())
    assert d.step(0.5) == []
    d.observe_graph_up()
    assert d.step(0.6, recorder_ready=False) == []
    assert d.step(0.7) == []  # no ground truth yet: no start state for the metrics
    d.observe_ground_truth([{"id": "a"}])
    d.observe_ground_truth([{"id": "later"}])  # only the first counts
    acts = d.step(0.8)
    (start,) = events(acts, "start")
    assert acts[0].payload.stamp == 0.8 and d.start_stamp == 0.8
    assert start["family"] == "push" and start["task_seed"] == 3 and start["split"] == "heldout"
    assert start["objects_at_start"] == [{"id": "a"}]
    assert start["task"]["kind"] == "shared_autonomy"
    assert events(d.step(0.9), "start") == []  # once


def test_vln_and_perception_start_details() -> None:
    d = EpisodeDriver(spec("vln_houses"))
    d.observe_graph_up()
    (start,) = events(d.step(2.0), "start")
    assert start["goal"] == [4.0, 0.0] and start["success_radius_m"] == 3.0
    assert start["instruction"] == "go to the fridge" and start["house"] == "apartment_a"
    assert start["shortest_path_m"] == 6.0
    d = EpisodeDriver(spec("perception"))
    d.observe_graph_up()
    (start,) = events(d.step(2.0), "start")
    assert start["scene"] == "tabletop_default.yaml"


def test_time_fault_fires_once_then_switches_off_after_its_duration() -> None:
    f = FaultSpec(kind="freeze_camera", at_s=2.0, duration_s=1.5)
    d = started(spec(faults=[f], time_scale=3.0), t=10.0)
    assert d.step(11.9) == []
    acts = d.step(12.0)
    assert events(acts, "fault") == [{**f.model_dump(), "active": True}]
    (cmd,) = [a.payload for a in acts if a.kind == "fault_command"]
    assert isinstance(cmd, FaultCommand) and cmd.active and cmd.kind == "freeze_camera"
    assert cmd.duration_s == pytest.approx(0.5)  # the relay's wall clock runs 3x slower
    assert d.step(12.1) == [] and d.step(13.4) == []
    acts = d.step(13.5)
    assert events(acts, "fault") == [{**f.model_dump(), "active": False}]
    assert [a.payload.active for a in acts if a.kind == "fault_command"] == [False]
    assert d.step(20.0 - 0.01) == []


def test_fault_seeds_differ_per_fault_and_follow_the_episode_seed() -> None:
    faults = [FaultSpec(kind="joy_garbage", magnitude=5.0, at_s=1.0),
              FaultSpec(kind="stale_joint_states", at_s=1.0)]
    d = started(spec(faults=faults), t=0.0)
    seeds = [a.payload.seed for a in d.step(1.0) if a.kind == "fault_command"]
    assert len(set(seeds)) == 2
    d2 = started(spec(faults=faults, seed=6), t=0.0)
    assert seeds != [a.payload.seed for a in d2.step(1.0) if a.kind == "fault_command"]


def test_a_fault_at_zero_fires_with_the_start_event() -> None:
    d = EpisodeDriver(spec(faults=[FaultSpec(kind="stale_joint_states")]))
    d.observe_graph_up()
    d.observe_ground_truth([])
    assert [a.kind for a in d.step(1.0)] == ["event", "event", "fault_command"]


def test_a_fault_ending_when_the_next_starts_is_over_first() -> None:
    """Time faults end at at_s + duration_s (not at their firing step + duration_s), and in one
    step the endings come before the starts, so back-to-back faults never overlap."""
    a = FaultSpec(kind="freeze_camera", at_s=1.0, duration_s=1.0)
    b = FaultSpec(kind="stale_joint_states", at_s=2.0, duration_s=0.5)
    d = started(spec(faults=[b, a]), t=0.0)
    assert events(d.step(1.004), "fault") == [{**a.model_dump(), "active": True}]  # a late step
    acts = d.step(2.0)
    assert [(e["kind"], e["active"]) for e in events(acts, "fault")] == [
        ("freeze_camera", False), ("stale_joint_states", True)]
    assert [(c.payload.kind, c.payload.active) for c in acts if c.kind == "fault_command"] == [
        ("freeze_camera", False), ("stale_joint_states", True)]


def test_an_event_triggered_fault_lasts_its_duration_from_when_it_fired() -> None:
    f = FaultSpec(kind="stale_joint_states", trigger="motion", at_s=1.0, duration_s=0.5)
    d = started(spec(faults=[f]), t=0.0)
    assert moving(d, 3.0)
    assert events(d.step(3.0), "fault")[0]["active"] is True
    assert d.step(3.4) == []
    assert events(d.step(3.5), "fault")[0]["active"] is False


def test_kill_node_fires_on_the_first_motion_after_at_s_and_never_expires() -> None:
    f = FaultSpec(kind="kill_node", target="shared_autonomy_node", trigger="motion", at_s=3.0,
                  duration_s=1.0)
    d = started(spec(faults=[f]), t=0.0)
    assert moving(d, 1.0)
    assert d.step(1.0) == []          # moving, but before at_s
    assert not moving(d, 3.5, speed=0.01)  # too slow to count
    assert d.step(3.5) == []
    assert not d.observe_joint_state(3.6, NAMES, [0.0] * 9, [*[0.0] * 7, 0.5, 0.5])  # fingers
    assert d.step(3.6) == []
    assert moving(d, 4.0, speed=-0.3)
    acts = d.step(4.0)
    assert [a.kind for a in acts] == ["event", "kill"] and acts[1].payload == "shared_autonomy_node"
    assert not [a for a in d.step(9.0) if a.kind in ("kill", "event")]  # no expiry, no restart


def test_motion_from_position_differences_when_velocities_are_missing() -> None:
    f = FaultSpec(kind="stale_joint_states", trigger="motion")
    d = started(spec(faults=[f]), t=0.0)
    assert not d.observe_joint_state(1.0, NAMES, [0.0] * 9, [])
    assert not d.observe_joint_state(1.1, NAMES, [0.001] + [0.0] * 8, [])  # 0.01 rad/s
    assert d.observe_joint_state(1.2, NAMES, [0.03] + [0.0] * 8, [])       # 0.29 rad/s
    assert events(d.step(1.2), "fault")


def test_base_motion_triggers_in_vln() -> None:
    f = FaultSpec(kind="odom_jump", trigger="motion", at_s=1.0, magnitude=1.0)
    d = started(spec("vln_houses", faults=[f]), t=0.0)
    assert not d.observe_odom(2.0, 0.0, 0.0, 0.03, 0.0)
    assert not events(d.step(2.0), "fault")
    assert d.observe_odom(2.1, 0.0, 0.0, 0.04, 0.04)
    assert events(d.step(2.1), "fault")


def test_instruction_trigger_shared_autonomy_and_teleop() -> None:
    f = FaultSpec(kind="kill_node", target="sim_user_node", trigger="instruction", at_s=0.5)
    d = EpisodeDriver(spec(faults=[f]))
    d.observe_instruction(0.2)  # the person spoke before the start event: counts from it
    d.observe_graph_up()
    d.observe_ground_truth([])
    assert not [a for a in d.step(1.0) if a.kind == "kill"]  # at_s not reached
    assert [a.payload for a in d.step(1.5) if a.kind == "kill"] == ["sim_user_node"]
    # teleop: no node takes an instruction; the person has the task from the start
    teleop = spec(nodes=["sim_node", "executor_node", "teleop_node", "sim_user_node"],
                  faults=[FaultSpec(kind="kill_node", target="teleop_node",
                                    trigger="instruction", at_s=0.5)])
    d = started(teleop, t=1.0)
    assert [a.payload for a in d.step(1.5) if a.kind == "kill"] == ["teleop_node"]


def test_vln_sends_the_instruction_until_the_planner_shows_it() -> None:
    f = FaultSpec(kind="odom_jump", trigger="instruction", magnitude=0.5)
    d = EpisodeDriver(spec("vln_houses", faults=[f]))
    d.observe_graph_up()
    acts = d.step(1.0)
    assert [a.payload for a in acts if a.kind == "instruction"] == ["go to the fridge"]
    assert events(acts, "fault")  # fires as the instruction goes out
    assert not [a for a in d.step(1.5) if a.kind == "instruction"]
    assert [a.kind for a in d.step(2.0)].count("instruction") == 1  # repeated after 1 s
    d.observe_nav({"mode": "navigating", "instruction": "something else"})
    assert [a.kind for a in d.step(3.0)].count("instruction") == 1
    d.observe_nav({"mode": "navigating", "instruction": "go to the fridge"})
    assert not [a for a in d.step(4.0) if a.kind == "instruction"]


def test_shared_autonomy_success_settles_one_second_then_ends() -> None:
    d = started(spec(), t=0.0)
    d.observe_sim_user(4.0, {"success": True, "done": False, "time_to_success_s": 3.5,
                             "corrections": 2})
    assert d.step(4.0 + SETTLE_S - 0.1) == []
    acts = d.step(4.0 + SETTLE_S)
    (verdict,) = events(acts, "verdict")
    assert verdict["success"] is True and verdict["valid"] is True and verdict["by"] == "sim_user"
    assert verdict["time_to_success_s"] == 3.5 and verdict["corrections"] == 2
    assert acts[-1] == Action("end", "done") and d.ended == "done"
    assert d.step(9.0) == []


def test_shared_autonomy_done_without_success_and_time_limit() -> None:
    d = started(spec(), t=0.0)
    d.observe_sim_user(2.0, {"success": False, "done": True})
    acts = d.step(2.0)
    assert events(acts, "verdict")[0]["success"] is False and acts[-1].payload == "done"
    d = started(spec(time_limit_s=5.0), t=1.0)
    assert d.step(5.9) == []
    acts = d.step(6.0)
    assert events(acts, "verdict")[0]["success"] is False
    assert "no status" in events(acts, "verdict")[0]["note"]
    assert acts[-1].payload == "time_limit"


def test_vln_ends_when_the_planner_stops_on_our_instruction() -> None:
    d = started(spec("vln_houses"), t=0.0)
    d.observe_odom(5.0, 1.5, 0.0, 0.0, 0.0)
    d.observe_nav({"mode": "stopped", "instruction": "an older one"})
    assert not events(d.step(5.0), "verdict")
    d.observe_nav({"mode": "stopped", "instruction": "go to the fridge", "reason": "arrived"})
    acts = d.step(5.1)
    (v,) = events(acts, "verdict")
    assert v["success"] is True and v["by"] == "nav" and v["pose_source"] == "odom"
    assert v["distance_to_goal_m"] == pytest.approx(2.5) and v["reason"] == "arrived"
    # the true pose wins over odometry (an odom_jump fault corrupts odometry)
    d = started(spec("vln_houses"), t=0.0)
    d.observe_odom(5.0, 4.0, 0.0, 0.0, 0.0)
    d.observe_base_pose(9.0, 0.0)
    d.observe_nav({"mode": "halted", "instruction": "go to the fridge"})
    (v,) = events(d.step(5.1), "verdict")
    assert v["success"] is False and v["pose_source"] == "base_pose"
    assert v["final_position"] == [9.0, 0.0]


def test_vln_time_limit_is_a_failure_even_near_the_goal() -> None:
    d = started(spec("vln_houses", time_limit_s=10.0), t=0.0)
    d.observe_odom(9.0, 4.0, 0.0, 0.2, 0.0)
    acts = d.step(10.0)
    (v,) = events(acts, "verdict")
    assert v["success"] is False and acts[-1].payload == "time_limit"


def test_perception_ends_after_its_duration_with_no_verdict_of_its_own() -> None:
    d = started(spec("perception"), t=2.0)
    assert d.step(4.9) == []
    acts = d.step(5.0)
    assert events(acts, "verdict") == [{"success": None, "valid": True, "by": "perception"}]
    assert acts[-1].payload == "done"


def test_real_robot_waits_for_the_operator() -> None:
    d = started(spec(real=True, time_limit_s=30.0), t=0.0)
    d.observe_sim_user(1.0, {"success": True, "done": True})  # ignored on a robot
    assert d.step(5.0) == []
    with pytest.raises(ValueError, match="boolean success and valid"):
        d.observe_operator_verdict({"success": "yes", "valid": True})
    d.observe_operator_verdict({"success": True, "valid": False, "note": "bumped the table"})
    acts = d.step(6.0)
    assert events(acts, "verdict") == [{"success": True, "valid": False, "by": "operator",
                                        "note": "bumped the table"}]
    assert acts[-1].payload == "operator"
    d = started(spec(real=True, time_limit_s=3.0), t=0.0)
    acts = d.step(3.0)
    assert events(acts, "verdict") == [] and acts[-1].payload == "time_limit"


def test_real_shared_autonomy_starts_without_ground_truth() -> None:
    d = EpisodeDriver(spec(real=True))
    d.observe_graph_up()
    (start,) = events(d.step(1.0), "start")
    assert start["objects_at_start"] == [] and start["real"] is True


def test_finish_reports_the_nodes_and_the_error() -> None:
    d = started(spec(), t=1.0)
    end = d.finish(3.5, "error", ["sim_node"], ["teleop_node"], error="terminated")
    assert end.event == "end" and end.stamp == 3.5
    assert end.detail == {"reason": "error", "nodes_alive": ["sim_node"],
                          "nodes_dead": ["teleop_node"], "episode_time_s": 2.5,
                          "error": "terminated"}
    assert d.ended == "error" and d.step(4.0) == []


def test_bad_task_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks instruction, goal"):
        EpisodeDriver(spec("vln_houses", task=TaskSpec(kind="vln_houses", episode={})))
    with pytest.raises(ValueError, match="duration_s must be > 0"):
        EpisodeDriver(spec("perception", task=TaskSpec(kind="perception")))
