"""graph_plan: the episode's nodes, overrides, relay routes and driver topics from a spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ifagent_ros.core.campaign.graph_plan import (
    COLOR,
    RECORDER_NODE,
    RELAY_MODULE,
    RELAY_NODE,
    GraphPlanError,
    plan_graph,
    read_sections,
)
from ifagent_ros.core.campaign.types import (
    EVENTS_TOPIC,
    FAULT_TOPIC,
    RAW_PREFIX,
    EpisodeSpec,
    FaultSpec,
    LinkImpairment,
    TaskSpec,
)

REPO = Path(__file__).resolve().parents[3]
SA_NODES = ["sim_node", "executor_node", "shared_autonomy_node", "correction_node",
            "sim_user_node"]
TABLETOP: dict[str, dict[str, Any]] = {"sim_node": {"scene": "tabletop_default.yaml"},
                                       "executor_node": {}, "shared_autonomy_node": {},
                                       "correction_node": {}, "sim_user_node": {},
                                       "perception_node": {}}
HOUSE: dict[str, dict[str, Any]] = {"house_sim_node": {}, "base_executor_node": {},
                                    "vln_planner_node": {}}


def spec(kind: str = "shared_autonomy", **kw: Any) -> EpisodeSpec:
    nodes = {"shared_autonomy": SA_NODES, "perception": ["sim_node", "perception_node"],
             "vln_houses": ["house_sim_node", "base_executor_node", "vln_planner_node"]}[kind]
    base: dict[str, Any] = {"campaign": "c", "episode_id": "x-0000", "condition": "x",
                            "index": 0, "seed": 7, "scene_seed": 3,
                            "task": TaskSpec(kind=kind), "params_file": "p.yaml",
                            "nodes": nodes}
    return EpisodeSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_sim_episode_runs_every_node_on_sim_time_with_a_recorder(tmp_path: Path) -> None:
    plan = plan_graph(spec(time_scale=2.5), TABLETOP, tmp_path)
    assert plan.nodes == [RECORDER_NODE, *SA_NODES]  # recorder first: up before the rest
    assert all(plan.overrides[n]["use_sim_time"] is True for n in plan.nodes)
    assert plan.overrides["sim_node"]["time_scale"] == 2.5
    assert plan.overrides["sim_node"]["realtime"] is True
    assert plan.overrides["executor_node"]["control_clock"] == "sim"  # steps on /clock
    rec = plan.overrides[RECORDER_NODE]
    assert rec["output"] == str(tmp_path / "bag") and rec["discovery_period_s"] <= 0.5
    assert "topics" not in rec  # every topic
    assert plan.routes == [] and plan.registry == {} and RELAY_NODE not in plan.nodes
    assert plan.key_topics == [EVENTS_TOPIC, "/clock", "/joint_states"]
    assert plan.driver.start == "/clock" and plan.driver.joint_states == "/joint_states"


def test_spec_overrides_are_kept_and_not_mutated(tmp_path: Path) -> None:
    s = spec(overrides={"sim_user_node": {"skill": 0.7}, "sim_node": {"seed": 3}})
    plan = plan_graph(s, TABLETOP, tmp_path)
    assert plan.overrides["sim_user_node"]["skill"] == 0.7
    assert plan.overrides["sim_node"]["seed"] == 3
    assert s.overrides == {"sim_user_node": {"skill": 0.7}, "sim_node": {"seed": 3}}


def test_links_remap_the_producers_and_route_through_the_relay(tmp_path: Path) -> None:
    links = {"/joint_states": LinkImpairment(latency_s=0.02, jitter_s=0.005, drop_rate=0.1),
             "/joy": LinkImpairment(latency_s=0.01),
             "/ifagent/speech/text": LinkImpairment(word_error_rate=0.05)}
    plan = plan_graph(spec(links=links), TABLETOP, tmp_path)
    assert plan.nodes == [RECORDER_NODE, RELAY_NODE, *SA_NODES]
    assert plan.registry == {RELAY_NODE: RELAY_MODULE}
    ov = plan.overrides
    assert ov["sim_node"]["joint_states_topic"] == RAW_PREFIX + "/joint_states"
    assert ov["sim_user_node"]["joy_topic"] == RAW_PREFIX + "/joy"
    assert ov["sim_user_node"]["speech_topic"] == RAW_PREFIX + "/ifagent/speech/text"
    r = ov[RELAY_NODE]
    assert r["routes.inputs"] == [RAW_PREFIX + t for t in links]
    assert r["routes.outputs"] == list(links)
    assert r["routes.types"] == ["sensor_msgs/msg/JointState", "sensor_msgs/msg/Joy",
                                 "std_msgs/msg/String"]
    assert r["routes.latency_s"] == [0.02, 0.01, 0.0]
    assert r["routes.jitter_s"] == [0.005, 0.0, 0.0]
    assert r["routes.drop_rate"] == [0.1, 0.0, 0.0]
    assert r["routes.word_error_rate"] == [0.0, 0.0, 0.05]
    assert all(isinstance(v, float) for v in r["routes.latency_s"])  # typed ROS double arrays
    assert r["seed"] == 7 and r["fault_topic"] == FAULT_TOPIC and r["joy_topic"] == "/joy"
    assert r["use_sim_time"] is True
    # Latency is in sim seconds; the relay times on the steady clock, so it gets wall seconds.
    fast = plan_graph(spec(links=links, time_scale=4.0), TABLETOP, tmp_path).overrides[RELAY_NODE]
    assert fast["routes.latency_s"] == [0.005, 0.0025, 0.0]
    assert fast["routes.jitter_s"] == [0.00125, 0.0, 0.0]
    assert fast["routes.drop_rate"] == [0.1, 0.0, 0.0]
    # The driver watches the producer's (true) joint states for motion.
    assert plan.driver.joint_states == RAW_PREFIX + "/joint_states"
    assert plan.source("/joy") == RAW_PREFIX + "/joy" and plan.source("/clock") == "/clock"


@pytest.mark.parametrize(("kind", "topics"), [
    ("freeze_camera", ["/camera/color/image_raw", "/camera/depth/image_raw"]),
    ("stale_joint_states", ["/joint_states"]),
])
def test_relay_faults_route_their_topics(tmp_path: Path, kind: str, topics: list[str]) -> None:
    plan = plan_graph(spec(faults=[FaultSpec(kind=kind, at_s=2.0)]), TABLETOP,  # type: ignore[arg-type]
                      tmp_path)
    assert [r.topic for r in plan.routes] == topics
    assert all(r.link == LinkImpairment() for r in plan.routes)  # no impairment, only the fault
    assert RELAY_NODE in plan.nodes


def test_a_link_and_a_fault_on_one_topic_make_one_route(tmp_path: Path) -> None:
    link = LinkImpairment(latency_s=0.05)
    plan = plan_graph(spec(links={"/joint_states": link},
                           faults=[FaultSpec(kind="stale_joint_states")]), TABLETOP, tmp_path)
    assert [(r.topic, r.link) for r in plan.routes] == [("/joint_states", link)]


def test_joy_garbage_needs_the_relay_but_no_route(tmp_path: Path) -> None:
    plan = plan_graph(spec(faults=[FaultSpec(kind="joy_garbage", magnitude=50.0)]), TABLETOP,
                      tmp_path)
    assert RELAY_NODE in plan.nodes and plan.routes == []
    assert not any(k.startswith("routes.") for k in plan.overrides[RELAY_NODE])  # no [] params


def test_kill_node_needs_no_relay_but_a_target_in_the_graph(tmp_path: Path) -> None:
    plan = plan_graph(spec(faults=[FaultSpec(kind="kill_node", target="shared_autonomy_node")]),
                      TABLETOP, tmp_path)
    assert RELAY_NODE not in plan.nodes
    with pytest.raises(GraphPlanError, match="teleop_node.*not in the graph"):
        plan_graph(spec(faults=[FaultSpec(kind="kill_node", target="teleop_node")]), TABLETOP,
                   tmp_path)


def test_odom_jump_routes_odom_in_the_house_and_fails_on_the_tabletop(tmp_path: Path) -> None:
    vln = spec("vln_houses", faults=[FaultSpec(kind="odom_jump", magnitude=1.0)])
    plan = plan_graph(vln, HOUSE, tmp_path)
    assert plan.world == "house"
    assert plan.overrides["house_sim_node"]["odom_topic"] == RAW_PREFIX + "/odom"
    assert plan.overrides["house_sim_node"]["time_scale"] == 1.0
    assert "sim_node" not in plan.overrides
    assert plan.driver.odom == RAW_PREFIX + "/odom"
    assert plan.driver.base_pose == "/sim/base_pose"
    assert plan.key_topics == [EVENTS_TOPIC, "/clock", "/odom"]
    with pytest.raises(GraphPlanError, match=r"fault odom_jump on /odom.*world house.*tabletop"):
        plan_graph(spec(faults=[FaultSpec(kind="odom_jump", magnitude=1.0)]), TABLETOP, tmp_path)


def test_the_world_is_the_one_the_graphs_sim_node_runs(tmp_path: Path) -> None:
    s = spec("vln_houses", links={"/ifagent/objects": LinkImpairment(drop_rate=0.2),
                                  COLOR: LinkImpairment(latency_s=0.1)})
    plan = plan_graph(s, {}, tmp_path)
    assert plan.world == "house"
    assert plan.overrides["house_sim_node"]["objects.topic"] == RAW_PREFIX + "/ifagent/objects"
    assert plan.overrides["house_sim_node"]["camera.color_topic"] == RAW_PREFIX + COLOR
    assert plan_graph(spec("perception"), TABLETOP, tmp_path).world == "tabletop"
    with pytest.raises(GraphPlanError, match=r"/joint_states.*sim_node publishes it, which runs "
                                             r"world tabletop; this is world 'house'"):
        plan_graph(spec("vln_houses", links={"/joint_states": LinkImpairment()}), HOUSE,
                   tmp_path)
    with pytest.raises(GraphPlanError, match="runs sim_node and house_sim_node: one sim node"):
        plan_graph(spec(nodes=["sim_node", "house_sim_node"]), {}, tmp_path)


def test_a_topic_without_a_producer_is_a_clear_error(tmp_path: Path) -> None:
    # /ifagent/objects on the tabletop comes from perception_node, which the relay cannot front
    with pytest.raises(GraphPlanError, match=r"link on /ifagent/objects.*world house"):
        plan_graph(spec(links={"/ifagent/objects": LinkImpairment(latency_s=0.1)}), TABLETOP,
                   tmp_path)
    with pytest.raises(GraphPlanError, match=r"/joy.*sim_user_node is not in the graph"):
        plan_graph(spec("perception", links={"/joy": LinkImpairment()}), TABLETOP, tmp_path)
    with pytest.raises(GraphPlanError, match="no known producer for /cmd_vel"):
        plan_graph(spec(links={"/cmd_vel": LinkImpairment()}), TABLETOP, tmp_path)


def test_freeze_camera_with_the_camera_off_is_an_error(tmp_path: Path) -> None:
    s = spec(overrides={"sim_node": {"camera.enabled": False}},
             faults=[FaultSpec(kind="freeze_camera")])
    with pytest.raises(GraphPlanError, match=r"fault freeze_camera.*camera is disabled"):
        plan_graph(s, TABLETOP, tmp_path)


def test_a_producer_already_remapped_elsewhere_is_an_error(tmp_path: Path) -> None:
    sections = {**TABLETOP, "sim_node": {"joint_states_topic": "/arm/joint_states"}}
    with pytest.raises(GraphPlanError, match="publishes it as '/arm/joint_states'"):
        plan_graph(spec(links={"/joint_states": LinkImpairment()}), sections, tmp_path)


def test_real_mode_runs_on_the_wall_clock(tmp_path: Path) -> None:
    plan = plan_graph(spec(real=True, time_scale=3.0), TABLETOP, tmp_path)
    assert all(plan.overrides[n]["use_sim_time"] is False for n in plan.nodes)
    assert "time_scale" not in plan.overrides["sim_node"]
    assert "control_clock" not in plan.overrides["executor_node"]  # steady, as on a robot
    assert plan.driver.start == "/joint_states"
    assert "/clock" not in plan.key_topics
    with pytest.raises(GraphPlanError, match="joy_garbage"):
        plan_graph(spec(real=True, faults=[FaultSpec(kind="joy_garbage", magnitude=5.0)]),
                   TABLETOP, tmp_path)


def test_record_false_records_what_the_metrics_read_and_record_topics_keep_the_events(
        tmp_path: Path) -> None:
    from ifagent_ros.core.campaign.metrics import METRIC_TOPICS

    plan = plan_graph(spec(record=False), TABLETOP, tmp_path)
    topics = plan.overrides[RECORDER_NODE]["topics"]
    assert plan.nodes[0] == RECORDER_NODE and set(topics) == set(METRIC_TOPICS)
    assert {"/joint_states", "/sim/ground_truth", EVENTS_TOPIC} <= set(topics)
    assert not any(t.startswith("/camera") for t in topics)
    assert plan.key_topics == [EVENTS_TOPIC, "/joint_states"]
    plan = plan_graph(spec(record_topics=["/joint_states", "/sim/*"]), TABLETOP, tmp_path)
    assert plan.overrides[RECORDER_NODE]["topics"] == ["/joint_states", "/sim/*", EVENTS_TOPIC]
    assert plan.key_topics == [EVENTS_TOPIC, "/joint_states"]  # /clock is not recorded


def test_bad_node_lists_are_errors(tmp_path: Path) -> None:
    with pytest.raises(GraphPlanError, match="teleop_node.*not in the graph"):
        plan_graph(spec(overrides={"teleop_node": {"deadband": 0.2}}), TABLETOP, tmp_path)
    with pytest.raises(GraphPlanError, match="must not list recorder_node"):
        plan_graph(spec(nodes=["sim_node", "recorder_node"]), TABLETOP, tmp_path)
    with pytest.raises(GraphPlanError, match="no nodes"):
        plan_graph(spec(nodes=[]), {}, tmp_path)


def test_empty_node_list_means_every_section_of_the_params_file(tmp_path: Path) -> None:
    sections = read_sections(REPO / "config" / "nav.yaml")
    plan = plan_graph(spec("vln_houses", nodes=[]), sections, tmp_path)
    assert plan.nodes == [RECORDER_NODE, "house_sim_node", "base_executor_node",
                          "vln_planner_node"]
    assert plan.world == "house"
