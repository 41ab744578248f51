"""The parameters of the two sim nodes (one per field; nested ones as ``camera.width``).

:class:`SimParams` and :class:`SimCameraParams` are what both have; :class:`TabletopSimParams`
is ``sim_node``'s (the tabletop), :class:`HouseSimParams` ``house_sim_node``'s. Each checks its
values, naming the parameter (``declare_config`` reports it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from ifagent_ros.nodes import topics
from ifagent_ros.sim.camera import CameraConfig
from ifagent_ros.sim.house_sim import HOUSE_CAMERA
from ifagent_ros.sim.tabletop import ARM_JOINT_NAMES, HOME_Q
from ifagent_ros.sim.tabletop_domain import DomainConfig, check_positive, lit_camera


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0.0):
            raise ValueError(f"parameter {name} must be > 0, got {value}")


# world -> the sim node that runs it; each refuses the other's world, naming the right node.
SIM_NODES = {"tabletop": "sim_node", "house": "house_sim_node"}


@dataclass(frozen=True)
class SimParams:
    """The parameters every sim node has (``world`` says which one a params file means)."""

    WORLD: ClassVar[str] = ""  # the world this node runs ("": any)
    world: str = ""
    realtime: bool = True  # false: step as fast as the CPU allows
    time_scale: float = 1.0  # realtime: sim seconds per wall second (/clock follows)
    physics_rate_hz: float = 240.0
    seed: int = -1  # >= 0: reproducible randomness (depth noise, the tabletop's domain)

    def __post_init__(self) -> None:
        _check_positive(time_scale=self.time_scale, physics_rate_hz=self.physics_rate_hz)
        if self.WORLD and self.world != self.WORLD:
            node = SIM_NODES.get(self.world)
            if node is None:
                raise ValueError(f"parameter world must be {self.WORLD!r}, got {self.world!r}")
            raise ValueError(f"parameter world is {self.world!r}, which {node} runs; "
                             f"{SIM_NODES[self.WORLD]} runs the {self.WORLD} only (start "
                             f"{node}: a {node} section in the params file)")


@dataclass(frozen=True)
class SimCameraParams:
    """``camera.*``: the simulated RGB-D camera's image and topics."""

    enabled: bool = True
    rate_hz: float = 5.0
    width: int = 640
    height: int = 480
    fov_deg: float = 45.0
    far: float = 5.0
    frame_id: str = "camera_color_optical_frame"
    depth_noise_std: float = 0.0  # metres, Gaussian on valid depth pixels (seeded by seed)
    color_topic: str = topics.COLOR_IMAGE
    depth_topic: str = topics.DEPTH_IMAGE
    color_info_topic: str = topics.COLOR_INFO
    depth_info_topic: str = topics.DEPTH_INFO

    def __post_init__(self) -> None:
        _check_positive(**{"camera.rate_hz": self.rate_hz})
        if not (math.isfinite(self.depth_noise_std) and self.depth_noise_std >= 0.0):
            raise ValueError(f"parameter camera.depth_noise_std must be >= 0, "
                             f"got {self.depth_noise_std}")


# ---- the tabletop (sim_node) -------------------------------------------------------------------
@dataclass(frozen=True)
class TabletopCameraParams(SimCameraParams):
    near: float = 0.05
    eye: tuple[float, float, float] = (1.2, 0.0, 0.75)  # base_link, metres
    target: tuple[float, float, float] = (0.45, 0.0, 0.0)
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    render_process: bool = True  # real time: render in a child process (never stalls physics)


@dataclass(frozen=True)
class ArmParams:
    joint_names: tuple[str, ...] = ARM_JOINT_NAMES
    trajectory_topic: str = topics.ARM_TRAJECTORY
    velocity_topic: str = topics.ARM_VELOCITY
    command_timeout_s: float = 0.1  # hold position when commands stop for this long

    def __post_init__(self) -> None:
        if len(self.joint_names) != len(ARM_JOINT_NAMES) or len(set(self.joint_names)) != 7:
            raise ValueError(f"parameter arm.joint_names needs 7 distinct names, "
                             f"got {list(self.joint_names)}")
        check_positive("arm.command_timeout_s", self.command_timeout_s)


@dataclass(frozen=True)
class GripperParams:
    topic: str = topics.GRIPPER


@dataclass(frozen=True)
class DomainParams:
    """``domain.*``: per-episode randomization (:class:`DomainConfig`) and the light."""

    object_xy_jitter: float = 0.0
    colour_jitter: float = 0.0
    light_scale: float = 1.0
    light_direction: tuple[float, float, float] = CameraConfig().light_direction
    friction_scale: float = 1.0
    mass_scale: float = 1.0

    def __post_init__(self) -> None:
        self.world()  # DomainConfig's checks, naming the parameter
        lit_camera(CameraConfig(), self.light_scale, self.light_direction)

    def world(self) -> DomainConfig:
        return DomainConfig(object_xy_jitter=self.object_xy_jitter,
                            colour_jitter=self.colour_jitter,
                            friction_scale=self.friction_scale, mass_scale=self.mass_scale)


@dataclass(frozen=True)
class TabletopSimParams(SimParams):
    """The tabletop sim node's parameters (one per field; nested ones as ``camera.width``)."""

    WORLD: ClassVar[str] = "tabletop"
    world: str = "tabletop"
    scene: str = "tabletop_default.yaml"  # scenes/<name> or a path
    joint_state_rate_hz: float = 250.0
    ground_truth_rate_hz: float = 10.0
    joint_states_topic: str = topics.JOINT_STATES
    ground_truth_topic: str = topics.GROUND_TRUTH
    home_q: tuple[float, ...] = HOME_Q
    camera: TabletopCameraParams = field(default_factory=TabletopCameraParams)
    arm: ArmParams = field(default_factory=ArmParams)
    gripper: GripperParams = field(default_factory=GripperParams)
    domain: DomainParams = field(default_factory=DomainParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_positive("joint_state_rate_hz", self.joint_state_rate_hz)
        check_positive("ground_truth_rate_hz", self.ground_truth_rate_hz)


# ---- the house (house_sim_node) ----------------------------------------------------------------
@dataclass(frozen=True)
class CmdVelParams:
    topic: str = topics.CMD_VEL
    timeout_s: float = 0.5  # the base brakes when /cmd_vel stops for this long


@dataclass(frozen=True)
class ObjectsParams:
    publish: bool = True  # ground-truth landmarks in sight on /ifagent/objects
    topic: str = topics.OBJECTS
    rate_hz: float = 2.0
    range_m: float = 5.0


def _house_camera() -> SimCameraParams:
    return SimCameraParams(width=HOUSE_CAMERA.width, height=HOUSE_CAMERA.height,
                           fov_deg=HOUSE_CAMERA.fov_deg, far=HOUSE_CAMERA.far)


@dataclass(frozen=True)
class HouseSimParams(SimParams):
    """The house sim node's parameters (one per field; nested ones as ``cmd_vel.topic``)."""

    WORLD: ClassVar[str] = "house"
    world: str = "house"
    house: str = "apartment_a"  # houses/<name>.yaml or a path
    start: tuple[float, ...] = (0.0,)  # x, y, yaw (map); [0.0]: the house's first place
    odom_rate_hz: float = 50.0
    odom_topic: str = topics.ODOM
    odom_frame_id: str = "odom"
    base_frame_id: str = "base_link"
    base_pose_topic: str = topics.BASE_POSE  # the true pose (evaluation only)
    max_linear_speed: float = 0.6  # the base's own limits (m/s, rad/s)
    max_angular_speed: float = 1.5
    cmd_vel: CmdVelParams = field(default_factory=CmdVelParams)
    camera: SimCameraParams = field(default_factory=_house_camera)
    objects: ObjectsParams = field(default_factory=ObjectsParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.start) not in (1, 3):
            raise ValueError(f"parameter start must be [x, y, yaw] (or [0.0]: the house's "
                             f"first place), got {list(self.start)}")
        for name, value in (("odom_rate_hz", self.odom_rate_hz),
                            ("objects.rate_hz", self.objects.rate_hz),
                            ("cmd_vel.timeout_s", self.cmd_vel.timeout_s),
                            ("max_linear_speed", self.max_linear_speed),
                            ("max_angular_speed", self.max_angular_speed)):
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"parameter {name} must be > 0, got {value}")
