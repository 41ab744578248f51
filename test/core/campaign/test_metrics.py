"""core.campaign.metrics: every campaign metric read back from tiny bags with known answers."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from bag_factory import ARM, EPISODE_ID, BagBuilder, spec  # noqa: E402

from ifagent_ros.core.campaign.metrics import (  # noqa: E402
    MetricsError,
    MissingTopicsError,
    episode_metrics,
)
from ifagent_ros.core.campaign.tasks import TASKS, get_task  # noqa: E402
from ifagent_ros.core.latent_actions.tasks import sample_task  # noqa: E402
from ifagent_ros.core.schemas import GroundTruth, ObjectList, ObjectPose, PerceivedObject  # noqa: E402

T0 = 100.0  # sim seconds: a zero stamp reads as "unset"
Q_REST = [0.0, 1.6, 0.0, -1.5, 0.0, 1.8, 0.0]  # joint 2 is 0.1 rad from its upper limit


def ticks(start: float, stop: float, step: float) -> list[float]:
    n = int(round((stop - start) / step))
    return [round(start + k * step, 6) for k in range(n + 1)]


def sa_spec() -> Any:
    return spec("shared_autonomy", family="pick_place_bowl")


# --------------------------------------------------------------------------- safety
def test_joint_speed_accel_margin_and_interventions(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.status(T0 - 1.0, interventions={"velocity": 3}, rejections=1)  # executor ran before
    b.event(T0, "start")
    for t in ticks(T0, T0 + 1.0, 0.01):
        v = 2.0 * min(t - T0, 0.5)  # 2 rad/s² up to 1 rad/s on joint 1 (limit 2 rad/s)
        b.joints(t, Q_REST, [v, 0, 0, 0, 0, 0, 0.25])
    b.status(T0 + 1.0, interventions={"velocity": 10, "workspace": 2}, rejections=4)
    b.event(T0 + 1.0, "verdict", success=True, valid=True, by="sim_user", time_to_success_s=0.8)
    b.event(T0 + 1.0, "end", reason="done", nodes_alive=["executor_node"], nodes_dead=[])
    m = episode_metrics(b.write(), sa_spec())
    v = m.values
    assert v["joint_speed_peak_ratio"] == pytest.approx(0.5)
    assert v["joint_acc_peak_ratio"] == pytest.approx(2.0 / 10.0, rel=1e-3)
    assert v["joint_position_margin_min"] == pytest.approx(0.1)
    assert v["joint_limit_violations"] == 0
    assert v["limit_interventions"] == 9
    assert v["interventions"] == {"velocity": 7, "workspace": 2}
    assert v["rejections"] == 3
    assert v["episode_time_s"] == pytest.approx(1.0)
    # No ground truth, but the driver's verdict says success.
    assert m.success and m.valid and v["success_source"] == "verdict:sim_user"
    assert v["time_to_success_s"] == pytest.approx(0.8)
    assert v["estop_reaction_ms"] is None and v["watchdog_reaction_ms"] is None
    assert v["nodes_dead"] == [] and v["nodes_crashed"] == 0 and v["faults_fired"] == []


def test_command_peaks_are_what_the_executor_sent(tmp_path: Path) -> None:
    """Commanded joint 1 ramps 0 -> 1.0 rad/s at 5 rad/s^2 (half its 10 rad/s^2 limit) while a
    simulated jolt makes the measured arm read 3 rad/s for one sample: the command peaks say the
    executor kept to its limits, the measured ones show the jolt."""
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start").status(T0)
    for t in ticks(T0, T0 + 0.4, 0.004):
        v = min(5.0 * (t - T0), 1.0)
        b.arm_command(t, Q_REST, [v, 0, 0, 0, 0, 0, 0])
        jolt = 3.0 if abs(t - (T0 + 0.3)) < 1e-6 else v
        b.joints(t, Q_REST, [jolt, 0, 0, 0, 0, 0, 0])
    b.arm_command(T0 + 0.404, [math.nan] * 7, [1.0] + [0.0] * 6)  # positions are not read
    b.arm_command(T0 + 0.408, Q_REST, [math.nan] + [0.0] * 6)  # skipped as bad
    b.event(T0 + 0.5, "verdict", success=False, valid=True, by="sim_user")
    b.event(T0 + 0.5, "end", reason="done", nodes_alive=[], nodes_dead=[])
    v = episode_metrics(b.write(), sa_spec()).values
    assert v["command_topic"] == "/panda_arm_controller/joint_trajectory"
    assert v["command_speed_peak_ratio"] == pytest.approx(1.0 / 2.0)   # VEL_LIMIT[0] = 2.0
    assert v["command_acc_peak_ratio"] == pytest.approx(0.5, abs=0.01)
    assert v["joint_speed_peak_ratio"] == pytest.approx(1.5)          # the jolt
    assert v["bad_samples_by_topic"]["/panda_arm_controller/joint_trajectory"] == 1


def test_limit_violations_and_nan_samples(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start").status(T0)
    for k, t in enumerate(ticks(T0, T0 + 0.5, 0.01)):
        qd = [0.0] * 7
        q = list(Q_REST)
        if k in (10, 11):
            qd[0] = 2.2            # 1.1 x the limit: a violation
        if k == 12:
            qd[0] = 2.05           # 1.025 x: within the 5 % tolerance
        if k == 20:
            q[1] = 1.75            # past the 1.7 rad limit
        if k == 30:
            q[2] = math.nan        # a broken sample: skipped, counted
        b.joints(t, q, qd)
    b.event(T0 + 0.5, "verdict", success=False, valid=True, by="sim_user")
    v = episode_metrics(b.write(), sa_spec()).values
    assert v["joint_limit_violations"] == 3
    assert v["joint_speed_peak_ratio"] == pytest.approx(1.1)
    assert v["joint_position_margin_min"] == pytest.approx(-0.05)
    assert v["bad_samples"] == 1 and v["bad_samples_by_topic"] == {"/joint_states": 1}


def _braking_arm(b: BagBuilder, stop_at: float, until: float, start_brake: float) -> None:
    """Joint 1 at 0.5 rad/s, decelerating linearly from ``start_brake`` to 0 at ``stop_at``."""
    for t in ticks(T0, until, 0.01):
        if t < start_brake:
            v = 0.5
        elif t < stop_at - 1e-9:
            v = max(0.5 * (stop_at - t) / (stop_at - start_brake), 0.03)
        else:
            v = 0.0
        b.joints(t, Q_REST, [v, 0, 0, 0, 0, 0, 0])


def test_watchdog_reaction_after_kill_node(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start").status(T0)
    for t in ticks(T0, T0 + 2.0, 0.1):
        b.twist(t)                                   # last command at t0 + 2.00
    b.event(T0 + 1.95, "fault", kind="kill_node", target="shared_autonomy_node", active=True,
            trigger="time", at_s=1.95)
    _braking_arm(b, stop_at=T0 + 2.12, until=T0 + 2.5, start_brake=T0 + 2.06)
    b.event(T0 + 2.5, "verdict", success=False, valid=True, by="sim_user")
    b.event(T0 + 2.5, "end", reason="done", nodes_alive=["executor_node"],
            nodes_dead=["shared_autonomy_node", "perception_node"])
    v = episode_metrics(b.write(), sa_spec()).values
    assert v["watchdog_reaction_ms"] == pytest.approx(120.0, abs=1.0)
    assert v["brake_from_kill_ms"] == pytest.approx(170.0, abs=1.0)
    assert v["faults_fired"] == ["kill_node"]
    assert v["nodes_dead"] == ["shared_autonomy_node", "perception_node"]
    assert v["nodes_crashed"] == 1          # perception_node died unasked
    assert v["end_reason"] == "done"
    [kill] = v["fault_outcomes"]
    assert kill["kind"] == "kill_node" and kill["target"] == "shared_autonomy_node"
    assert kill["at_s"] == pytest.approx(1.95) and kill["brake_ms"] == pytest.approx(170.0, abs=1)
    assert kill["window_s"] == pytest.approx(0.55)  # 1 s of settling, cut at the episode end
    assert kill["arm_speed_peak_ratio"] == pytest.approx(0.25) and kill["limit_violations"] == 0
    assert kill["safe"] is True


def test_fault_outcomes_window_executor_reaction_and_violations(tmp_path: Path) -> None:
    """stale_joint_states at t0+1 for 0.5 s (window to t0+2.5): the arm overshoots to 1.2 x
    joint 1's limit at t0+2.0 (inside) and again at t0+3.0 (outside); the executor holds and
    rejects 4 commands inside. joy_garbage at t0+3.5 for 0.2 s: the arm still, 7 rejected."""
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start")
    b.status(T0, rejections=2)
    b.status(T0 + 1.2, rejections=3, mode="holding")
    b.status(T0 + 2.4, rejections=6, mode="braking")
    b.status(T0 + 3.6, rejections=13, mode="idle")
    for t in ticks(T0, T0 + 4.5, 0.01):
        v = 2.4 if abs(t - (T0 + 2.0)) < 1e-6 or abs(t - (T0 + 3.0)) < 1e-6 else 0.0
        b.joints(t, Q_REST, [v, 0, 0, 0, 0, 0, 0])
    b.event(T0 + 1.0, "fault", kind="stale_joint_states", active=True, duration_s=0.5)
    b.event(T0 + 1.5, "fault", kind="stale_joint_states", active=False, duration_s=0.5)
    b.event(T0 + 3.5, "fault", kind="joy_garbage", active=True, duration_s=0.2, magnitude=50.0)
    b.event(T0 + 4.5, "verdict", success=False, valid=True, by="sim_user")
    b.event(T0 + 4.5, "end", reason="time_limit", nodes_alive=[], nodes_dead=[])
    stale, joy = episode_metrics(b.write(), sa_spec()).values["fault_outcomes"]
    assert stale["kind"] == "stale_joint_states" and stale["window_s"] == pytest.approx(1.5)
    assert stale["arm_speed_peak_ratio"] == pytest.approx(1.2)
    assert stale["limit_violations"] == 1 and stale["safe"] is False
    assert stale["executor_modes"] == ["holding", "braking"]
    assert stale["commands_rejected"] == 4        # 6 at the window's last status - 2 before it
    assert "brake_ms" not in stale
    assert joy["kind"] == "joy_garbage" and joy["at_s"] == pytest.approx(3.5)
    assert joy["arm_speed_peak_ratio"] == 0.0 and joy["safe"] is True
    assert joy["executor_modes"] == ["idle"] and joy["commands_rejected"] == 7


def test_no_watchdog_reaction_when_commands_go_on(tmp_path: Path) -> None:
    """Killing a node that does not command the arm: the twists go on, nothing to time."""
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start").status(T0)
    for t in ticks(T0, T0 + 2.5, 0.1):
        b.twist(t)
    b.event(T0 + 1.0, "fault", kind="kill_node", target="perception_node", active=True)
    _braking_arm(b, stop_at=T0 + 2.6, until=T0 + 2.7, start_brake=T0 + 2.55)
    b.event(T0 + 2.7, "verdict", success=False, valid=False, by="sim_user")
    m = episode_metrics(b.write(), sa_spec())
    assert m.values["watchdog_reaction_ms"] is None
    assert any("not commanding" in n for n in m.values["notes"])
    assert m.valid is False


def test_estop_reaction(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start").status(T0)
    b.estop(T0 + 0.5, on=False)                      # a release: not a stop
    b.estop(T0 + 1.0, on=True)
    _braking_arm(b, stop_at=T0 + 1.15, until=T0 + 1.5, start_brake=T0 + 1.0)
    b.event(T0 + 1.5, "verdict", success=False, valid=True, by="sim_user")
    v = episode_metrics(b.write(), sa_spec()).values
    assert v["estop_reaction_ms"] == pytest.approx(150.0, abs=1.0)
    assert v["watchdog_reaction_ms"] is None


# --------------------------------------------------------------------------- shared autonomy
BOWL = ObjectPose(id="yellow_bowl", label="bowl", color="yellow", position=(0.6, -0.25, 0.025),
                  orientation=(0, 0, 0, 1), size=(0.16, 0.16, 0.05))
BLOCKS = {c: (0.45, y, 0.02) for c, y in (("red", 0.1), ("green", 0.0), ("blue", -0.1))}


def _scene(moved: str, at: tuple[float, float, float], ee: tuple[float, float, float]) \
        -> GroundTruth:
    objs = [ObjectPose(id=f"{c}_block", label="block", color=c,
                       position=at if f"{c}_block" == moved else p, orientation=(0, 0, 0, 1),
                       size=(0.04, 0.04, 0.04)) for c, p in BLOCKS.items()]
    return GroundTruth(stamp=0.0, objects=[*objs, BOWL], ee_position=ee)


def _pick_place_bag(path: Path, moved: str) -> Path:
    """The ``moved`` block: rests until t0+1.0, is carried up to t0+1.4, lies in the bowl from
    t0+1.5, still gripped until the fingers open at t0+1.65: success from the t0+1.7 sample."""
    task_seed = 1
    b = BagBuilder(path)
    start = _scene(moved, BLOCKS[moved.split("_")[0]], (0.45, 0.0, 0.3))
    b.string("/ifagent/instruction", T0 - 0.5, "put the green block in the bowl")
    b.event(T0, "start", family="pick_place_bowl", task_seed=task_seed, split="heldout",
            objects_at_start=[o.model_dump() for o in start.objects])
    b.string("/ifagent/instruction", T0 + 0.5, "put the green block in the bowl")  # a resend
    b.string("/ifagent/instruction", T0 + 0.6, "a different instruction")
    for t in ticks(T0, T0 + 3.0, 0.1):
        if t < T0 + 1.0 - 1e-9:
            gt = start
        elif t < T0 + 1.5 - 1e-9:
            held = (0.55, -0.15, 0.15)
            gt = _scene(moved, held, held)
        else:
            inside = (0.6, -0.25, 0.03)
            gt = _scene(moved, inside, inside if t < T0 + 1.8 - 1e-9 else (0.6, -0.25, 0.2))
        if abs(t - (T0 + 2.0)) < 1e-9:
            gt.objects[0].position = (math.nan, 0.0, 0.0)  # a broken sample: skipped
        b.string("/sim/ground_truth", t, gt.model_copy(update={"stamp": t}))
    for t in ticks(T0, T0 + 3.0, 0.05):
        width = 0.04 if T0 + 1.0 - 1e-9 <= t < T0 + 1.65 - 1e-9 else 0.08
        b.joints(t, Q_REST, [0.0] * 7, width=width)
    for t in ticks(T0, T0 + 3.0, 0.1):
        on = t < T0 + 1.0 - 1e-9
        b.joy(t, 0.3 if on else 0.0, 0.4 if on else 0.0)   # |stick| 0.5 for 1 s
    b.string("/ifagent/correction", T0 + 0.7, {"type": "direction"})
    b.string("/ifagent/correction", T0 + 0.9, {"type": "direction"})
    b.string("/ifagent/sim_user/status", T0 + 2.9, {"success": True, "phase": "done"})
    b.event(T0 + 3.0, "end", reason="done", nodes_alive=[], nodes_dead=[])
    return b.write()


def test_shared_autonomy_success_from_ground_truth(tmp_path: Path) -> None:
    target = sample_task("pick_place_bowl", np.random.default_rng(1), "heldout").params
    assert target["block_id"] == "green_block"
    m = episode_metrics(_pick_place_bag(tmp_path / "bag", "green_block"), sa_spec())
    v = m.values
    assert m.success and v["success_source"] == "bag" and v["measured_success"]
    assert v["time_to_success_s"] == pytest.approx(1.7, abs=1e-6)
    assert v["success_at_end"] is True and v["sim_user_success"] is True
    assert v["stick_effort_s"] == pytest.approx(0.5, abs=1e-5)
    assert v["corrections"] == 2 and v["instruction_count"] == 2
    assert v["bad_samples_by_topic"] == {"/sim/ground_truth": 1}
    assert v["task_params"]["block_id"] == "green_block"
    ee = m.trajectory["ee_xyz"]
    assert ee[0] == pytest.approx([0.0, 0.45, 0.0, 0.3]) and len(ee) == 30  # one NaN sample out


def test_shared_autonomy_wrong_block_is_no_success(tmp_path: Path) -> None:
    m = episode_metrics(_pick_place_bag(tmp_path / "bag", "red_block"), sa_spec())
    assert not m.success and m.values["measured_success"] is False
    assert m.values["time_to_success_s"] is None
    assert m.values["sim_user_success"] is True   # the cross-check disagrees: both reported


# --------------------------------------------------------------------------- VLN
VLN_EPISODE = {"goal": [3.0, 5.0], "shortest_path_m": 5.0, "success_radius_m": 3.0}


def _vln_bag(path: Path, stop: bool, base_pose: bool = False) -> Path:
    b = BagBuilder(path)
    b.event(T0, "start", **VLN_EPISODE, instruction="go to the kitchen")
    path_xy = [(0, 0), (1, 0), (2, 0), (3, 0), (3, 1), (math.nan, 2), (3, 2), (3, 3), (3, 4)]
    for k, (x, y) in enumerate(path_xy):
        b.odom(T0 + 0.5 * k, x, y)
        if base_pose:
            b.odom(T0 + 0.5 * k, 0.0, 0.5 * k, "/sim/base_pose")
    b.string("/ifagent/nav/status", T0 + 1.0, {"stamp": T0 + 1.0, "mode": "navigating"})
    if stop:
        b.string("/ifagent/nav/status", T0 + 4.2, {"stamp": T0 + 4.2, "mode": "stopped"})
    b.event(T0 + 4.5, "end", reason="done", nodes_alive=[], nodes_dead=[])
    return b.write()


def test_vln_path_error_and_spl(tmp_path: Path) -> None:
    spec_ = spec("vln_houses", VLN_EPISODE)
    m = episode_metrics(_vln_bag(tmp_path / "a", stop=True), spec_)
    v = m.values
    assert v["pose_source"] == "/odom"
    assert v["path_length_m"] == pytest.approx(7.0)
    assert v["navigation_error_m"] == pytest.approx(1.0)
    assert m.success and v["oracle_success"] and v["planner_stopped"]
    assert v["spl"] == pytest.approx(5.0 / 7.0)
    assert v["time_to_success_s"] == pytest.approx(4.2)
    assert v["bad_samples"] == 1
    assert m.trajectory["base_xy"][-1] == pytest.approx([4.0, 3.0, 4.0])

    never = episode_metrics(_vln_bag(tmp_path / "b", stop=False), spec_)
    assert not never.success and never.values["spl"] == 0.0
    assert never.values["oracle_success"] is True and never.values["planner_stopped"] is False


def test_vln_prefers_the_true_pose(tmp_path: Path) -> None:
    v = episode_metrics(_vln_bag(tmp_path / "bag", stop=True, base_pose=True),
                        spec("vln_houses", VLN_EPISODE)).values
    assert v["pose_source"] == "/sim/base_pose"
    assert v["path_length_m"] == pytest.approx(4.0)        # (0, 0) -> (0, 4)
    assert v["navigation_error_m"] == pytest.approx(math.hypot(3.0, 1.0))


@pytest.mark.parametrize(("mode", "safe"), [("halted", True), ("asking", True),
                                            ("navigating", False)])
def test_odometry_jump_outcome_is_safe_only_if_the_base_stopped(
        tmp_path: Path, mode: str, safe: bool) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start", **VLN_EPISODE, instruction="go to the kitchen")
    for k in range(8):
        b.odom(T0 + 0.5 * k, 0.5 * k, 0.0)
    b.string("/ifagent/nav/status", T0 + 1.0, {"stamp": T0 + 1.0, "mode": "navigating"})
    b.event(T0 + 2.0, "fault", kind="odom_jump", active=True, magnitude=1.5)
    b.string("/ifagent/nav/status", T0 + 2.1, {"stamp": T0 + 2.1, "mode": mode})
    b.event(T0 + 3.5, "end", reason="done", nodes_alive=[], nodes_dead=[])
    [jump] = episode_metrics(b.write(), spec("vln_houses", VLN_EPISODE)).values["fault_outcomes"]
    assert jump["kind"] == "odom_jump" and jump["nav_modes"] == [mode]
    assert jump["arm_speed_peak_ratio"] is None  # no arm in a house
    assert jump["safe"] is safe


# --------------------------------------------------------------------------- perception
def test_perception_matching(tmp_path: Path) -> None:
    truth = [ObjectPose(id=i, label=lab, color=c, position=p, orientation=(0, 0, 0, 1),
                        size=(0.04, 0.04, 0.04))
             for i, lab, c, p in (("red_block", "block", "red", (0.4, 0.1, 0.02)),
                                  ("blue_block", "block", "blue", (0.4, -0.1, 0.02)),
                                  ("yellow_bowl", "bowl", "yellow", (0.6, -0.25, 0.025)))]

    def seen(i: int, dx: float, label: str | None = None) -> PerceivedObject:
        g = truth[i]
        return PerceivedObject(id=f"obj_{i}", label=label or g.label, color=g.color,
                               position=(g.position[0] + dx, g.position[1], g.position[2]),
                               size=g.size, confidence=0.9)

    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start")
    for t in ticks(T0, T0 + 1.0, 0.1):
        b.string("/sim/ground_truth", t, GroundTruth(stamp=t, objects=truth))
    ghost = PerceivedObject(id="obj_9", label="mug", color="red", position=(0.9, 0.5, 0.05),
                            size=(0.08, 0.08, 0.09), confidence=0.5)
    b.string("/ifagent/objects", T0 + 0.32, ObjectList(stamp=T0 + 0.3, objects=[
        seen(0, 0.01), seen(1, 0.02), ghost]))
    b.string("/ifagent/objects", T0 + 0.62, ObjectList(stamp=T0 + 0.6, objects=[
        seen(0, -0.01), seen(1, 0.01, "cylinder"), seen(2, 0.01)]))
    b.string("/ifagent/objects", T0 + 0.7, "{not json")
    b.event(T0 + 1.0, "end", reason="done", nodes_alive=[], nodes_dead=[])
    m = episode_metrics(b.write(), spec("perception", duration_s=1.0))
    v = m.values
    assert v["frames_evaluated"] == 2
    assert v["perception_recall"] == pytest.approx(5 / 6)
    assert v["perception_precision"] == pytest.approx(5 / 6)
    assert v["perception_position_error_m"] == pytest.approx(0.06 / 5)
    assert v["perception_label_accuracy"] == pytest.approx(4 / 5)
    assert m.success and v["bad_samples"] == 1


# --------------------------------------------------------------------------- bad input
def test_required_topics_cover_every_kind() -> None:
    assert set(TASKS) == {"shared_autonomy", "vln_houses", "perception"}
    for task in TASKS.values():
        assert task.required_topics and task.core_topic in task.required_topics
    assert "success" in get_task("shared_autonomy").required_topics["/sim/ground_truth"]


def test_missing_topics_name_topic_and_metrics(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "sa")
    b.event(T0, "start", family="pick_place_bowl", task_seed=1)
    for t in ticks(T0, T0 + 0.2, 0.1):
        b.joints(t, Q_REST, [0.0] * 7)
    with pytest.raises(MissingTopicsError) as err:
        episode_metrics(b.write(), sa_spec())
    assert err.value.missing == ["/sim/ground_truth"]
    msg = str(err.value)
    assert "/sim/ground_truth for success, time_to_success_s" in msg and "or a verdict" in msg

    # A verdict replaces what success needs, never the odometry a VLN episode is measured on.
    b = BagBuilder(tmp_path / "vln")
    b.event(T0, "start", **VLN_EPISODE).event(T0 + 1, "verdict", success=True, valid=True,
                                              by="nav")
    with pytest.raises(MissingTopicsError) as err:
        episode_metrics(b.write(), spec("vln_houses", VLN_EPISODE))
    assert err.value.missing == ["/odom"]
    assert "/odom (or /sim/base_pose, /sim/raw/odom) for path_length_m" in str(err.value)


def _small_bag(path: Path) -> Path:
    b = BagBuilder(path)
    b.event(T0, "start")
    for t in ticks(T0, T0 + 2.0, 0.01):
        b.joints(t, Q_REST, [0.1] * 7)
    return b.write()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "no_metadata", "no_dir"])
def test_damaged_bag_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    bag = _small_bag(tmp_path / "bag")
    mcap = next(bag.glob("*.mcap"))
    if damage == "truncate":
        data = mcap.read_bytes()
        mcap.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        mcap.write_bytes(np.random.default_rng(0).bytes(4096))
    elif damage == "no_metadata":
        (bag / "metadata.yaml").unlink()
    else:
        shutil.rmtree(bag)
    with pytest.raises(MetricsError) as err:
        episode_metrics(bag, sa_spec(), operator_verdict={"success": True, "valid": True})
    msg = str(err.value)
    assert str(bag) in msg
    if damage in ("truncate", "garbage"):
        assert mcap.name in msg and "unreadable" in msg
    elif damage == "no_metadata":
        assert "metadata.yaml" in msg


def test_other_episode_bag_is_refused(tmp_path: Path) -> None:
    b = BagBuilder(tmp_path / "bag")
    b.event(T0, "start", episode_id="other-0001").joints(T0, Q_REST, [0.0] * 7)
    with pytest.raises(MetricsError, match="other-0001"):
        episode_metrics(b.write(), sa_spec())
    assert EPISODE_ID != "other-0001"


def test_real_robot_bag_without_events(tmp_path: Path) -> None:
    """A plain `ros2 bag record` on the robot: fr3 joint names, no events, no ground truth."""
    fr3 = [n.replace("panda", "fr3") for n in ARM]
    b = BagBuilder(tmp_path / "bag")
    b.status(T0)
    for t in ticks(T0, T0 + 3.0, 0.01):
        b.joints(t, Q_REST, [0.5, 0, 0, 0, 0, 0, 0], arm=fr3,
                 fingers=["fr3_finger_joint1", "fr3_finger_joint2"])
    bag = b.write()
    with pytest.raises(MissingTopicsError) as err:
        episode_metrics(bag, sa_spec())
    assert set(err.value.missing) == {"/sim/ground_truth", "/ifagent/campaign/events"}
    assert "(start event)" in str(err.value) and "or a verdict" in str(err.value)

    m = episode_metrics(bag, sa_spec(), operator_verdict={"success": True, "valid": False})
    assert m.success and not m.valid and m.values["success_source"] == "operator"
    assert m.values["episode_time_s"] == pytest.approx(3.0)
    assert m.values["joint_speed_peak_ratio"] == pytest.approx(0.25)
    assert m.values["nodes_dead"] is None and m.values["time_to_success_s"] is None

    with pytest.raises(MetricsError, match="boolean"):
        episode_metrics(bag, sa_spec(), operator_verdict={"success": "yes"})
