"""Where the executor's filtered reference goes: franka_ros2-style controller topics.

The simulator (``sim_node``) and a real Franka (franka_ros2) take the same two kinds of command —
a streamed single-point ``JointTrajectory`` for a joint trajectory controller, or joint velocities
as ``Float64MultiArray`` for a forward velocity controller — so one publisher serves both; they
differ only in joint names, topic names and stamping, which are parameters (``arm.*``). (This
replaced one ``ArmBackend`` class per target that differed only in its name.)

:meth:`ArmCommandPublisher.send` returns what it published, which the executor reports in its
status (``ExecutorStatus.commanded``): what the hardware was actually told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from builtin_interfaces.msg import Duration, Time
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from ifagent_ros.core.control.robot_model import PANDA_ARM_JOINTS
from ifagent_ros.core.schemas import ArmCommandSent
from ifagent_ros.nodes import topics


@dataclass(frozen=True)
class ArmCommandConfig:
    joint_names: tuple[str, ...] = PANDA_ARM_JOINTS
    command_interface: Literal["trajectory", "velocity"] = "trajectory"
    trajectory_topic: str = topics.ARM_TRAJECTORY
    velocity_topic: str = topics.ARM_VELOCITY
    # "source": header.stamp = stamp of the command that caused this point (lets benchmarks measure
    # end-to-end latency); "zero": start-now semantics, what a joint trajectory controller expects.
    header_stamp: Literal["source", "zero"] = "source"
    period_s: float = 0.002  # a trajectory point's time_from_start: one control period

    def __post_init__(self) -> None:
        if self.command_interface not in ("trajectory", "velocity"):
            raise ValueError("arm.command_interface must be 'trajectory' or 'velocity', "
                             f"got {self.command_interface!r}")
        if self.header_stamp not in ("source", "zero"):
            raise ValueError(f"arm.header_stamp must be 'source' or 'zero', "
                             f"got {self.header_stamp!r}")


class ArmCommandPublisher:
    """Publishes reference points on the configured controller topic."""

    def __init__(self, node: Node, config: ArmCommandConfig) -> None:
        self.config = config
        if config.command_interface == "trajectory":
            self._pub = node.create_publisher(JointTrajectory, config.trajectory_topic, 10)
        else:
            self._pub = node.create_publisher(Float64MultiArray, config.velocity_topic, 10)
        sec = int(config.period_s)
        self._tfs = Duration(sec=sec, nanosec=int(round((config.period_s - sec) * 1e9)))
        self.last: ArmCommandSent | None = None
        self.sent = 0

    def send(self, q: np.ndarray, v: np.ndarray, source_stamp_ns: int) -> ArmCommandSent:
        """Publish one reference point; returns what was published."""
        velocities = [float(x) for x in v]
        if self.config.command_interface == "velocity":
            self._pub.publish(Float64MultiArray(data=velocities))
            sent = ArmCommandSent(interface="velocity", velocities=velocities)
        else:
            msg = JointTrajectory()
            stamped = self.config.header_stamp == "source" and source_stamp_ns > 0
            if stamped:
                msg.header.stamp = Time(sec=source_stamp_ns // 1_000_000_000,
                                        nanosec=source_stamp_ns % 1_000_000_000)
            msg.joint_names = list(self.config.joint_names)
            positions = [float(x) for x in q]
            msg.points = [JointTrajectoryPoint(positions=positions, velocities=velocities,
                                               time_from_start=self._tfs)]
            self._pub.publish(msg)
            sent = ArmCommandSent(interface="trajectory", positions=positions,
                                  velocities=velocities,
                                  stamp=source_stamp_ns * 1e-9 if stamped else None)
        self.last = sent
        self.sent += 1
        return sent
