"""The executor's decision logic, free of ROS: which command may move the arm, and how far.

Inputs arrive as plain values with a time ``now`` (seconds, any monotonic clock — the node passes
its ROS clock, tests pass a fake one). Every control step ``step(now)`` decides the desired joint
velocity — the newest valid command, or a brake when the e-stop is latched, the deadman is released,
the command is stale (watchdog), the joint states are stale, or the reference has drifted from the
measured arm — and passes it through the one :class:`SafetyFilter`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ifagent_ros.core.control.gamepad import PadLayout
from ifagent_ros.core.control.kinematics import ArmKinematics
from ifagent_ros.core.control.safety_filter import FilterResult, SafetyFilter, SafetyLimits

# When steps run (executor_pacing.py): "steady" on the steady clock, "sim" on the sim's /clock.
ControlClock = Literal["steady", "sim"]
CONTROL_CLOCKS: tuple[ControlClock, ...] = ("steady", "sim")


@dataclass(frozen=True)
class ExecutorConfig:
    control_rate_hz: float = 500.0
    control_clock: ControlClock = "steady"
    frame_id: str = "base_link"
    watchdog_timeout_s: float = 0.1  # brake when the newest command is older than this
    future_tolerance_s: float = 0.05  # commands stamped further in the future are rejected
    joy_timeout_s: float = 0.5  # no /joy for this long == deadman released (gamepad unplugged)
    joint_state_timeout_s: float = 0.2  # stale /joint_states -> brake
    pad: PadLayout = field(default_factory=PadLayout)  # its deadman button: motion only while held
    require_deadman: bool = True
    max_linear_speed: float = 0.25  # m/s, twist norm clipped to this
    max_angular_speed: float = 1.0  # rad/s
    max_tracking_error: float = 0.15  # rad between reference and measured -> brake and resync
    resync_tolerance: float = 0.01  # rad; at rest the reference snaps back to the measured arm
    limits: SafetyLimits = field(default_factory=SafetyLimits)

    def __post_init__(self) -> None:
        if self.control_clock not in CONTROL_CLOCKS:
            raise ValueError(f"control_clock must be one of {CONTROL_CLOCKS}, "
                             f"got {self.control_clock!r}")
        if not (math.isfinite(self.control_rate_hz) and self.control_rate_hz > 0):
            raise ValueError(f"control_rate_hz must be finite and > 0, got {self.control_rate_hz}")

    @property
    def dt(self) -> float:
        return 1.0 / self.control_rate_hz


@dataclass
class StepOutput:
    q: np.ndarray  # reference position to command
    v: np.ndarray  # reference velocity to command
    mode: str  # idle | moving | braking | holding | estop
    brake_reason: str | None
    result: FilterResult


@dataclass
class _Command:
    source: str  # "twist" | "joint_velocity"
    value: np.ndarray
    received: float  # when it arrived (executor clock)


class ExecutorCore:
    def __init__(self, config: ExecutorConfig, kinematics: ArmKinematics) -> None:
        self.config = config
        self.kin = kinematics
        self.filter = SafetyFilter(config.limits, config.dt, ee_position=kinematics.ee_position)
        self.n = self.filter.n
        self.command: _Command | None = None
        self.deadman = False
        self.last_joy: float | None = None
        self.estop_latched = False
        self.estop_input = False
        self.q_measured: np.ndarray | None = None
        self.last_joint_state: float | None = None
        self.last_rejection: str | None = None
        self.rejections = 0
        self.interventions: dict[str, int] = {}
        self.watchdog_tripped = False
        self.last_mode = "idle"

    # ---------------------------------------------------------------------------- inputs
    def _reject(self, reason: str) -> str:
        self.last_rejection = reason
        self.rejections += 1
        return reason

    def on_twist(
        self,
        twist: np.ndarray,
        frame_id: str,
        stamp: float,
        now: float,
        stamp_now: float | None = None,
    ) -> str | None:
        """Accept an end-effector twist [vx, vy, vz, wx, wy, wz]; returns a rejection reason or
        None.

        ``now`` is the executor's (steady) clock used by the watchdog; ``stamp_now`` is the current
        time on the clock the stamps use (ROS time, possibly simulated), defaulting to ``now``.
        """
        stamp_now = now if stamp_now is None else stamp_now
        twist = np.array(twist, dtype=float)  # a copy: clipped in place below
        if twist.shape != (6,) or not np.isfinite(twist).all():
            return self._reject(f"twist rejected: non-finite or malformed values {twist.tolist()}")
        if frame_id != self.config.frame_id:
            return self._reject(
                f"twist rejected: frame {frame_id!r} is not {self.config.frame_id!r}"
            )
        if not np.isfinite(stamp):
            return self._reject("twist rejected: non-finite stamp")
        if stamp > stamp_now + self.config.future_tolerance_s:
            return self._reject(f"twist rejected: stamped {stamp - stamp_now:.3f} s in the future")
        if stamp > 0 and stamp_now - stamp > self.config.watchdog_timeout_s:
            age = stamp_now - stamp
            return self._reject(
                f"twist rejected: {age:.3f} s old (limit {self.config.watchdog_timeout_s} s)"
            )
        lin, ang = twist[:3], twist[3:]
        for part, vmax in (
            (lin, self.config.max_linear_speed),
            (ang, self.config.max_angular_speed),
        ):
            norm = float(np.linalg.norm(part))
            if norm > vmax:
                part *= vmax / norm
        self.command = _Command("twist", twist, now)
        return None

    def on_joint_velocity(self, qd: np.ndarray, now: float) -> str | None:
        qd = np.asarray(qd, dtype=float)
        if qd.shape != (self.n,) or not np.isfinite(qd).all():
            return self._reject(
                f"joint velocity rejected: need {self.n} finite values, got {qd.tolist()}"
            )
        self.command = _Command("joint_velocity", qd, now)
        return None

    def on_joy(self, axes: list[float], buttons: list[int], now: float) -> str | None:
        pad = self.config.pad
        shape = pad.shape_error(axes, buttons)
        if shape is not None:
            self.deadman = False
            return self._reject(f"joy rejected: {shape}")
        if not all(np.isfinite(a) for a in axes):
            self.deadman = False
            return self._reject("joy rejected: non-finite axis value")
        was = self.deadman
        self.deadman = bool(buttons[pad.deadman] == 1)
        self.last_joy = now
        if was and not self.deadman:
            self.command = (
                None  # a release forgets the last command: the next press starts from zero
            )
        return None

    def on_joint_state(self, q: np.ndarray, now: float) -> str | None:
        q = np.asarray(q, dtype=float)
        if q.shape != (self.n,) or not np.isfinite(q).all():
            return self._reject(f"joint state rejected: need {self.n} finite positions")
        self.q_measured = q
        self.last_joint_state = now
        return None

    def on_estop(self, active: bool) -> None:
        self.estop_input = bool(active)
        if active:
            self.estop_latched = True

    def reset_estop(self) -> tuple[bool, str]:
        if self.estop_input:
            return False, "e-stop input is still active: publish False on the e-stop topic first"
        was = self.estop_latched
        self.estop_latched = False
        self.command = None
        return True, "e-stop reset" if was else "e-stop was not latched"

    # ---------------------------------------------------------------------------- control
    def brake_reason(self, now: float) -> str | None:
        cfg = self.config
        if self.estop_latched:
            return "estop"
        if self.last_joint_state is None or now - self.last_joint_state > cfg.joint_state_timeout_s:
            return "stale_joint_states"
        if cfg.require_deadman:
            if self.last_joy is None or now - self.last_joy > cfg.joy_timeout_s:
                return "no_joy"
            if not self.deadman:
                return "deadman_released"
        if self.command is None:
            return "no_command"
        if now - self.command.received > cfg.watchdog_timeout_s:
            return "watchdog"
        return None

    def step(self, now: float) -> StepOutput | None:
        """One control period. None until the first joint state has arrived."""
        if not self.filter.initialized:
            if self.q_measured is None:
                return None
            self.filter.reset(self.q_measured)
        reason = self.brake_reason(now)
        self.watchdog_tripped = reason == "watchdog"
        if self.q_measured is not None and reason != "stale_joint_states":
            err = float(np.abs(self.filter.q - self.q_measured).max())
            if self.filter.at_rest and err > self.config.resync_tolerance:
                self.filter.reset(self.q_measured)  # the arm was moved or sagged: hold where it is
            elif err > self.config.max_tracking_error:
                reason = reason or "tracking_error"
        if reason is None:
            assert self.command is not None
            if self.command.source == "twist":
                qd, _ = self.kin.twist_to_joint_velocity(
                    self.filter.q, self.command.value
                )
            else:
                qd = self.command.value
            # Scale uniformly into the velocity limits so the direction (the operator's intent)
            # holds.
            ratio = float((np.abs(qd) / self.filter.vmax).max())
            if ratio > 1.0:
                qd = qd / ratio
                self._count("velocity_scaled")
            result = self.filter.step(qd)
        else:
            result = self.filter.step(np.zeros(self.n), brake=True)
        for name in result.interventions:
            if name != "brake":
                self._count(name)
        if self.estop_latched:
            mode = "estop"
        elif reason is None:
            mode = "moving"
        elif not self.filter.at_rest:
            mode = "braking"
        else:
            mode = "holding" if reason in ("watchdog", "no_command") and self.deadman else "idle"
        self.last_mode = mode
        return StepOutput(q=result.q, v=result.v, mode=mode, brake_reason=reason, result=result)

    def _count(self, name: str) -> None:
        self.interventions[name] = self.interventions.get(name, 0) + 1
