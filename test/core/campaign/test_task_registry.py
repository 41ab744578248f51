"""The campaign task registry: a new task is one module (here: the ``ArmReachTask`` class below)
plus one registry line (``monkeypatch.setitem(TASKS, ...)``, in the code a line in
``core/campaign/tasks/__init__.py``), and every part of a campaign then takes it: the spec
schema, the scenario loader and its checks, the expansion, randomization, the graph plan, the
episode driver and the bag metrics. Also: the registry's errors, and that nothing outside
``core/campaign/tasks`` switches on the task kind."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from pydantic import ValidationError

sys.path.insert(0, str(Path(__file__).parent))

from bag_factory import EPISODE_ID, BagBuilder  # noqa: E402

from ifagent_ros.core.campaign import randomization as rnd  # noqa: E402
from ifagent_ros.core.campaign.episode_driver import EpisodeDriver  # noqa: E402
from ifagent_ros.core.campaign.graph_plan import plan_graph  # noqa: E402
from ifagent_ros.core.campaign.metrics import MissingTopicsError, episode_metrics  # noqa: E402
from ifagent_ros.core.campaign.metrics_bag import (  # noqa: E402
    JOINT_STATES,
    Joints,
    Recording,
    TaskResult,
    Timeline,
)
from ifagent_ros.core.campaign.scenario import ScenarioError, expand, load_scenario  # noqa: E402
from ifagent_ros.core.campaign.tasks import TASKS, CampaignTask, get_task  # noqa: E402
from ifagent_ros.core.campaign.tasks.base import (  # noqa: E402
    BaseTask,
    CheckContext,
    DriverView,
    Overrides,
    check_duration,
)
from ifagent_ros.core.campaign.types import EpisodeSpec, TaskSpec  # noqa: E402

PACKAGE_ROOT = Path(__file__).resolve().parents[3]


# ---- the example task: one module's worth ------------------------------------------------------
class ArmReachTask(BaseTask):
    """``arm_reach``: a scripted gamepad moves the arm for ``task.duration_s``; success when some
    arm joint got ``reach_rad`` away from where it started."""

    kind = "arm_reach"
    world = "tabletop"
    conditions = {"still": None, "scripted": None}
    task_keys = frozenset({"duration_s"})
    fault_kinds = ("kill_node", "stale_joint_states")
    fault_triggers = ("time",)
    factors = ("latency_s", "drop_rate")
    link_topics = ("/joint_states",)
    key_topics = ("/joint_states",)
    moves: Literal["arm", "base", "nothing"] = "arm"
    required_topics = {JOINT_STATES: ["success", "reach_rad"]}
    core_topic = JOINT_STATES
    success_needs = f"{JOINT_STATES}"
    expected_topics = frozenset({JOINT_STATES})

    def nodes(self, condition: str) -> list[str]:
        pad = ["scripted_gamepad_node"] if condition == "scripted" else []
        return ["sim_node", "executor_node", *pad]

    def check(self, sc: Any, ctx: CheckContext) -> None:
        check_duration(sc, ctx, "arm_reach")

    def instance(self, sc: Any, condition: str, index: int, scene_seed: int,
                 worlds: Any) -> tuple[TaskSpec, Overrides]:
        return (TaskSpec(kind=self.kind, duration_s=sc.task.duration_s,
                         episode={"reach_rad": 0.2}),
                {"sim_node": {"seed": scene_seed}})

    def validate_spec(self, spec: EpisodeSpec) -> None:
        if "reach_rad" not in spec.task.episode:
            raise ValueError(f"arm_reach episode {spec.episode_id}: task.episode lacks reach_rad")

    def start_detail(self, d: DriverView) -> dict[str, Any]:
        return {"reach_rad": d.spec.task.episode["reach_rad"]}

    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None:
        if t >= float(d.spec.task.duration_s or 0.0):
            return {"success": None, "valid": True, "by": self.kind}
        return None

    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
        if joints is None or not len(joints.t) or tl.start is None:
            return TaskResult({"reach_rad": None}, None, "no arm samples or no start event")
        w = joints.window(tl.t0, tl.t_end)
        reach = float(np.max(np.abs(w.q - w.q[0])))
        return TaskResult({"reach_rad": reach}, reach >= float(tl.start["reach_rad"]))


@pytest.fixture
def arm_reach(monkeypatch: pytest.MonkeyPatch) -> ArmReachTask:
    task = ArmReachTask()
    monkeypatch.setitem(TASKS, task.kind, task)  # the one registry line
    return task


SCENARIO = """\
name: reach
params_file: config/sim.yaml
task: {kind: arm_reach, duration_s: 2.0}
conditions:
  still: {}
  scripted: {}
episodes: 2
seed: 10
time_limit_s: 5.0
randomization:
  latency_s: {min: 0.0, max: 0.01}
faults:
  - {kind: stale_joint_states, at_s: 1.0, duration_s: 0.5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reach.yaml"
    path.write_text(textwrap.dedent(text))
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "sim.yaml").write_text(
        (PACKAGE_ROOT / "config" / "sim.yaml").read_text())
    return path


# ---- the registry ----------------------------------------------------------------------------
def test_registry_holds_the_three_tasks_behind_the_protocol() -> None:
    assert list(TASKS) == ["shared_autonomy", "vln_houses", "perception"]
    for kind, task in TASKS.items():
        assert isinstance(task, CampaignTask) and task.kind == kind and get_task(kind) is task
        assert task.conditions and task.core_topic in task.required_topics
        assert set(task.factors) <= set(rnd.FACTORS)


def test_an_unknown_task_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown campaign task 'arm_reach'; known tasks: "
                                         "shared_autonomy, vln_houses, perception"):
        get_task("arm_reach")
    with pytest.raises(ValidationError, match="unknown campaign task 'arm_reach'"):
        TaskSpec(kind="arm_reach")


def test_no_kind_switch_outside_the_tasks() -> None:
    """The task kinds are named only in core/campaign/tasks: no table keyed by a kind and no
    comparison with one anywhere else in the campaign code."""
    files = [*(PACKAGE_ROOT / "ifagent_ros" / "core" / "campaign").rglob("*.py"),
             PACKAGE_ROOT / "ifagent_ros" / "nodes" / "campaign_driver_node.py",
             PACKAGE_ROOT / "ifagent_ros" / "campaign_episode.py"]
    kinds = "|".join(TASKS)
    pattern = re.compile(rf"""["']({kinds})["']""")
    found = [f"{p.relative_to(PACKAGE_ROOT)}:{n}: {line.strip()}"
             for p in files if "tasks" not in p.relative_to(PACKAGE_ROOT).parts
             for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


# ---- a new task goes through every part of a campaign -------------------------------------------
def test_a_new_task_loads_checks_and_expands(tmp_path: Path, arm_reach: ArmReachTask) -> None:
    sc = load_scenario(write(tmp_path, SCENARIO))
    specs = expand(sc)
    assert [s.episode_id for s in specs] == ["still-0000", "still-0001", "scripted-0000",
                                             "scripted-0001"]
    s = specs[2]
    assert s.task.kind == "arm_reach" and s.task.episode == {"reach_rad": 0.2}
    assert s.nodes == ["sim_node", "executor_node", "scripted_gamepad_node"]
    assert s.overrides["sim_node"]["seed"] == 10 and s.scene_seed == 10
    assert set(s.links) == {"/joint_states"}  # its link topics
    assert [f.kind for f in s.faults] == ["stale_joint_states"]


@pytest.mark.parametrize("change, message", [
    ("task: {kind: arm_reach, duration_s: 2.0}", None),
    ("duration_s: 2.0}", "duration_s: 9.0}", ),
    ("  still: {}\n", "  stil: {}\n"),
    ("latency_s: {min: 0.0, max: 0.01}", "light_scale: {min: 0.9, max: 1.1}"),
    ("{kind: stale_joint_states, at_s: 1.0,", "{kind: freeze_camera, at_s: 1.0,"),
    ("duration_s: 0.5}", "duration_s: 0.5, trigger: motion}"),
    ("duration_s: 2.0}", "duration_s: 2.0, families: [push]}"),
])
def test_a_new_task_sets_what_its_scenario_may_say(tmp_path: Path, arm_reach: ArmReachTask,
                                                   change: str, message: str | None) -> None:
    expected = {
        "duration_s: 9.0}": "task.duration_s 9 exceeds time_limit_s 5",
        "  stil: {}\n": "condition 'stil' is not one task kind 'arm_reach' knows (did you mean "
                        "'still'?); known: still, scripted",
        "light_scale: {min: 0.9, max: 1.1}": "randomization factor 'light_scale' does not apply "
                                             "to task kind 'arm_reach'",
        "{kind: freeze_camera, at_s: 1.0,": "fault 'freeze_camera' does not apply to task kind "
                                            "'arm_reach' (allowed: kill_node, stale_joint_states)",
        "duration_s: 0.5, trigger: motion}": "fault trigger 'motion' does not apply to task kind "
                                             "'arm_reach' (allowed: time)",
        "duration_s: 2.0, families: [push]}": "task.families applies to task kind "
                                              "'shared_autonomy' only, not 'arm_reach'",
    }
    if message is None:
        load_scenario(write(tmp_path, SCENARIO))  # the example itself is fine
        return
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, SCENARIO.replace(change, message, 1)))
    assert expected[message] in str(info.value)


def test_a_new_task_runs_through_graph_and_driver(tmp_path: Path, arm_reach: ArmReachTask) -> None:
    spec = expand(load_scenario(write(tmp_path, SCENARIO)))[2]
    plan = plan_graph(spec, {}, tmp_path)
    assert plan.key_topics[-1] == "/joint_states"
    assert plan.driver.instruction == "/ifagent/instruction"  # the default: the person's topic
    d = EpisodeDriver(spec)
    d.observe_graph_up()
    (start,) = [a.payload.detail for a in d.step(1.0) if a.kind == "event"]
    assert start["reach_rad"] == 0.2 and start["task"]["kind"] == "arm_reach"
    assert not [a for a in d.step(2.9) if a.kind == "end"]
    acts = d.step(3.0)  # duration_s 2.0 after the start
    assert [a.payload for a in acts if a.kind == "end"] == ["done"]
    (verdict,) = [a.payload.detail for a in acts
                  if a.kind == "event" and a.payload.event == "verdict"]
    assert verdict == {"success": None, "valid": True, "by": "arm_reach"}
    bad = spec.model_copy(update={"task": TaskSpec(kind="arm_reach")})
    with pytest.raises(ValueError, match="lacks reach_rad"):
        EpisodeDriver(bad)


def test_a_new_task_is_measured_from_its_bag(tmp_path: Path, arm_reach: ArmReachTask) -> None:
    spec = EpisodeSpec(campaign="test", episode_id=EPISODE_ID, condition="scripted", index=0,
                       seed=1, scene_seed=1, params_file="/nonexistent/params.yaml",
                       task=TaskSpec(kind="arm_reach", duration_s=1.0,
                                     episode={"reach_rad": 0.2}))
    b = BagBuilder(tmp_path / "bag")
    b.event(100.0, "start", reach_rad=0.2)
    for k in range(11):
        q = [0.0, 0.03 * k, 0.0, -1.5, 0.0, 1.8, 0.0]
        b.joints(100.0 + 0.1 * k, q, [0.0, 0.3, 0.0, 0.0, 0.0, 0.0, 0.0])
    b.event(101.0, "end", reason="done")
    m = episode_metrics(b.write(), spec)
    assert m.success is True and m.values["success_source"] == "bag"
    assert m.values["reach_rad"] == pytest.approx(0.3)
    assert m.values["joint_speed_peak_ratio"] is None  # common metrics still run (no limits)
    empty = BagBuilder(tmp_path / "empty")
    empty.event(100.0, "start", reach_rad=0.2).event(101.0, "end", reason="done")
    with pytest.raises(MissingTopicsError, match="lacks what the arm_reach metrics need: "
                                                 "/joint_states"):
        episode_metrics(empty.write(), spec)
