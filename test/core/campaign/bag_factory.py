"""Writes tiny episode bags with known answers for the campaign metrics tests.

Messages are built with the rosbags Jazzy typestore and written with our own BagWriter, as the
recorder node and ``core/recording/demonstrations.py`` do; times are seconds (log time = header
stamp unless given).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from ifagent_ros.core.campaign.types import EVENTS_TOPIC, CampaignEvent, EpisodeSpec, TaskSpec
from ifagent_ros.core.recording import BagWriter, jazzy_typestore, make_qos
from ifagent_ros.core.schemas import ExecutorLimits, ExecutorStatus

ARM = [f"panda_joint{i}" for i in range(1, 8)]
FINGERS = ["panda_finger_joint1", "panda_finger_joint2"]
EPISODE_ID = "cond-0000"
VEL_LIMIT = [2.0, 2.0, 2.0, 2.0, 2.5, 2.5, 2.5]
ACC_LIMIT = [10.0] * 7
LOWER = [-2.8, -1.7, -2.8, -3.0, -2.8, -0.01, -2.8]
UPPER = [2.8, 1.7, 2.8, -0.07, 2.8, 3.7, 2.8]


def spec(kind: str, episode: dict[str, Any] | None = None, **task: Any) -> EpisodeSpec:
    return EpisodeSpec(campaign="test", episode_id=EPISODE_ID, condition="cond", index=0, seed=1,
                       scene_seed=1, task=TaskSpec(kind=kind, episode=episode or {}, **task),
                       params_file="/nonexistent/params.yaml")  # type: ignore[arg-type]


def executor_status(t: float, interventions: dict[str, int] | None = None,
                    rejections: int = 0, mode: str = "moving") -> ExecutorStatus:
    limits = ExecutorLimits(velocity=VEL_LIMIT, acceleration=ACC_LIMIT, jerk=[5000.0] * 7,
                            position_lower=LOWER, position_upper=UPPER, position_margin=0.05,
                            workspace_min=(0.2, -0.6, 0.0), workspace_max=(0.8, 0.6, 0.6),
                            watchdog_timeout_s=0.1, max_linear_speed=0.25,
                            max_angular_speed=0.8)
    return ExecutorStatus(stamp=t, mode=mode, backend="fake", deadman_held=True,
                          estop_latched=False, watchdog_tripped=False, command_source="twist",
                          last_rejection=None, rejections=rejections,
                          interventions=interventions or {}, limits=limits)


class BagBuilder:
    """Collects messages, then ``write()`` s them in time order into ``path`` (a new folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = jazzy_typestore()
        self.t = self.store.types
        self.items: list[tuple[float, str, str, Any]] = []

    # ------------------------------------------------------------------ primitives
    def add(self, topic: str, msgtype: str, msg: Any, t: float) -> BagBuilder:
        self.items.append((t, topic, msgtype, msg))
        return self

    def header(self, sec: float) -> Any:
        ns = int(round(sec * 1e9))
        return self.t["std_msgs/msg/Header"](
            stamp=self.t["builtin_interfaces/msg/Time"](sec=ns // 10**9, nanosec=ns % 10**9),
            frame_id="base_link")

    def string(self, topic: str, t: float, payload: BaseModel | dict[str, Any] | str) \
            -> BagBuilder:
        if isinstance(payload, BaseModel):
            payload = payload.model_dump_json()
        elif isinstance(payload, dict):
            payload = json.dumps(payload)
        return self.add(topic, "std_msgs/msg/String", self.t["std_msgs/msg/String"](data=payload),
                        t)

    # ------------------------------------------------------------------ typed helpers
    def event(self, t: float, event: str, episode_id: str = EPISODE_ID, **detail: Any) \
            -> BagBuilder:
        return self.string(EVENTS_TOPIC, t, CampaignEvent(stamp=t, event=event,  # type: ignore
                                                          episode_id=episode_id, detail=detail))

    def joints(self, t: float, q: Any, qd: Any | None = None, width: float | None = 0.08,
               stamp: float | None = None, topic: str = "/joint_states",
               arm: list[str] | None = None, fingers: list[str] | None = None) -> BagBuilder:
        names, pos = list(arm or ARM), list(map(float, q))
        vel = None if qd is None else list(map(float, qd))
        if width is not None:
            names += fingers or FINGERS
            pos += [width / 2.0, width / 2.0]
            vel = None if vel is None else vel + [0.0, 0.0]
        msg = self.t["sensor_msgs/msg/JointState"](
            header=self.header(t if stamp is None else stamp), name=names,
            position=np.asarray(pos, float), velocity=np.asarray(vel or [], float),
            effort=np.zeros(0))
        return self.add(topic, "sensor_msgs/msg/JointState", msg, t)

    def twist(self, t: float, vx: float = 0.05) -> BagBuilder:
        v3 = self.t["geometry_msgs/msg/Vector3"]
        msg = self.t["geometry_msgs/msg/TwistStamped"](
            header=self.header(t), twist=self.t["geometry_msgs/msg/Twist"](
                linear=v3(x=vx, y=0.0, z=0.0), angular=v3(x=0.0, y=0.0, z=0.0)))
        return self.add("/ifagent/ee_twist_cmd", "geometry_msgs/msg/TwistStamped", msg, t)

    def arm_command(self, t: float, q: Any, qd: Any,
                    topic: str = "/panda_arm_controller/joint_trajectory") -> BagBuilder:
        """A streamed single-point JointTrajectory, as executor_node sends it."""
        tt = self.t
        point = tt["trajectory_msgs/msg/JointTrajectoryPoint"](
            positions=np.asarray(q, float), velocities=np.asarray(qd, float),
            accelerations=np.zeros(0), effort=np.zeros(0),
            time_from_start=tt["builtin_interfaces/msg/Duration"](sec=0, nanosec=2_000_000))
        msg = tt["trajectory_msgs/msg/JointTrajectory"](header=self.header(t),
                                                         joint_names=list(ARM), points=[point])
        return self.add(topic, "trajectory_msgs/msg/JointTrajectory", msg, t)

    def estop(self, t: float, on: bool = True) -> BagBuilder:
        return self.add("/ifagent/estop", "std_msgs/msg/Bool", self.t["std_msgs/msg/Bool"](data=on),
                        t)

    def odom(self, t: float, x: float, y: float, topic: str = "/odom") -> BagBuilder:
        tt = self.t
        pose = tt["geometry_msgs/msg/PoseWithCovariance"](
            pose=tt["geometry_msgs/msg/Pose"](
                position=tt["geometry_msgs/msg/Point"](x=x, y=y, z=0.0),
                orientation=tt["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0)),
            covariance=np.zeros(36))
        v3 = tt["geometry_msgs/msg/Vector3"]
        twist = tt["geometry_msgs/msg/TwistWithCovariance"](
            twist=tt["geometry_msgs/msg/Twist"](linear=v3(x=0.0, y=0.0, z=0.0),
                                                angular=v3(x=0.0, y=0.0, z=0.0)),
            covariance=np.zeros(36))
        msg = tt["nav_msgs/msg/Odometry"](header=self.header(t), child_frame_id="base_link",
                                          pose=pose, twist=twist)
        return self.add(topic, "nav_msgs/msg/Odometry", msg, t)

    def joy(self, t: float, ax0: float, ax1: float, rb: int = 1) -> BagBuilder:
        msg = self.t["sensor_msgs/msg/Joy"](header=self.header(t),
                                            axes=np.asarray([ax0, ax1, 0, 0, 0, 0], np.float32),
                                            buttons=np.asarray([0] * 5 + [rb] + [0] * 5, np.int32))
        return self.add("/joy", "sensor_msgs/msg/Joy", msg, t)

    def status(self, t: float, **kw: Any) -> BagBuilder:
        return self.string("/ifagent/executor/status", t, executor_status(t, **kw))

    # ------------------------------------------------------------------ output
    def write(self) -> Path:
        with BagWriter(self.path) as bag:
            bag.add_topic("/ifagent/estop", "std_msgs/msg/Bool",
                          [make_qos(transient_local=True, depth=1)])
            for t, topic, msgtype, msg in sorted(self.items, key=lambda item: item[0]):
                bag.write(topic, msgtype, self.store.serialize_cdr(msg, msgtype),
                          int(round(t * 1e9)))
        return self.path
