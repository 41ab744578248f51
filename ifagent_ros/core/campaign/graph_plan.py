"""What graph one campaign episode runs: nodes, parameter overrides, relay routes, driver topics.

ROS-free and pure (the params file is read by :func:`read_sections`, the rest is a function of
the spec and those sections), so every rule is unit-tested without DDS:

- the nodes: ``spec.nodes`` (``[]``: every section of the params file) plus ``recorder_node``
  (every topic, ``spec.record_topics``, or with ``record: false`` only the topics the metrics
  read) and ``fault_relay_node`` when a link or a relay fault needs
  it; the driver (``campaign_driver_node``) is built by the episode process itself;
- the world is the one the graph's sim node runs (:data:`SIM_NODES`: ``sim_node`` the
  tabletop, ``house_sim_node`` the house; ``"none"`` without one);
- every node runs on sim time (``use_sim_time: true``) unless ``spec.real``; the sim node runs
  ``realtime: true`` at ``spec.time_scale``, executor_node steps on /clock (``control_clock:
  sim``) and link latency/jitter (sim seconds) reach the relay, which times on the steady clock,
  divided by ``time_scale``;
- every impaired topic (``spec.links``) and every topic a fault breaks is published by its
  producer under ``RAW_PREFIX + name`` (a parameter remap, :data:`PRODUCER_PARAMS`) and
  republished on the standard name by the relay, which applies the impairment and the faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ifagent_ros.core.campaign.tasks import get_task
from ifagent_ros.core.campaign.types import (
    EVENTS_TOPIC,
    FAULT_TOPIC,
    RAW_PREFIX,
    SIM_NODES,
    EpisodeSpec,
    LinkImpairment,
)

__all__ = [
    "DRIVER_NODE", "FAULT_TOPICS", "MESSAGE_TYPES", "PRODUCER_PARAMS", "RECORDER_NODE",
    "RELAY_FAULTS", "RELAY_MODULE", "RELAY_NODE", "GraphPlan", "GraphPlanError", "Route",
    "plan_graph", "raw_topic", "read_sections",
]

RELAY_NODE = "fault_relay_node"
RELAY_MODULE = "ifagent_ros.nodes.fault_relay_node"
RECORDER_NODE = "recorder_node"
DRIVER_NODE = "campaign_driver_node"
RECORDER_DISCOVERY_S = 0.2  # small: the recorder must find every topic before the start event

COLOR, DEPTH = "/camera/color/image_raw", "/camera/depth/image_raw"
SIM = "sim"  # a producer: the graph's sim node, whichever world it runs
# standard topic -> (producer node, its parameter naming the topic, sim worlds where it exists;
# () = wherever the producer runs).
PRODUCER_PARAMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "/joint_states": (SIM_NODES["tabletop"], "joint_states_topic", ("tabletop",)),
    COLOR: (SIM, "camera.color_topic", ()),
    DEPTH: (SIM, "camera.depth_topic", ()),
    "/odom": (SIM_NODES["house"], "odom_topic", ("house",)),
    "/ifagent/objects": (SIM_NODES["house"], "objects.topic", ("house",)),
    "/joy": ("sim_user_node", "joy_topic", ()),
    "/ifagent/speech/text": ("sim_user_node", "speech_topic", ()),
}
MESSAGE_TYPES: dict[str, str] = {
    "/joint_states": "sensor_msgs/msg/JointState",
    COLOR: "sensor_msgs/msg/Image",
    DEPTH: "sensor_msgs/msg/Image",
    "/odom": "nav_msgs/msg/Odometry",
    "/ifagent/objects": "std_msgs/msg/String",
    "/joy": "sensor_msgs/msg/Joy",
    "/ifagent/speech/text": "std_msgs/msg/String",
}
# fault kind -> the standard topics the relay must carry to apply it. joy_garbage publishes on
# /joy itself (next to the person's pad), kill_node needs no relay.
FAULT_TOPICS: dict[str, tuple[str, ...]] = {
    "freeze_camera": (COLOR, DEPTH),
    "stale_joint_states": ("/joint_states",),
    "odom_jump": ("/odom",),
    "joy_garbage": (),
}
RELAY_FAULTS = frozenset(FAULT_TOPICS)
ARM_JOINTS = [f"panda_joint{i}" for i in range(1, 8)]


class GraphPlanError(ValueError):
    """The episode's graph cannot be built as the spec asks; the message says why."""


@dataclass(frozen=True)
class Route:
    """One topic through the relay: producer -> ``raw`` -> relay -> ``topic``."""

    topic: str
    raw: str
    msgtype: str
    producer: str
    param: str
    link: LinkImpairment


@dataclass(frozen=True)
class DriverTopics:
    """Where the episode driver listens and talks (raw names where a topic is relayed, so motion
    triggers and the final pose see the truth, not the impaired stream)."""

    start: str                      # first message: the graph is up (/clock in sim)
    joint_states: str
    odom: str
    base_pose: str                  # true pose (sim house), "" on a real robot
    ground_truth: str
    sim_user_status: str
    nav_status: str
    instruction: str
    camera: str                     # for the snapshot: what the robot saw
    arm_joints: tuple[str, ...]


@dataclass
class GraphPlan:
    nodes: list[str]                                  # GraphHandle(nodes=...), in start order
    overrides: dict[str, dict[str, Any]]              # GraphHandle(overrides=...)
    registry: dict[str, str]                          # extra NODE_REGISTRY entries (the relay)
    routes: list[Route]
    world: str                                        # the sim node's world (tabletop | house)
    driver: DriverTopics
    key_topics: list[str] = field(default_factory=list)  # recorder must have them before start

    def source(self, topic: str) -> str:
        """The name the producer publishes ``topic`` under (raw when relayed)."""
        return next((r.raw for r in self.routes if r.topic == topic), topic)


def raw_topic(topic: str) -> str:
    return RAW_PREFIX + topic


def read_sections(params_file: str | Path) -> dict[str, dict[str, Any]]:
    """{node: {dotted param: value}} of a params file, ``/**`` merged into every node."""
    from ifagent_ros.params_file import load_params_file

    return load_params_file(params_file)


def _value(node: str, param: str, default: Any, overrides: dict[str, dict[str, Any]],
           sections: dict[str, dict[str, Any]]) -> Any:
    if param in overrides.get(node, {}):
        return overrides[node][param]
    return sections.get(node, {}).get(param, default)


def _producer(topic: str, world: str) -> tuple[str, str, tuple[str, ...]]:
    """(producer node, its topic parameter, worlds) of a relayable ``topic`` in ``world``."""
    producer, param, worlds = PRODUCER_PARAMS[topic]
    return SIM_NODES.get(world, "a sim node") if producer == SIM else producer, param, worlds


def _world(nodes: list[str]) -> str:
    """The world the graph's sim node runs ("none" without one)."""
    worlds = [w for w, node in SIM_NODES.items() if node in nodes]
    if len(worlds) > 1:
        raise GraphPlanError(f"the graph runs {' and '.join(SIM_NODES[w] for w in worlds)}: "
                             "one sim node (one world) per episode")
    return worlds[0] if worlds else "none"


def _producer_problem(topic: str, nodes: list[str], world: str,
                      overrides: dict[str, dict[str, Any]],
                      sections: dict[str, dict[str, Any]]) -> str | None:
    """Why ``topic`` has no producer the relay can sit behind, or None."""
    if topic not in PRODUCER_PARAMS:
        return (f"no known producer for {topic}; relayed topics: "
                f"{', '.join(sorted(PRODUCER_PARAMS))}")
    producer, param, worlds = _producer(topic, world)
    if worlds and world != "none" and world not in worlds:
        return (f"{producer} publishes it, which runs world {'/'.join(worlds)}; this is world "
                f"{world!r} ({SIM_NODES[world]})")
    if producer not in nodes:
        return f"its producer {producer} is not in the graph ({', '.join(nodes)})"
    if topic in (COLOR, DEPTH) and not _value(producer, "camera.enabled", True, overrides,
                                              sections):
        return f"{producer}'s camera is disabled (camera.enabled: false)"
    current = _value(producer, param, topic, overrides, sections)
    if current != topic:
        return f"{producer} publishes it as {current!r} ({param}), not {topic!r}"
    return None


def plan_graph(spec: EpisodeSpec, sections: dict[str, dict[str, Any]],
               episode_dir: str | Path) -> GraphPlan:
    """The graph of ``spec`` given its params file's ``sections`` (:func:`read_sections`)."""
    sim = not spec.real
    nodes = list(dict.fromkeys(spec.nodes or sections))
    if not nodes:
        raise GraphPlanError(f"episode {spec.episode_id}: no nodes (spec.nodes is empty and "
                             f"{spec.params_file} has no node sections)")
    for reserved in (RELAY_NODE, RECORDER_NODE, DRIVER_NODE):
        if reserved in nodes:
            raise GraphPlanError(f"spec.nodes must not list {reserved}: the episode adds it")
    extra = set(spec.overrides) - set(nodes)
    if extra:
        raise GraphPlanError(f"overrides for node(s) {', '.join(sorted(extra))}, which are not "
                             f"in the graph ({', '.join(nodes)})")
    overrides = {n: dict(p) for n, p in spec.overrides.items()}
    world = _world(nodes)
    sim_node = SIM_NODES.get(world, "")

    # The topics to relay: impaired links, then what relay faults break.
    wanted: dict[str, LinkImpairment] = dict(spec.links)
    for f in spec.faults:
        if f.kind == "kill_node":
            if f.target not in nodes:
                raise GraphPlanError(f"fault kill_node: target {f.target!r} is not in the graph "
                                     f"({', '.join(nodes)})")
            continue
        for topic in FAULT_TOPICS[f.kind]:
            wanted.setdefault(topic, LinkImpairment())
    routes: list[Route] = []
    for topic, link in wanted.items():
        why = _producer_problem(topic, nodes, world, overrides, sections)
        if why is not None:
            users = [f.kind for f in spec.faults if topic in FAULT_TOPICS.get(f.kind, ())]
            what = f"fault {users[0]}" if users and topic not in spec.links else "link"
            raise GraphPlanError(f"{what} on {topic}: cannot relay it: {why}")
        producer, param, _ = _producer(topic, world)
        routes.append(Route(topic, raw_topic(topic), MESSAGE_TYPES[topic], producer, param, link))
        overrides.setdefault(producer, {})[param] = raw_topic(topic)
    relay = bool(routes) or any(f.kind in RELAY_FAULTS for f in spec.faults)
    if any(f.kind == "joy_garbage" for f in spec.faults) and not sim:
        raise GraphPlanError("fault joy_garbage needs the simulated person (no real robot)")

    if relay:
        scale = float(spec.time_scale) if sim else 1.0
        r: dict[str, Any] = {"seed": int(spec.seed), "fault_topic": FAULT_TOPIC,
                             "joy_topic": "/joy"}
        if routes:
            r.update({
                "routes.inputs": [x.raw for x in routes],
                "routes.outputs": [x.topic for x in routes],
                "routes.types": [x.msgtype for x in routes],
                # the relay times on the steady clock: sim seconds / time_scale = wall seconds
                "routes.latency_s": [float(x.link.latency_s) / scale for x in routes],
                "routes.jitter_s": [float(x.link.jitter_s) / scale for x in routes],
                "routes.drop_rate": [float(x.link.drop_rate) for x in routes],
                "routes.word_error_rate": [float(x.link.word_error_rate) for x in routes]})
        overrides[RELAY_NODE] = r
    # record: false still records what the metrics read (small: no camera, no point clouds),
    # so every episode is measured from its bag.
    if spec.record:
        topics = list(spec.record_topics)
    else:
        from ifagent_ros.core.campaign.metrics import METRIC_TOPICS

        topics = list(METRIC_TOPICS)
    if topics and EVENTS_TOPIC not in topics:
        topics.append(EVENTS_TOPIC)  # metrics read the timeline from the bag
    rec: dict[str, Any] = {"output": str(Path(episode_dir) / "bag"),
                           "discovery_period_s": RECORDER_DISCOVERY_S}
    if topics:
        rec["topics"] = topics
    overrides[RECORDER_NODE] = rec
    all_nodes = [RECORDER_NODE] + ([RELAY_NODE] if relay else []) + nodes
    for n in all_nodes:
        overrides.setdefault(n, {})["use_sim_time"] = sim
    if sim and sim_node:
        overrides[sim_node].update(realtime=True, time_scale=float(spec.time_scale))
    if sim and "executor_node" in nodes:
        # Steps on /clock: the arm moves at its commanded speed in sim time at any time_scale.
        overrides["executor_node"]["control_clock"] = "sim"

    # What the recorder must be subscribed to before the start event: the task's key topics
    # besides EVENTS_TOPIC and /clock. On a robot the graph is up at the first message of the
    # task's real_start_topic (in sim: /clock).
    task = get_task(spec.task.kind)
    key = [EVENTS_TOPIC, *(["/clock"] if sim else []), *task.key_topics]
    if topics:
        key = [t for t in key if t == EVENTS_TOPIC or any(fnmatchcase(t, p)
                                                          for p in topics)]

    def val(node: str, param: str, default: Any) -> Any:
        return _value(node, param, default, overrides, sections)

    def source(topic: str) -> str:
        return next((x.raw for x in routes if x.topic == topic), topic)

    arm = val("sim_node", "arm.joint_names", ARM_JOINTS) if world == "tabletop" else ARM_JOINTS
    driver = DriverTopics(
        start="/clock" if sim else task.real_start_topic,
        joint_states=source("/joint_states"),
        odom=source("/odom"),
        base_pose=str(val(sim_node, "base_pose_topic", "/sim/base_pose"))
        if sim and world == "house" else "",
        ground_truth=str(val(sim_node, "ground_truth_topic", "/sim/ground_truth")),
        sim_user_status=str(val("sim_user_node", "status_topic", "/ifagent/sim_user/status")),
        nav_status=str(val("vln_planner_node", "topics.status", "/ifagent/nav/status")),
        instruction=task.instruction_topic(val),
        camera=COLOR, arm_joints=tuple(str(a) for a in arm))
    return GraphPlan(nodes=all_nodes, overrides=overrides,
                     registry={RELAY_NODE: RELAY_MODULE} if relay else {}, routes=routes,
                     world=world, driver=driver, key_topics=key)
