"""executor_node: the only node that commands the arm.

Thin plumbing: messages in go to :class:`ExecutorCore` (which command may move the arm, and how
far), :class:`ExecutorPacer` decides when it steps (event-driven and rate-limited on the steady
clock, one step per control period of sim time with ``control_clock: sim``; see
core/control/executor_pacing.py), and each step's reference goes out through the
:class:`ArmCommandPublisher`. The status reports what the arm was last told.

Status always, and control unless ``control_clock`` is sim, run on the steady clock: with
use_sim_time, a simulator that stops publishing /clock must not stop the watchdog from braking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from geometry_msgs.msg import TwistStamped
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Float64MultiArray, String

from ifagent_ros.core.control.executor_core import ExecutorConfig, ExecutorCore, StepOutput
from ifagent_ros.core.control.executor_pacing import ExecutorPacer
from ifagent_ros.core.control.kinematics import ArmKinematics, KinematicsConfig
from ifagent_ros.core.schemas import ExecutorLimits, ExecutorStatus
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.arm_command import ArmCommandConfig, ArmCommandPublisher
from ifagent_ros.nodes.estop_latch import EstopLatch
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class ExecutorTopics:
    twist: str = topics.EE_TWIST
    joint_velocity: str = topics.JOINT_VELOCITY
    joy: str = topics.JOY
    joint_states: str = topics.JOINT_STATES
    estop: str = topics.ESTOP
    status: str = topics.EXECUTOR_STATUS
    reset_estop_service: str = "/ifagent/executor/reset_estop"


@dataclass(frozen=True)
class ExecutorNodeConfig:
    # Which arm the commands go to, reported in the status; both take the same topics (arm.*).
    backend: Literal["pybullet", "franka"] = "pybullet"
    status_rate_hz: float = 20.0
    topics: ExecutorTopics = field(default_factory=ExecutorTopics)


# Parameter names that differ from the field paths (kept from before the configs were declared).
_NAMES = {"limits.workspace_min": "workspace.min", "limits.workspace_max": "workspace.max",
          "limits.ee_lever_bound": "workspace.lever_bound"}
_RENAMED = {"deadman_button": "pad.deadman", "joy_axes": "pad.num_axes",
            "joy_buttons": "pad.num_buttons"}
# Teleoperation rarely wants the arm's full speed: half the published limits by default.
_DEFAULTS = {"limits.velocity_scale": 0.5, "limits.acceleration_scale": 0.5}


class ExecutorNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "executor_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._closed = False
        self.config = declare_config(self, ExecutorConfig, overrides=_DEFAULTS, names=_NAMES,
                                     renamed=_RENAMED)
        kin = declare_config(self, KinematicsConfig, "kinematics",
                             names={"arm_joints": "kinematics.model_joint_names"})
        arm = declare_config(self, ArmCommandConfig, "arm", fixed={"period_s": self.config.dt})
        node_cfg = declare_config(self, ExecutorNodeConfig)
        if self.config.control_clock == "sim" and not self.get_parameter("use_sim_time").value:
            raise ValueError("control_clock: sim needs use_sim_time: true (the sim's /clock)")
        self.core = ExecutorCore(self.config, ArmKinematics(kin))
        self.pacer = ExecutorPacer(self.core)
        self.joint_names = list(arm.joint_names)
        if len(self.joint_names) != self.core.n:
            raise ValueError(f"arm.joint_names has {len(self.joint_names)} names, the model "
                             f"{self.core.n} joints")
        self.backend_name = node_cfg.backend
        self.arm = ArmCommandPublisher(self, arm)
        lim, f = self.config.limits, self.core.filter
        self._limits_msg = ExecutorLimits(
            velocity=list(f.vmax), acceleration=list(f.amax), jerk=list(f.jmax),
            position_lower=list(lim.position_lower), position_upper=list(lim.position_upper),
            position_margin=lim.position_margin, workspace_min=lim.workspace_min,
            workspace_max=lim.workspace_max, watchdog_timeout_s=self.config.watchdog_timeout_s,
            max_linear_speed=self.config.max_linear_speed,
            max_angular_speed=self.config.max_angular_speed)
        self._source_stamp_ns = 0
        t = node_cfg.topics
        self.create_subscription(TwistStamped, t.twist, self._on_twist, 100)
        self.create_subscription(Float64MultiArray, t.joint_velocity, self._on_joint_velocity, 100)
        self.create_subscription(Joy, t.joy, self._on_joy, 100)
        self.create_subscription(JointState, t.joint_states, self._on_joint_state, 10)
        self.estop = EstopLatch(self, self.core, t.estop, t.reset_estop_service,
                                stopping="braking", on_latch=self._brake,
                                closed=lambda: self._closed)
        self._status_pub = self.create_publisher(String, t.status, 10)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._timer = self.create_timer(self.config.dt, self._on_timer,
                                        clock=self.get_clock() if self.pacer.sim else steady)
        self._status_timer = self.create_timer(1.0 / node_cfg.status_rate_hz,
                                               self._publish_status, clock=steady)
        self.get_logger().info(
            f"executor up: backend={self.backend_name}, {self.config.control_rate_hz:.0f} Hz, "
            f"watchdog {self.config.watchdog_timeout_s * 1e3:.0f} ms, "
            f"deadman button {self.config.pad.deadman}")

    @property
    def steps(self) -> int:
        return self.pacer.steps

    # ------------------------------------------------------------------------ callbacks
    def _warn(self, reason: str | None) -> None:
        if reason is not None:
            self.get_logger().warning(reason, throttle_duration_sec=1.0)

    def _ros_now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _now(self) -> float:
        """The control clock: sim time (control_clock sim) or the steady clock."""
        return self._ros_now() if self.pacer.sim else time.monotonic()

    def _on_twist(self, msg: TwistStamped) -> None:
        if self._closed:
            return
        t, a = msg.twist.linear, msg.twist.angular
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        now = self._now()
        reason = self.core.on_twist(np.array([t.x, t.y, t.z, a.x, a.y, a.z]),
                                    msg.header.frame_id, stamp, now, self._ros_now())
        if reason is not None:
            return self._warn(reason)
        self._source_stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self._send(self.pacer.on_command(now))

    def _on_joint_velocity(self, msg: Float64MultiArray) -> None:
        if self._closed:
            return
        now = self._now()
        reason = self.core.on_joint_velocity(np.asarray(msg.data, dtype=float), now)
        if reason is not None:
            return self._warn(reason)
        self._source_stamp_ns = self.get_clock().now().nanoseconds
        self._send(self.pacer.on_command(now))

    def _on_joy(self, msg: Joy) -> None:
        if not self._closed:
            self._warn(self.core.on_joy(list(msg.axes), list(msg.buttons), self._now()))

    def _on_joint_state(self, msg: JointState) -> None:
        if self._closed:
            return
        index = {name: i for i, name in enumerate(msg.name)}
        try:
            q = np.array([msg.position[index[name]] for name in self.joint_names], dtype=float)
        except (KeyError, IndexError):
            return self._warn(f"joint state rejected: it lacks some of {self.joint_names}")
        self._warn(self.core.on_joint_state(q, self._now()))

    def _brake(self) -> None:
        """The e-stop just latched: brake now, not at the next tick."""
        self._send(self.pacer.on_estop(self._now()))

    def _on_timer(self) -> None:
        if not self._closed:
            self._send(self.pacer.on_timer(self._now()))

    def _send(self, out: StepOutput | None) -> None:
        if out is not None:
            self.arm.send(out.q, out.v, self._source_stamp_ns)
        elif not self.core.filter.initialized:
            self._warn("waiting for /joint_states before commanding the arm")

    def _publish_status(self) -> None:
        if self._closed:
            return
        core = self.core
        ee = (tuple(float(x) for x in core.kin.ee_position(core.filter.q))
              if core.filter.initialized else None)
        status = ExecutorStatus(
            stamp=self._ros_now(), mode=core.last_mode,  # type: ignore[arg-type]
            backend=self.backend_name, deadman_held=core.deadman,
            estop_latched=core.estop_latched, watchdog_tripped=core.watchdog_tripped,
            command_source=core.command.source if core.command is not None else None,
            last_rejection=core.last_rejection, rejections=core.rejections,
            interventions=dict(core.interventions), ee_position=ee,  # type: ignore[arg-type]
            joint_velocity=[float(x) for x in core.filter.v], limits=self._limits_msg,
            commanded=self.arm.last, commands_sent=self.arm.sent)
        self._status_pub.publish(String(data=status.model_dump_json()))

    def close(self) -> None:
        self._closed = True


NODE_CLASS = ExecutorNode


def main(args: list[str] | None = None) -> None:
    run_node(ExecutorNode, args)


if __name__ == "__main__":
    main()
