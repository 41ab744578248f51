"""The tabletop sim node's arm and gripper inputs: franka_ros2-style commands -> TabletopSim.

A single-point ``JointTrajectory`` (position control; names in any order, exactly the arm's),
``Float64MultiArray`` joint velocities, or a ``Float64`` gripper width. A command that cannot be
applied is logged (throttled) and the arm holds its current position. :meth:`before_step` runs
before every physics step: a stale velocity command stops the arm, and a streamed position
target moves on at its velocity until the next point arrives (see there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from std_msgs.msg import Float64, Float64MultiArray
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.sim.tabletop import TabletopSim


class ArmCommands:
    def __init__(self, sim: TabletopSim, arm_names: list[str], command_timeout_s: float,
                 logger: Any) -> None:
        self.sim: TabletopSim | None = sim  # None once the node closed it
        self._arm_names = arm_names
        self._cmd_timeout = command_timeout_s
        self._log = logger
        self.mode = "hold"  # "position", "velocity" or "hold"
        self._vel_cmd_time = 0.0
        self._pos_cmd: tuple[np.ndarray, np.ndarray, float] | None = None  # (q, qd, sim time)

    def before_step(self) -> None:
        sim = self.sim
        if sim is None:
            return
        if self.mode == "velocity" and sim.time - self._vel_cmd_time > self._cmd_timeout:
            sim.hold_position()  # stale velocity command: stop, like a real controller
            self.mode = "hold"
        elif self.mode == "position" and self._pos_cmd is not None:
            # A streamed point (q, qd) holds for one control period; when several physics steps
            # run before the next one arrives (a catch-up after a stall, time_scale > 1), move
            # the target on at qd for up to arm.command_timeout_s, then hold there, instead of
            # letting the arm settle on a stale target and race to the next one.
            q, qd, t_cmd = self._pos_cmd
            ahead = min(sim.time - t_cmd, self._cmd_timeout)
            if ahead > 0.0:
                target = np.clip(q + qd * ahead, sim.joint_lower, sim.joint_upper)
                sim.set_joint_position_targets(target, qd if ahead < self._cmd_timeout else None)
                if ahead >= self._cmd_timeout:
                    self._pos_cmd = None

    def _reject(self, what: str, err: Exception) -> None:
        self._log.warning(f"rejected {what}: {err}; holding position", throttle_duration_sec=1.0)
        try:
            if self.sim is not None:
                self.sim.hold_position()
            self.mode = "hold"
        except Exception as hold_err:  # noqa: BLE001 - e.g. closed sim: nothing to hold
            self._log.error(f"hold failed: {hold_err!r}", throttle_duration_sec=1.0)

    def _reorder(self, names: list[str], values: Any, what: str) -> np.ndarray:
        """Values given in message order -> this node's arm.joint_names order."""
        if len(values) != len(names):
            raise ValueError(f"{len(values)} {what} for {len(names)} joint names")
        index = {n: i for i, n in enumerate(names)}
        return np.array([float(values[index[n]]) for n in self._arm_names])

    def on_trajectory(self, msg: JointTrajectory) -> None:
        if self.sim is None:
            return
        try:
            names = list(msg.joint_names)
            unknown = sorted(set(names) - set(self._arm_names))
            if unknown or len(set(names)) != len(names) or set(names) != set(self._arm_names):
                raise ValueError(f"joint_names {names} must be exactly {self._arm_names}"
                                 + (f" (unknown: {unknown})" if unknown else ""))
            if not msg.points:
                raise ValueError("trajectory has no points")
            point = msg.points[-1]
            q = self._reorder(names, point.positions, "positions")
            qd = (self._reorder(names, point.velocities, "velocities")
                  if len(point.velocities) else None)
            self.sim.set_joint_position_targets(q, qd)
            self.mode = "position"
            # kept for the steps until the next command: the target moves on at qd (see
            # before_step), as the reference it was sampled from does
            self._pos_cmd = (None if qd is None else
                             (np.asarray(q, float), np.asarray(qd, float), self.sim.time))
        except (ValueError, TypeError) as err:
            self._reject("joint trajectory", err)

    def on_velocity(self, msg: Float64MultiArray) -> None:
        if self.sim is None:
            return
        try:
            self.sim.set_joint_velocities(list(msg.data))
            self.mode = "velocity"
            self._pos_cmd = None
            self._vel_cmd_time = self.sim.time
        except (ValueError, TypeError) as err:
            self._reject("joint velocity command", err)

    def on_gripper(self, msg: Float64) -> None:
        if self.sim is None:
            return
        try:
            self.sim.set_gripper_width(msg.data)
        except (ValueError, TypeError) as err:
            self._log.warning(f"rejected gripper command: {err}", throttle_duration_sec=1.0)
