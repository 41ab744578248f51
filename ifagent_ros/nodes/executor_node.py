"""executor_node: the only node that commands the arm.

Thin plumbing around :class:`ExecutorCore`: it converts messages, keeps the control clock, and hands
the filtered reference to an arm backend. Steps are event-driven (a new command is filtered and sent
at once, so teleop latency stays low) and rate-limited (the reference never advances faster than one
control period per period of wall time, so a burst of messages cannot speed the arm up); a timer
keeps stepping when commands stop, which is what brakes on a stale command, a released deadman or an
e-stop.

``control_clock``: ``steady`` (default; a robot, or a sim at wall speed) steps on the steady clock,
so a simulator that stops publishing /clock cannot stop the watchdog from braking. ``sim`` (with
``use_sim_time``; what campaigns use) steps on the simulator's clock: the timer fires as /clock
advances and takes one step per elapsed control period, so the arm moves at its commanded speed
in sim time whatever ``time_scale`` the sim runs at (on the steady clock it would move
``time_scale`` times too slowly in sim time). Without /clock it does not step, and neither does the
simulated arm.
"""

from __future__ import annotations

import time

import numpy as np
from geometry_msgs.msg import TwistStamped
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger

from ifagent_ros.core.control.executor_core import ExecutorConfig, ExecutorCore, StepOutput
from ifagent_ros.core.control.kinematics import ArmKinematics, KinematicsConfig
from ifagent_ros.core.control.robot_model import EE_FRAME, FRANKA_LIMITS, PANDA_ARM_JOINTS
from ifagent_ros.core.control.safety_filter import SafetyLimits
from ifagent_ros.core.schemas import ExecutorLimits, ExecutorStatus
from ifagent_ros.nodes.arm_backends import ArmBackendConfig, make_arm_backend
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.topics import ESTOP_QOS

CONTROL_CLOCKS = ("steady", "sim")
MAX_CATCH_UP = 50  # control periods the sim clock may jump in one go and still be stepped through

_DEFAULTS: dict[str, object] = {
    "backend": "pybullet",
    "control_rate_hz": 500.0,
    "control_clock": "steady",
    "frame_id": "base_link",
    "watchdog_timeout_s": 0.1,
    "future_tolerance_s": 0.05,
    "joy_timeout_s": 0.5,
    "joint_state_timeout_s": 0.2,
    "deadman_button": 5,
    "joy_axes": 8,
    "joy_buttons": 11,
    "require_deadman": True,
    "max_linear_speed": 0.25,
    "max_angular_speed": 1.0,
    "max_tracking_error": 0.15,
    "resync_tolerance": 0.01,
    "limits.position_lower": list(FRANKA_LIMITS.position_lower),
    "limits.position_upper": list(FRANKA_LIMITS.position_upper),
    "limits.position_margin": 0.05,
    "limits.velocity": list(FRANKA_LIMITS.velocity),
    "limits.acceleration": list(FRANKA_LIMITS.acceleration),
    "limits.jerk": list(FRANKA_LIMITS.jerk),
    "limits.velocity_scale": 0.5,
    "limits.acceleration_scale": 0.5,
    "workspace.min": [0.15, -0.6, 0.0],
    "workspace.max": [0.85, 0.6, 0.8],
    "workspace.lever_bound": 1.2,
    "kinematics.urdf_path": "",
    "kinematics.ee_frame": EE_FRAME,
    "kinematics.model_joint_names": list(PANDA_ARM_JOINTS),
    "arm.joint_names": list(PANDA_ARM_JOINTS),
    "arm.command_interface": "trajectory",
    "arm.trajectory_topic": "/panda_arm_controller/joint_trajectory",
    "arm.velocity_topic": "/forward_velocity_controller/commands",
    "arm.header_stamp": "source",
    "topics.twist": "/ifagent/ee_twist_cmd",
    "topics.joint_velocity": "/ifagent/joint_velocity_cmd",
    "topics.joy": "/joy",
    "topics.joint_states": "/joint_states",
    "topics.estop": "/ifagent/estop",
    "topics.status": "/ifagent/executor/status",
    "topics.reset_estop_service": "/ifagent/executor/reset_estop",
    "status_rate_hz": 20.0,
}


def _floats(values: object) -> tuple[float, ...]:
    return tuple(float(x) for x in values)  # type: ignore[union-attr]


class ExecutorNode(Node):
    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "executor_node",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._closed = False
        p = {
            name: self.declare_parameter(name, default).value for name, default in _DEFAULTS.items()
        }
        limits = SafetyLimits(
            position_lower=_floats(p["limits.position_lower"]),
            position_upper=_floats(p["limits.position_upper"]),
            position_margin=float(p["limits.position_margin"]),
            velocity=_floats(p["limits.velocity"]),
            acceleration=_floats(p["limits.acceleration"]),
            jerk=_floats(p["limits.jerk"]),
            velocity_scale=float(p["limits.velocity_scale"]),
            acceleration_scale=float(p["limits.acceleration_scale"]),
            workspace_min=_floats(p["workspace.min"]),  # type: ignore[arg-type]
            workspace_max=_floats(p["workspace.max"]),  # type: ignore[arg-type]
            ee_lever_bound=float(p["workspace.lever_bound"]),
        )
        self.config = ExecutorConfig(
            control_rate_hz=float(p["control_rate_hz"]),
            frame_id=str(p["frame_id"]),
            watchdog_timeout_s=float(p["watchdog_timeout_s"]),
            future_tolerance_s=float(p["future_tolerance_s"]),
            joy_timeout_s=float(p["joy_timeout_s"]),
            joint_state_timeout_s=float(p["joint_state_timeout_s"]),
            deadman_button=int(p["deadman_button"]),
            joy_axes=int(p["joy_axes"]),
            joy_buttons=int(p["joy_buttons"]),
            require_deadman=bool(p["require_deadman"]),
            max_linear_speed=float(p["max_linear_speed"]),
            max_angular_speed=float(p["max_angular_speed"]),
            max_tracking_error=float(p["max_tracking_error"]),
            resync_tolerance=float(p["resync_tolerance"]),
            limits=limits,
        )
        kin = ArmKinematics(
            KinematicsConfig(
                urdf_path=str(p["kinematics.urdf_path"]),
                ee_frame=str(p["kinematics.ee_frame"]),
                arm_joints=tuple(p["kinematics.model_joint_names"]),  # type: ignore[arg-type]
            )
        )
        self.core = ExecutorCore(self.config, kin)
        self.joint_names = list(p["arm.joint_names"])  # type: ignore[call-overload]
        if len(self.joint_names) != self.core.n:
            raise ValueError(
                f"arm.joint_names has {len(self.joint_names)} names, the model {self.core.n} joints"
            )
        self.backend_name = str(p["backend"])
        self.backend = make_arm_backend(
            self.backend_name,
            ArmBackendConfig(
                joint_names=tuple(self.joint_names),
                command_interface=str(p["arm.command_interface"]),
                trajectory_topic=str(p["arm.trajectory_topic"]),
                velocity_topic=str(p["arm.velocity_topic"]),
                header_stamp=str(p["arm.header_stamp"]),
                period_s=self.config.dt,
            ),
        )
        self.backend.connect(self)
        self._limits_msg = ExecutorLimits(
            velocity=list(self.core.filter.vmax),
            acceleration=list(self.core.filter.amax),
            jerk=list(self.core.filter.jmax),
            position_lower=list(limits.position_lower),
            position_upper=list(limits.position_upper),
            position_margin=limits.position_margin,
            workspace_min=limits.workspace_min,
            workspace_max=limits.workspace_max,
            watchdog_timeout_s=self.config.watchdog_timeout_s,
            max_linear_speed=self.config.max_linear_speed,
            max_angular_speed=self.config.max_angular_speed,
        )

        dt = self.config.dt
        self.control_clock = str(p["control_clock"])
        if self.control_clock not in CONTROL_CLOCKS:
            raise ValueError(f"control_clock must be one of {CONTROL_CLOCKS}, "
                             f"got {self.control_clock!r}")
        self._sim_clock = self.control_clock == "sim"
        if self._sim_clock and not self.get_parameter("use_sim_time").value:
            raise ValueError("control_clock: sim needs use_sim_time: true (the sim's /clock)")
        self._vt = -1e9  # control-clock time the newest reference point stands for
        self._last_cmd_arrival = -1e9
        self._source_stamp_ns = 0
        self.steps = 0
        self.step_times: list[float] = []  # seconds spent in kinematics + filter, for benchmarks
        self.record_step_times = False
        self.create_subscription(TwistStamped, str(p["topics.twist"]), self._on_twist, 100)
        self.create_subscription(
            Float64MultiArray, str(p["topics.joint_velocity"]), self._on_joint_velocity, 100
        )
        self.create_subscription(Joy, str(p["topics.joy"]), self._on_joy, 100)
        self.create_subscription(
            JointState, str(p["topics.joint_states"]), self._on_joint_state, 10
        )
        self.create_subscription(Bool, str(p["topics.estop"]), self._on_estop, ESTOP_QOS)
        self._status_pub = self.create_publisher(String, str(p["topics.status"]), 10)
        self._reset_service = str(p["topics.reset_estop_service"])
        self.create_service(Trigger, self._reset_service, self._on_reset_estop)
        # Status always, control unless control_clock is sim, run on the steady clock: with
        # use_sim_time, a simulator that stops publishing /clock must not stop the watchdog.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._timer = self.create_timer(
            dt, self._on_timer, clock=self.get_clock() if self._sim_clock else steady)
        self._status_timer = self.create_timer(
            1.0 / float(p["status_rate_hz"]), self._publish_status, clock=steady
        )
        self.get_logger().info(
            f"executor up: backend={self.backend_name}, {self.config.control_rate_hz:.0f} Hz, "
            f"watchdog {self.config.watchdog_timeout_s * 1e3:.0f} ms, "
            f"deadman button {self.config.deadman_button}"
        )

    # ------------------------------------------------------------------------ callbacks
    def _warn(self, reason: str | None) -> None:
        if reason is not None:
            self.get_logger().warning(reason, throttle_duration_sec=1.0)

    def _ros_now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _now(self) -> float:
        """The control clock: sim time (control_clock sim) or the steady clock."""
        return self._ros_now() if self._sim_clock else time.monotonic()

    def _on_twist(self, msg: TwistStamped) -> None:
        if self._closed:
            return
        t, a = msg.twist.linear, msg.twist.angular
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        now = self._now()
        reason = self.core.on_twist(
            np.array([t.x, t.y, t.z, a.x, a.y, a.z]),
            msg.header.frame_id,
            stamp,
            now,
            self._ros_now(),
        )
        if reason is not None:
            self._warn(reason)
            return
        self._source_stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self._last_cmd_arrival = now
        self._try_step(now)

    def _on_joint_velocity(self, msg: Float64MultiArray) -> None:
        if self._closed:
            return
        now = self._now()
        reason = self.core.on_joint_velocity(np.asarray(msg.data, dtype=float), now)
        if reason is not None:
            self._warn(reason)
            return
        self._source_stamp_ns = self.get_clock().now().nanoseconds
        self._last_cmd_arrival = now
        self._try_step(now)

    def _on_joy(self, msg: Joy) -> None:
        if self._closed:
            return
        self._warn(self.core.on_joy(list(msg.axes), list(msg.buttons), self._now()))

    def _on_joint_state(self, msg: JointState) -> None:
        if self._closed:
            return
        index = {name: i for i, name in enumerate(msg.name)}
        try:
            q = np.array([msg.position[index[name]] for name in self.joint_names], dtype=float)
        except (KeyError, IndexError):
            self._warn(f"joint state rejected: it lacks some of {self.joint_names}")
            return
        self._warn(self.core.on_joint_state(q, self._now()))

    def _on_estop(self, msg: Bool) -> None:
        if self._closed:
            return
        was = self.core.estop_latched
        self.core.on_estop(bool(msg.data))
        if self.core.estop_latched and not was:
            self.get_logger().error(
                f"E-STOP latched: braking; publish False, then call {self._reset_service} to clear"
            )
            self._try_step(self._now(), force=True)

    def _on_reset_estop(
        self, request: Trigger.Request, response: Trigger.Response
    ) -> Trigger.Response:
        response.success, response.message = self.core.reset_estop()
        self.get_logger().info(f"reset_estop: {response.message}")
        return response

    def _on_timer(self) -> None:
        if self._closed:
            return
        now = self._now()
        if self._sim_clock:
            self._catch_up(now)
        # The timer steps only when the command stream is not already driving the steps.
        elif now - self._last_cmd_arrival >= 1.5 * self.config.dt:
            self._try_step(now)

    def _catch_up(self, now: float) -> None:
        """Sim clock: one step per control period elapsed since the last (the sim's /clock moves
        in physics steps, often longer than a control period); only the newest point is sent.
        After a pause longer than MAX_CATCH_UP periods the missed periods are dropped, not
        replayed."""
        dt = self.config.dt
        if now - self._vt > MAX_CATCH_UP * dt:
            self._vt = now - dt
        out = None
        while self._vt + dt <= now + 1e-9:
            self._vt += dt
            out = self._step(self._vt) or out
        if out is not None:
            self.backend.send(out.q, out.v, self._source_stamp_ns)

    # ------------------------------------------------------------------------ control
    def _try_step(self, now: float, force: bool = False) -> None:
        dt = self.config.dt
        # Sim clock: the timer steps as /clock advances (an e-stop still brakes at once).
        if self._sim_clock and not force:
            return
        # Rate limit: the reference may not run ahead of the clock by more than half a period.
        if not force and now < self._vt + 0.5 * dt:
            return
        out = self._step(now)
        if out is None:
            return
        self._vt = max(self._vt + dt, now)
        self.backend.send(out.q, out.v, self._source_stamp_ns)

    def _step(self, now: float) -> StepOutput | None:
        t0 = time.perf_counter()
        out = self.core.step(now)
        if self.record_step_times:
            self.step_times.append(time.perf_counter() - t0)
        if out is None:
            self._warn("waiting for /joint_states before commanding the arm")
            return None
        self.steps += 1
        return out

    def _publish_status(self) -> None:
        if self._closed:
            return
        core = self.core
        ee = (
            tuple(float(x) for x in core.kin.ee_position(core.filter.q))
            if core.filter.initialized
            else None
        )
        status = ExecutorStatus(
            stamp=self._ros_now(),
            mode=core.last_mode,  # type: ignore[arg-type]
            backend=self.backend_name,
            deadman_held=core.deadman,
            estop_latched=core.estop_latched,
            watchdog_tripped=core.watchdog_tripped,
            command_source=core.command.source if core.command is not None else None,
            last_rejection=core.last_rejection,
            rejections=core.rejections,
            interventions=dict(core.interventions),
            ee_position=ee,  # type: ignore[arg-type]
            joint_velocity=[float(x) for x in core.filter.v],
            limits=self._limits_msg,
        )
        self._status_pub.publish(String(data=status.model_dump_json()))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.backend.disconnect()


NODE_CLASS = ExecutorNode


def main(args: list[str] | None = None) -> None:
    run_node(ExecutorNode, args)


if __name__ == "__main__":
    main()
