"""Versioned JSON schemas for payloads carried in ``std_msgs/String``.

Every structured message that no standard ROS type carries is one of these models, serialized with
``model.model_dump_json()`` and read back with ``Model.model_validate_json(text)``. Unknown keys are
rejected so that a typo in a producer fails loudly instead of being silently ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectPose(_Strict):
    """One simulated object, as the simulator knows it (evaluation only)."""

    id: str
    label: str  # block, bowl, plate, mug, ...
    color: str  # colour name, e.g. "red"
    position: Vec3  # metres, base_link
    orientation: Quat  # x, y, z, w, base_link
    size: Vec3  # bounding-box extent, metres


class GroundTruth(_Strict):
    """``/sim/ground_truth``: object poses and the end-effector pose straight from the simulator."""

    version: int = SCHEMA_VERSION
    stamp: float  # seconds (sim time)
    frame_id: str = "base_link"
    objects: list[ObjectPose]
    ee_position: Vec3 | None = None


ExecutorMode = Literal["idle", "moving", "braking", "holding", "estop"]


class ExecutorLimits(_Strict):
    velocity: list[float]
    acceleration: list[float]
    jerk: list[float]
    position_lower: list[float]
    position_upper: list[float]
    position_margin: float
    workspace_min: Vec3
    workspace_max: Vec3
    watchdog_timeout_s: float
    max_linear_speed: float
    max_angular_speed: float


class ArmCommandSent(_Strict):
    """The newest command the executor published to the arm, exactly as published."""

    interface: Literal["trajectory", "velocity"]
    positions: list[float] | None = None  # the trajectory point (None on the velocity interface)
    velocities: list[float]
    stamp: float | None = None  # header stamp: the causing command's (None: left zero)


class ExecutorStatus(_Strict):
    """``/ifagent/executor/status``: what the only hardware-commanding node is doing and why."""

    version: int = SCHEMA_VERSION
    stamp: float
    mode: ExecutorMode
    backend: str
    deadman_held: bool
    estop_latched: bool
    watchdog_tripped: bool
    command_source: str | None  # "twist", "joint_velocity" or None
    last_rejection: str | None
    rejections: int
    interventions: dict[str, int] = Field(default_factory=dict)  # limit name -> steps it clipped
    ee_position: Vec3 | None = None
    joint_velocity: list[float] = Field(default_factory=list)
    limits: ExecutorLimits
    commanded: ArmCommandSent | None = None  # what the arm was last told (None: nothing yet)
    commands_sent: int = 0


class TeleopStatus(_Strict):
    """``/ifagent/teleop/status``: the gamepad mapping's mode and what it rejected."""

    version: int = SCHEMA_VERSION
    stamp: float
    mode: Literal["translate_xy", "translate_z_yaw", "rotate"]
    last_rejection: str | None
    rejections: int
    messages: int
    frame_id: str = "base_link"


class ScriptedGamepadStatus(_Strict):
    """``/ifagent/scripted_gamepad/status``: the scripted operator's progress."""

    version: int = SCHEMA_VERSION
    stamp: float
    phase: str
    distance: float | None
    done: bool
    reached: bool
    mode: str
    deadman: bool
    target_id: str
    goal: Vec3 | None


class PerceivedObject(_Strict):
    """One object as perception sees it (``/ifagent/objects``); what grounding reasons over."""

    id: str  # stable track id, e.g. "obj_3": kept while the object moves slowly or is occluded
    label: str  # block, bowl, plate, mug, cylinder, other (or an open-vocabulary query)
    color: str  # colour name: red, green, blue, yellow, orange, purple, pink, brown, white, ...
    position: Vec3  # bounding-box centre, metres, base_link
    size: Vec3  # axis-aligned extent in base_link [dx, dy, dz], metres
    confidence: float = Field(ge=0.0, le=1.0)
    last_seen: float | None = None  # source stamp of the newest frame that saw it (None: unknown)


class ObjectList(_Strict):
    """``/ifagent/objects``: the current object list, stamped with the camera frame it came from.

    ``stamp`` is the source image stamp, never the publish time, so a consumer can tell a stale
    list from a current one. Objects a tracker still holds but did not see in this frame carry an
    older ``last_seen``.
    """

    version: int = SCHEMA_VERSION
    stamp: float  # seconds: stamp of the RGB-D frame this list was computed from
    frame_id: str = "base_link"
    source: str = "perception"  # which detector produced it: geometric, owlv2, ground_truth, ...
    objects: list[PerceivedObject]
    status: str = "ok"  # "ok" or why the list is empty/partial (e.g. "no support plane found")


CorrectionType = Literal["direction", "rotation", "target", "speed", "gripper", "stop", "undo",
                         "reset", "instruction", "unknown"]


class Correction(_Strict):
    """``/ifagent/correction``: what the operator's words ask for (also ``ifagent parse``).

    Directions and rotation axes are unit vectors in ``base_link`` (forward = +x, left = +y,
    up = +z). ``context_free`` is LILAC's alpha: true when the correction needs no scene
    context ("left", "higher"), false when it does ("towards the bowl").
    """

    version: int = SCHEMA_VERSION
    stamp: float = 0.0  # seconds: when the words were spoken (end of speech) or typed
    text: str = ""  # the words this was parsed from
    type: CorrectionType
    direction: Vec3 | None = None
    rotation: Vec3 | None = None
    magnitude: Literal["small", "medium", "large"] = "medium"
    target: str | None = None  # the referring expression, e.g. "the red bowl"
    # where relative to the target: None = the target itself ("towards the mug"), else one of
    # near, above, on, in, below, behind, in_front_of, left_of, right_of ("behind the mug")
    relation: str | None = None
    target_ids: list[str] = Field(default_factory=list)
    speed_factor: float | None = None
    gripper: Literal["open", "close"] | None = None
    context_free: bool = True
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    question: str | None = None  # a clarifying question or a refusal


class SpeechText(_Strict):
    """``/ifagent/speech/text``: a transcript (or typed text: backend "typed")."""

    version: int = SCHEMA_VERSION
    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    backend: str  # pocketsphinx, pocketsphinx-free, whisper, typed
    start: float  # seconds: audio start stamp (typed: when it was typed)
    end: float  # seconds: audio end stamp
    in_grammar: bool = True  # decoded against the correction grammar (false: free-form)


class SpeechStatus(_Strict):
    """``/ifagent/speech/status``: what became of a transcript, for the operator to read.

    ``verdict``: correction (parsed fully), stop (a stop word: e-stop latched), snapped (a near
    miss snapped to an in-grammar sentence; ``snapped_from`` is what was heard), refused (not a
    correction; ``message`` says "heard '…': not a correction" and nothing moves)."""

    version: int = SCHEMA_VERSION
    stamp: float
    heard: str
    verdict: Literal["correction", "stop", "refused", "snapped"]
    message: str = ""
    snapped_from: str | None = None


SharedAutonomyMode = Literal["latent", "policy", "teleop_fallback", "hold"]


class SharedAutonomyStatus(_Strict):
    """``/ifagent/shared_autonomy/status``: what the LILAC controller conditions on and why it
    degraded (``reason``), for display next to the camera view."""

    version: int = SCHEMA_VERSION
    stamp: float
    mode: SharedAutonomyMode  # teleop_fallback / hold: ``reason`` says why
    reason: str | None = None
    model_kind: str | None = None  # lilac, lila, bc; None: no model (EE teleop only)
    model_name: str | None = None
    utterance: str | None = None  # what the model conditions on now
    said: str | None = None  # the words heard last (differs from utterance when refused)
    instruction: str | None = None  # the original instruction (what reset goes back to)
    alpha: float | None = None  # LILAC's gate: 0 context-free correction, 1 otherwise
    novelty: float | None = None  # similarity of the utterance to the training sentences
    stack_depth: int = 0  # utterances that undo can walk back through
    z: tuple[float, float] = (0.0, 0.0)  # stick after the deadband
    shaping: str | None = None  # the active correction's direct shaping, e.g. "direction ..."
    shaping_active: bool = False
    speed_scale: float = 1.0
    missing_objects: list[str] = Field(default_factory=list)
    fallbacks: dict[str, int] = Field(default_factory=dict)  # reason -> times it degraded
    teleop_mode: str | None = None  # the EE-teleop fallback's mode (X cycles it)
    last_event: str | None = None  # the last correction/button handled, or why it was ignored


NavMode = Literal["idle", "waiting", "navigating", "stopped", "asking", "halted"]


class NavStatus(_Strict):
    """``/ifagent/nav/status``: what the VLN planner does and why (``core/vln/nav_supervisor``).

    ``mode``: idle (no instruction), waiting (for /odom), navigating (a goal is out), stopped
    (the planner decided it arrived, ``reason`` says why), asking (``question`` says what it
    needs: empty instruction, nothing known to go to, goal unreachable), halted (a safety stop:
    odometry jump, off the map, goal timeout, planner failure).
    """

    version: int = SCHEMA_VERSION
    stamp: float
    frame_id: str = "map"
    mode: NavMode
    instruction: str | None = None
    subgoal: str | None = None  # the sub-goal being pursued ("go past the couch")
    subgoals: list[str] = Field(default_factory=list)  # the whole decomposition
    plan: str | None = None  # the planner's plan text (done / now / travelled)
    current_place: str | None = None
    goal_place: str | None = None
    goal: Vec3 | None = None  # x, y, yaw (map) of the goal now published
    reason: str | None = None
    question: str | None = None
    events: list[str] = Field(default_factory=list)  # recent notable events, newest last
    warnings: list[str] = Field(default_factory=list)
    unknown_words: list[str] = Field(default_factory=list)
    route: list[str] = Field(default_factory=list)  # places reached since the instruction
    map_summary: str = ""
    planner: str = "rule"
    plan_ms: float | None = None  # time the last planning step took


BaseExecutorMode = Literal["idle", "rotating", "tracking", "slowing", "blocked", "arrived",
                           "odom_jump", "bad_input", "estop", "stale_odom", "no_obstacle_data"]


class BaseExecutorStatus(_Strict):
    """``/ifagent/base_executor/status``: the mobile base's local controller and its stops."""

    version: int = SCHEMA_VERSION
    stamp: float
    mode: BaseExecutorMode
    reason: str = ""
    estop_latched: bool = False
    v: float = 0.0  # m/s sent on /cmd_vel
    w: float = 0.0  # rad/s sent on /cmd_vel
    path_points: int = 0
    distance_to_goal: float | None = None
    cross_track_error: float | None = None
    free_distance: float | None = None  # m of free arc ahead (None: nothing in range)
    obstacle_points: int = 0
    rejections: int = 0
    last_rejection: str | None = None
