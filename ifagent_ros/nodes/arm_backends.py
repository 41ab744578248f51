"""Arm backends: where the executor's filtered reference goes.

One small interface (lerobot's ``Robot`` shape: connect / send / disconnect) with one implementation
per target, chosen by name with the ``backend`` parameter. Both targets speak franka_ros2's
topics — a streamed single-point ``JointTrajectory`` for a joint trajectory controller, or joint
velocities as ``Float64MultiArray`` for a forward velocity controller — so the executor code is
identical for the PyBullet simulator and the real arm; they differ in joint names, topic names and
stamping.
``send`` returns what was actually sent, so the caller reports exactly what the arm was told.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from builtin_interfaces.msg import Duration, Time
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from ifagent_ros.core.control.robot_model import FR3_ARM_JOINTS, PANDA_ARM_JOINTS


@dataclass
class ArmBackendConfig:
    joint_names: tuple[str, ...]
    command_interface: str = "trajectory"  # "trajectory" | "velocity"
    trajectory_topic: str = "/panda_arm_controller/joint_trajectory"
    velocity_topic: str = "/forward_velocity_controller/commands"
    # "source": header.stamp = stamp of the command that caused this point (lets benchmarks measure
    # end-to-end latency); "zero": start-now semantics, what a joint trajectory controller expects.
    header_stamp: str = "source"
    period_s: float = 0.002


class ArmBackend(ABC):
    name = "abstract"

    def __init__(self, config: ArmBackendConfig) -> None:
        if config.command_interface not in ("trajectory", "velocity"):
            raise ValueError(
                "arm.command_interface must be 'trajectory' or 'velocity', "
                f"got {config.command_interface!r}"
            )
        if config.header_stamp not in ("source", "zero"):
            raise ValueError(
                f"arm.header_stamp must be 'source' or 'zero', got {config.header_stamp!r}"
            )
        self.config = config
        self._node: Node | None = None

    @abstractmethod
    def connect(self, node: Node) -> None: ...

    @abstractmethod
    def send(
        self, q: np.ndarray, v: np.ndarray, source_stamp_ns: int
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def disconnect(self) -> None:
        self._node = None


class TopicArmBackend(ArmBackend):
    """franka_ros2-style controller topics (used by both the simulator and the real arm)."""

    name = "topic"

    def connect(self, node: Node) -> None:
        self._node = node
        if self.config.command_interface == "trajectory":
            self._pub = node.create_publisher(JointTrajectory, self.config.trajectory_topic, 10)
        else:
            self._pub = node.create_publisher(Float64MultiArray, self.config.velocity_topic, 10)
        sec = int(self.config.period_s)
        self._tfs = Duration(sec=sec, nanosec=int(round((self.config.period_s - sec) * 1e9)))

    def send(
        self, q: np.ndarray, v: np.ndarray, source_stamp_ns: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if self._node is None:
            raise RuntimeError("backend not connected")
        if self.config.command_interface == "velocity":
            self._pub.publish(Float64MultiArray(data=[float(x) for x in v]))
            return q, v
        msg = JointTrajectory()
        if self.config.header_stamp == "source" and source_stamp_ns > 0:
            msg.header.stamp = Time(
                sec=source_stamp_ns // 1_000_000_000, nanosec=source_stamp_ns % 1_000_000_000
            )
        msg.joint_names = list(self.config.joint_names)
        msg.points = [
            JointTrajectoryPoint(
                positions=[float(x) for x in q],
                velocities=[float(x) for x in v],
                time_from_start=self._tfs,
            )
        ]
        self._pub.publish(msg)
        return q, v


class PyBulletArmBackend(TopicArmBackend):
    """The simulated Panda in ``sim_node`` (it subscribes the same controller topics)."""

    name = "pybullet"
    default_joint_names = PANDA_ARM_JOINTS


class FrankaArmBackend(TopicArmBackend):
    """A real Franka through franka_ros2 (``fr3_arm_controller`` or a forward velocity
    controller)."""

    name = "franka"
    default_joint_names = FR3_ARM_JOINTS


ARM_BACKENDS: dict[str, type[TopicArmBackend]] = {
    PyBulletArmBackend.name: PyBulletArmBackend,
    FrankaArmBackend.name: FrankaArmBackend,
}


def make_arm_backend(name: str, config: ArmBackendConfig) -> ArmBackend:
    try:
        cls = ARM_BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown arm backend {name!r}; known: {sorted(ARM_BACKENDS)}") from None
    return cls(config)
