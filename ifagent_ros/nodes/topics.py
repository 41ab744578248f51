"""Topic names and QoS profiles that several nodes must agree on, defined once.

Nodes take their topics as parameters (a robot may remap them); these are the defaults, so a
publisher and its subscribers start from the same name. QoS profiles are defined only here: on a
latched topic publisher and subscriber must both be transient-local, or a late subscriber sees
nothing, and on the e-stop that would be a safety defect.

- :data:`ESTOP_QOS`: the e-stop (``std_msgs/Bool``): reliable, transient-local, depth 1, so a
  node that starts late still sees a stop published before it.
- :data:`LATCHED_QOS`: any other latest-value topic (a node's status, a campaign's state): the
  same settings (the e-stop is one latched topic among others; :data:`ESTOP_QOS` *is* this).
- :func:`latched_qos`: a latched topic that keeps the last ``depth`` messages (an event log a
  late subscriber replays, e.g. the campaign's events).
- :func:`matching_qos`: a subscription that must match whatever the publishers offer (the
  recorder, which subscribes to every topic).
"""

from __future__ import annotations

from collections.abc import Sequence

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    LivelinessPolicy,
    QoSProfile,
    ReliabilityPolicy,
)
from rclpy.topic_endpoint_info import TopicEndpointInfo

# ---- safety and operator input -----------------------------------------------------------------
ESTOP = "/ifagent/estop"
JOY = "/joy"
CLOCK = "/clock"

# ---- speech and language -----------------------------------------------------------------------
AUDIO = "/audio"
SPEECH_TEXT = "/ifagent/speech/text"
SPEECH_TYPED = "/ifagent/speech/typed"
SPEECH_STATUS = "/ifagent/speech/status"
CORRECTION = "/ifagent/correction"
INSTRUCTION = "/ifagent/instruction"

# ---- perception --------------------------------------------------------------------------------
OBJECTS = "/ifagent/objects"
OBJECT_MARKERS = "/ifagent/objects/markers"
OBJECT_POINTS = "/ifagent/objects/points"
COLOR_IMAGE = "/camera/color/image_raw"
DEPTH_IMAGE = "/camera/depth/image_raw"
COLOR_INFO = "/camera/color/camera_info"
DEPTH_INFO = "/camera/depth/camera_info"

# ---- the arm -----------------------------------------------------------------------------------
JOINT_STATES = "/joint_states"
EE_TWIST = "/ifagent/ee_twist_cmd"
JOINT_VELOCITY = "/ifagent/joint_velocity_cmd"
GRIPPER = "/gripper/command"
ARM_TRAJECTORY = "/panda_arm_controller/joint_trajectory"
ARM_VELOCITY = "/forward_velocity_controller/commands"
EXECUTOR_STATUS = "/ifagent/executor/status"
TELEOP_STATUS = "/ifagent/teleop/status"
SHARED_AUTONOMY_STATUS = "/ifagent/shared_autonomy/status"
SIM_USER_STATUS = "/ifagent/sim_user/status"

# ---- the mobile base ---------------------------------------------------------------------------
ODOM = "/odom"
CMD_VEL = "/cmd_vel"
GOAL_POSE = "/goal_pose"
NAV_PLAN = "/ifagent/nav/plan"
NAV_STATUS = "/ifagent/nav/status"

# ---- the simulators' ground truth (evaluation only) --------------------------------------------
GROUND_TRUTH = "/sim/ground_truth"
BASE_POSE = "/sim/base_pose"


def latched_qos(depth: int = 1) -> QoSProfile:
    """Reliable and transient-local: a late subscriber gets the last ``depth`` messages."""
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


LATCHED_QOS = latched_qos(1)
ESTOP_QOS = LATCHED_QOS


def matching_qos(publishers: Sequence[TopicEndpointInfo], depth: int) -> QoSProfile:
    """A subscription that receives from all ``publishers``, as rosbag2's recorder adapts.

    Transient-local only if every publisher is (so the latched e-stop is received even when
    published before the subscription exists); best-effort if any publisher is, because a
    reliable reader never matches a best-effort writer (typical for camera drivers).
    """
    reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
    latched = all(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
                  for p in publishers)
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
        liveliness=LivelinessPolicy.AUTOMATIC)

__all__ = [
    "ARM_TRAJECTORY", "ARM_VELOCITY", "AUDIO", "BASE_POSE", "CLOCK", "CMD_VEL", "COLOR_IMAGE",
    "COLOR_INFO", "CORRECTION", "DEPTH_IMAGE", "DEPTH_INFO", "EE_TWIST", "ESTOP", "ESTOP_QOS",
    "EXECUTOR_STATUS", "GOAL_POSE", "GRIPPER", "GROUND_TRUTH", "INSTRUCTION", "JOINT_STATES",
    "JOINT_VELOCITY", "JOY", "LATCHED_QOS", "NAV_PLAN", "NAV_STATUS", "OBJECTS", "OBJECT_MARKERS",
    "OBJECT_POINTS", "ODOM", "SHARED_AUTONOMY_STATUS", "SIM_USER_STATUS", "SPEECH_STATUS",
    "SPEECH_TEXT", "SPEECH_TYPED", "TELEOP_STATUS", "latched_qos", "matching_qos",
]
