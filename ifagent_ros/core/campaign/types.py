"""The campaign contract: what one episode is, what it records and what it leaves behind.

ROS-free. The scenario file (``scenario.py``) expands into :class:`EpisodeSpec` s; the runner
(``runner.py``) hands one spec to a fresh headless graph (``ifagent_ros/campaign_episode.py``,
run as its own process, or a Ray task running that process); the graph writes an MCAP bag, its
log and a :class:`EpisodeRun`; the runner computes the metrics from the bag (``metrics.py``) and
writes ``episode.json`` (:class:`EpisodeRecord`); the report (``report.py``) reads only
``campaign.json`` and the ``episode.json`` files.

Files of a run folder ``runs/NAME/``::

    campaign.json                 CampaignIndex: the scenario, its hash, one row per episode
    scenario.yaml                 the scenario file as run (a resume must match its hash)
    episodes/<episode_id>/
        spec.json                 EpisodeSpec
        bag/                      rosbag2 folder, storage mcap (metadata.yaml + bag_0.mcap)
        log.txt                   the episode process' stdout+stderr
        run.json                  EpisodeRun (written by the episode process when it ends)
        episode.json              EpisodeRecord (written last: its presence means "finished")
    report.html, summary.json     from ``ifagent campaign report``
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CAMPAIGN_SCHEMA_VERSION = 1


def _known_task(kind: str) -> str:
    from ifagent_ros.core.campaign.tasks import get_task  # the registry imports this module

    get_task(kind)
    return kind


# A registered campaign task (core/campaign/tasks: TASKS).
TaskKind = Annotated[str, AfterValidator(_known_task)]

# std_msgs/String, JSON CampaignEvent. Published by the episode driver and recorded in the bag,
# so metrics read the episode's timeline (start, faults, verdict, end) from the bag alone. On a
# real robot the same events come from `ifagent campaign run --real` (operator verdicts).
EVENTS_TOPIC = "/ifagent/campaign/events"
# std_msgs/String, JSON FaultCommand: the driver tells fault_relay_node what to break, now.
FAULT_TOPIC = "/ifagent/campaign/fault"

# world -> the sim node that runs it (each sim node runs one world and refuses the other).
SIM_NODES: dict[str, str] = {"tabletop": "sim_node", "house": "house_sim_node"}

# The sim node publishes its sensor streams here when a campaign routes them through
# fault_relay_node, which republishes them on the standard names (with latency, jitter, drops,
# word errors and faults applied). Raw name = RAW_PREFIX + standard name.
RAW_PREFIX = "/sim/raw"

FaultKind = Literal[
    "kill_node",            # destroy `target` node of the graph (no clean shutdown)
    "freeze_camera",        # camera frames keep coming with fresh stamps but frozen content
    "stale_joint_states",   # /joint_states content and stamp frozen (republished as they were)
    "joy_garbage",          # a burst of malformed /joy (NaN, inf, wrong sizes, huge values)
    "odom_jump",            # /odom suddenly offset by `magnitude` metres (and keeps the offset)
]
FaultTrigger = Literal["time", "motion", "instruction"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FaultSpec(_Strict):
    """One fault of an episode. ``trigger``: ``time`` fires at ``at_s`` seconds of episode time;
    ``motion`` at the first /joint_states with an arm joint faster than 0.05 rad/s (or base
    faster than 0.05 m/s on /odom) after ``at_s``; ``instruction`` when the instruction is sent."""

    kind: FaultKind
    trigger: FaultTrigger = "time"
    at_s: float = 0.0
    duration_s: float = 0.0          # 0: until the end of the episode
    target: str | None = None        # kill_node: the node name (e.g. shared_autonomy_node)
    magnitude: float = 0.0           # odom_jump: metres; joy_garbage: messages per second


class FaultCommand(_Strict):
    """``FAULT_TOPIC`` payload: start (or, with ``active=False``, end) a fault now."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    kind: FaultKind
    active: bool = True
    duration_s: float = 0.0
    magnitude: float = 0.0
    seed: int = 0


class LinkImpairment(_Strict):
    """What the network / sensor chain does to one topic on its way through fault_relay_node."""

    latency_s: float = 0.0
    jitter_s: float = 0.0            # uniform extra delay in [0, jitter_s]
    drop_rate: float = 0.0           # probability a message is dropped
    word_error_rate: float = 0.0     # speech text only: per-word substitution/deletion rate


class CampaignEvent(_Strict):
    """``EVENTS_TOPIC`` payload. ``stamp``: the graph's ROS time (sim time in sim), seconds.

    event ``start``: detail has ``task`` (TaskSpec as dict) and whatever the task's metrics need
    (shared_autonomy: ``family``, ``task_seed``, ``split``, ``objects_at_start``; vln: ``goal``
    [x, y], ``shortest_path_m``, ``success_radius_m``). ``fault``: detail = FaultSpec plus
    ``active`` (bool). ``verdict``: ``success`` (bool), ``valid`` (bool), ``by``
    (sim_user | nav | operator). ``end``: ``reason`` (done | time_limit | error | operator),
    ``nodes_alive`` / ``nodes_dead`` (lists of node names)."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    stamp: float
    event: Literal["start", "fault", "verdict", "end", "note"]
    episode_id: str
    detail: dict[str, Any] = Field(default_factory=dict)


class TaskSpec(_Strict):
    """What the episode asks of the robot. ``kind`` (a task of ``core/campaign/tasks``) picks
    the graph, the end condition and the metrics."""

    kind: TaskKind
    family: str | None = None        # shared_autonomy: a core/latent_actions task family
    split: Literal["train", "heldout"] = "heldout"
    houses: list[str] = Field(default_factory=list)   # vln_houses: houses names
    scene: str | None = None         # perception / shared_autonomy: scenes file
    duration_s: float | None = None  # perception: how long to watch
    # The sampled task instance, so the episode process need not re-derive it:
    # shared_autonomy: {"family", "task_seed"}; vln_houses: {"house", "episode_id",
    # "instruction", "start": [x, y, yaw], "goal": [x, y], "shortest_path_m",
    # "success_radius_m": 3.0}; perception: {"scene"}.
    episode: dict[str, Any] = Field(default_factory=dict)


class EpisodeSpec(_Strict):
    """Everything one episode process needs; written as ``spec.json``."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    campaign: str
    episode_id: str                  # f"{condition}-{index:04d}", a folder name
    condition: str
    index: int                       # 0..episodes-1 within the condition
    seed: int                        # the episode's own seed (users, noise, faults)
    scene_seed: int                  # the scene's seed (object poses, house episode): equal
                                     # across conditions for the same index (paired design)
    task: TaskSpec
    params_file: str                 # absolute path of the ROS 2 params file of the graph
    nodes: list[str] = Field(default_factory=list)  # nodes of params_file to run ([] = all)
    # node name -> {parameter: value}, applied over params_file (condition, randomization, seed)
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    randomization: dict[str, Any] = Field(default_factory=dict)  # factor -> sampled value
    links: dict[str, LinkImpairment] = Field(default_factory=dict)  # standard topic -> impairment
    faults: list[FaultSpec] = Field(default_factory=list)
    time_limit_s: float = 60.0       # episode (ROS) time
    wall_limit_s: float = 300.0      # hard limit of the process; then it is killed
    time_scale: float = 1.0          # sim speed vs. wall clock (the sim node's time_scale)
    record: bool = True  # false: the bag holds only the topics the metrics read
    record_topics: list[str] = Field(default_factory=list)  # [] = every topic
    domain_id: int | None = None     # set by the runner for the process it starts
    real: bool = False               # real-robot mode: no randomization, operator verdicts


class EpisodeRun(_Strict):
    """``run.json``: what the episode process saw (not metrics: those come from the bag)."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    episode_id: str
    end_reason: Literal["done", "time_limit", "error", "operator"]
    error: str | None = None
    wall_s: float                    # from graph start to end
    startup_s: float                 # graph construction until the first /clock
    episode_time_s: float            # ROS time from the start event to the end event
    real_time_factor: float          # episode_time_s / (wall_s - startup_s)
    nodes_alive: list[str] = Field(default_factory=list)
    nodes_dead: list[str] = Field(default_factory=list)
    bag_messages: int = 0
    bag_bytes: int = 0
    cpu_s: float | None = None       # CPU seconds of the episode process and its children


EpisodeStatus = Literal["ok", "failed", "invalid"]


class EpisodeRecord(_Strict):
    """``episode.json``: the finished episode. ``status`` ok: it ran and was measured (success
    may still be False); failed: it crashed, hung or its bag is unreadable (``failure_reason``);
    invalid: the operator marked it invalid (real robot)."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    spec: EpisodeSpec
    status: EpisodeStatus
    success: bool = False
    failure_reason: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    run: EpisodeRun | None = None
    versions: dict[str, str] = Field(default_factory=dict)  # python, ifagent_ros, rclpy, ...
    git_commit: str | None = None
    finished_at: str = ""            # ISO 8601 UTC
    log: str = "log.txt"
    bag: str | None = "bag"


class CampaignRow(_Strict):
    episode_id: str
    condition: str
    index: int
    status: EpisodeStatus | Literal["pending"]
    success: bool = False


class CampaignIndex(_Strict):
    """``campaign.json``."""

    version: int = CAMPAIGN_SCHEMA_VERSION
    name: str
    scenario_file: str
    scenario_sha256: str
    real: bool = False
    created_at: str
    updated_at: str
    episodes: list[CampaignRow] = Field(default_factory=list)
    runner: dict[str, Any] = Field(default_factory=dict)  # workers, ray address, eps/hour
