"""The simulated teleoperator of the shared-autonomy evaluation (after "Simulating User Agents").

A scripted *person* with a gamepad and a voice. It knows the task's goal (the waypoints of
``tasks.py``, re-planned from the objects it sees until it grasps), watches the end effector,
the gripper and the objects with a reaction delay (and extrapolates what it saw over that
delay), and only does what a person can do: hold RB (the deadman), push the left stick, press
buttons, say a correction. It never reads the controller's internals, so the same user drives
the in-process benchmark and the real node graph. The same person in every interface: the same
delay, stick noise, approach gain, maximum deflection and waypoint tolerances (way points with
no gripper action are passed within ``pass_tolerance_m``).

* ``latent`` (LILA / LILAC): it does not know the learned basis. Like a person it PROBES (a short
  push back and forth along each stick axis, gentler near the goal, watching how the gripper
  moves) and keeps an online estimate of the stick -> end-effector motion map (recursive least
  squares with forgetting, 6x2), then pushes the stick that best moves towards the waypoint
  while keeping the gripper's orientation (weighted least squares, clipped). It re-probes after
  every change of conditioning and gripper action. With corrections on (LILAC), when progress
  stalls (distance to the waypoint not reduced by ``stall_progress_m`` over
  ``stall_window_s``) it says a correction from the primitive phrasing pool (held-out phrasings
  in evaluation) in the direction of the largest remaining error (a tilt/twist when the gripper
  is visibly rotated), and presses the revert button (LILAC's reset to the instruction) when
  that correction has done its job, when it stalls again under it, or at the waypoint.
* ``teleop`` (the mode-switching baseline): per waypoint the logic of
  :class:`~ifagent_ros.core.control.scripted_operator.ScriptedOperator` (rise, align x/y, go down,
  switching modes with X), after each switch first seeing the new mode (``mode_switch_pause_s``).
* ``policy`` (BC): it holds the deadman and pushes the stick (the "go" signal); it never speaks.

Gripper: at a waypoint that opens or closes, the latent and teleop users centre the stick, press
that button and wait until they have seen the fingers settle. A person checks a grasp: if the
block did not come up with the gripper, it opens and tries again.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ifagent_ros.core.control.scripted_operator import ScriptedOperator, ScriptedOperatorConfig
from ifagent_ros.core.control.teleop import TeleopMode
from ifagent_ros.core.latent_actions.conditions import INTERFACES, Interface
from ifagent_ros.core.latent_actions.expert import rotation_vector
from ifagent_ros.core.latent_actions.sim_user_models import (
    GoalTracker,
    SimUserConfig,
    StickMapEstimate,
    UserPad,
    correction_done,
    pad_for,
    pick_primitive,
)
from ifagent_ros.core.latent_actions.tasks import (
    ArmObservation,
    Primitive,
    Split,
    TaskInstance,
    Waypoint,
)

__all__ = ["INTERFACES", "GoalTracker", "Interface", "SimUserConfig", "SimulatedUser",
           "StickMapEstimate", "UserOutput", "UserPad", "pad_for", "user_for"]


@dataclass
class UserOutput:
    axes: list[float]
    buttons: list[int]
    speech: str | None = None  # a correction to say now
    done: bool = False
    phase: str = ""


class SimulatedUser:
    """Call :meth:`observe` with what the person sees and :meth:`step` once per message."""

    def __init__(self, task: TaskInstance, interface: Interface = "latent",
                 config: SimUserConfig | None = None, pad: UserPad | None = None,
                 corrections: bool = True, split: Split = "heldout") -> None:
        if interface not in INTERFACES:
            raise ValueError(f"interface must be one of {INTERFACES}, got {interface!r}")
        self.task = task
        self.interface = interface
        self.config = cfg = config or SimUserConfig()
        self.pad = pad or pad_for(interface)
        self.corrections_enabled = corrections and interface == "latent"
        self.split: Split = split
        self.rng = np.random.default_rng(cfg.seed)
        self.gain_error = 1.0 + (1.0 - cfg.skill) * float(self.rng.uniform(-0.3, 0.3))
        self.tracker = GoalTracker(task)
        self.estimate = StickMapEstimate(cfg.forgetting)
        self._seen_buf: deque[ArmObservation] = deque(maxlen=2000)
        self._seen: ArmObservation | None = None
        self._prev_seen: ArmObservation | None = None
        self._z_hist: deque[tuple[float, np.ndarray]] = deque(maxlen=200)
        self._ref_rot: np.ndarray | None = None
        self._presses: deque[int] = deque()  # buttons to press, one message each
        self._release_next = False
        self._probe: list[tuple[np.ndarray, float]] = []  # (z, until)
        self._probe_due = True
        self._gripper_wait: tuple[str, float] | None = None  # (command, since)
        self._progress: deque[tuple[float, float]] = deque()
        self._wp_since = 0.0
        self._near_since: float | None = None
        self._last_speech = -math.inf
        self._correction: tuple[Primitive, float] | None = None  # active one, its error then
        self._operator: ScriptedOperator | None = None
        self._teleop_mode = TeleopMode.TRANSLATE_XY
        self._mode_pause_until = -math.inf
        self._drift_since: float | None = None
        self.done = False
        self.phase = "waiting"
        self.counts = {"corrections": 0, "reverts": 0, "probes": 0, "presses": 0, "regrasps": 0}
        self.said: list[str] = []

    # ------------------------------------------------------------------ perception
    def observe(self, obs: ArmObservation) -> None:
        """What the person's eyes get at ``obs.time``; used ``reaction_delay_s`` later. A
        frame with NaN/inf in the arm's pose or time is not seen (ValueError says why)."""
        parts = (obs.time, obs.ee_position, obs.ee_rotation, obs.gripper_width)
        if not all(np.all(np.isfinite(np.asarray(p, dtype=float))) for p in parts):
            raise ValueError("observation with NaN or inf in time, pose or gripper width")
        if self._seen_buf and obs.time < self._seen_buf[-1].time:
            raise ValueError(f"observation time went back ({obs.time} < "
                             f"{self._seen_buf[-1].time})")
        self._seen_buf.append(obs)

    def observe_status(self, status: dict[str, Any]) -> None:
        """The interface's status display (teleop: the mode it reports)."""
        mode = status.get("teleop_mode")
        if self._operator is not None and isinstance(mode, str):
            self._operator.observe_teleop_mode(mode, float(status.get("stamp", 0.0)))

    def _perceive(self, now: float) -> bool:
        """Advance to the newest observation at least ``reaction_delay_s`` old."""
        horizon = now - self.config.reaction_delay_s
        newest = None
        while self._seen_buf and self._seen_buf[0].time <= horizon + 1e-9:
            newest = self._seen_buf.popleft()
        if newest is None:
            return self._seen is not None
        self._prev_seen, self._seen = self._seen, newest
        if self._ref_rot is None:
            self._ref_rot = np.asarray(newest.ee_rotation, dtype=float).copy()
        self._learn()
        return True

    def _learn(self) -> None:
        a, b = self._prev_seen, self._seen
        if a is None or b is None or b.time - a.time < 1e-6 or self._gripper_wait is not None:
            return
        dt = b.time - a.time
        v = (np.asarray(b.ee_position) - np.asarray(a.ee_position)) / dt
        w = rotation_vector(np.asarray(b.ee_rotation) @ np.asarray(a.ee_rotation).T) / dt
        self.estimate.update(self._z_at(a.time), np.concatenate([v, w]))

    def _z_at(self, t: float) -> np.ndarray:
        z = np.zeros(2)
        for ti, zi in self._z_hist:
            if ti > t + 1e-9:
                break
            z = zi
        return z

    def _predicted_ee(self) -> np.ndarray:
        """Where the gripper is now: what it saw, moved on by the velocity it saw."""
        a, b = self._prev_seen, self._seen
        assert b is not None
        ee = np.asarray(b.ee_position, dtype=float)
        if a is None or b.time - a.time < 1e-6:
            return ee
        v = (ee - np.asarray(a.ee_position)) / (b.time - a.time)
        return ee + v * self.config.reaction_delay_s

    # ------------------------------------------------------------------ pad output
    def _pad(self, z: np.ndarray | None = None, deadman: bool = True,
             raw: tuple[float, float] | None = None) -> UserOutput:
        lay = self.pad.layout
        axes, buttons = lay.neutral()
        if raw is not None:  # already as the pad reports it
            sx, sy = raw
        else:
            sx, sy = self._stick(z if z is not None else np.zeros(2))
            sx, sy = lay.sign_left_x * sx, lay.sign_left_y * sy
        if deadman and self.config.noise_std > 0:
            sx += float(self.rng.normal(0.0, self.config.noise_std))
            sy += float(self.rng.normal(0.0, self.config.noise_std))
        lim = self.config.max_deflection
        axes[lay.axis_left_x] = float(np.clip(sx, -lim, lim))
        axes[lay.axis_left_y] = float(np.clip(sy, -lim, lim))
        if deadman:
            buttons[lay.deadman] = 1
        return UserOutput(axes, buttons, phase=self.phase)

    def _stick(self, z: np.ndarray) -> tuple[float, float]:
        """Raw stick giving ``z`` after the interface's rescaled deadband (a person learns it)."""
        d = self.pad.layout.deadband
        return tuple(0.0 if abs(v) < 1e-6 else math.copysign(d + (1.0 - d) * min(abs(v), 1.0), v)
                     for v in z)  # type: ignore[return-value]

    def _record(self, now: float, z: np.ndarray) -> None:
        self._z_hist.append((now, np.asarray(z, dtype=float)))

    # ------------------------------------------------------------------ step
    def step(self, now: float) -> UserOutput:
        if self.done:
            return self._pad(deadman=False)
        if not self._perceive(now):
            self.phase = "waiting"
            return self._pad(deadman=False)
        if self._release_next:  # a press spans one message; release in the next
            self._release_next = False
            self._record(now, np.zeros(2))
            return self._pad()
        if self._presses:
            out = self._pad()
            out.buttons[self._presses.popleft()] = 1
            self.counts["presses"] += 1
            self._release_next = True
            self._record(now, np.zeros(2))
            return out
        if self.interface == "policy":
            self.phase = "go"
            return self._pad(raw=(0.0, self.config.go_stick))
        seen = self._seen
        assert seen is not None
        if self._gripper_wait is not None:
            if not self._gripper_settled(seen):
                self.phase = "gripper"
                self._record(now, np.zeros(2))
                return self._pad()
            self._gripper_wait = None
            self._next_waypoint(now)
        if self.tracker.grasp_lost(seen, self.config.grasp_check_m) and \
                self.tracker.regrasps < self.config.max_regrasps:
            self.tracker.restart()
            self.counts["regrasps"] += 1
            self._gripper_wait = ("open", now)
            self._presses.append(self.pad.gripper_open)
            self._next_waypoint(now)
            return self._pad()
        wp = self.tracker.current(seen)
        if wp is None:
            self.done, self.phase = True, "done"
            return self._pad(deadman=False)
        if not self._gripper_needed(wp, seen) and wp.position[2] >= self.config.free_air_z_m:
            # A way point in free air with no gripper action there: a person passes it roughly
            # ("about above the block"), not to the planner's millimetres. Near the table
            # (grasps, pushes) the plan's tolerance stands.
            wp = replace(wp, tolerance=max(wp.tolerance, self.config.pass_tolerance_m))
        if self.interface == "teleop":
            return self._teleop_step(seen, wp, now)
        return self._latent_step(seen, wp, now)

    def _gripper_settled(self, seen: ArmObservation) -> bool:
        assert self._gripper_wait is not None and self._prev_seen is not None
        command, since = self._gripper_wait
        waited = seen.time - since  # how long it has *seen* the fingers since the press
        if waited < 0.3:
            return False
        if waited > 1.5:
            return True
        if command == "open":
            return seen.gripper_width >= 0.07
        return abs(seen.gripper_width - self._prev_seen.gripper_width) < 0.0005

    @staticmethod
    def _gripper_needed(wp: Waypoint, seen: ArmObservation) -> bool:
        return wp.gripper is not None and not (wp.gripper == "open"
                                               and seen.gripper_width >= 0.07)

    def _reach(self, seen: ArmObservation, wp: Waypoint, now: float) -> UserOutput | None:
        """At the waypoint: press its gripper button (and wait), or move on."""
        needed = self._gripper_needed(wp, seen)
        self.tracker.arrived(seen, wp)
        if not needed:
            self._next_waypoint(now)
            return None
        assert wp.gripper is not None
        self._presses.append(self.pad.gripper_close if wp.gripper == "close"
                             else self.pad.gripper_open)
        self._gripper_wait = (wp.gripper, now)
        self._record(now, np.zeros(2))
        return self._pad()

    def _next_waypoint(self, now: float) -> None:
        self._operator = None
        self._progress.clear()
        self._wp_since = now
        self._near_since = None
        if self.config.probe_after_gripper or self.estimate.updates == 0:
            self._probe_due = True
        else:
            self.estimate.surprise()
        if self._correction is not None:  # that correction was for the leg just finished
            self._revert()

    # ------------------------------------------------------------------ teleop
    def _teleop_step(self, seen: ArmObservation, wp: Waypoint, now: float) -> UserOutput:
        if self._operator is None:
            cfg = ScriptedOperatorConfig(
                tolerance=wp.tolerance, timeout_s=1e9, pad=self.pad.layout,
                gain=self.config.gain * self.gain_error / self.config.teleop_full_speed,
                settle_s=0.1, start_s=0.0)
            self._operator = ScriptedOperator(cfg)
            self._operator.mode = self._teleop_mode  # the person remembers the mode
        op = self._operator
        if now < self._mode_pause_until:  # waiting to see that the mode really changed
            self.phase = "teleop:see_mode"
            return self._pad()
        axes, buttons, done = op.step(self._predicted_ee(), wp.position, now)
        self._teleop_mode = op.mode
        self.phase = f"teleop:{op.phase}"
        if done:
            held = self._reach(seen, wp, now)
            if held is not None:
                return held
        if buttons[self.pad.layout.mode]:
            self.counts["presses"] += 1
            if not op._presses_left:  # the last press of this switch
                self._mode_pause_until = now + self.config.mode_switch_pause
        lay = self.pad.layout
        out = self._pad(raw=(axes[lay.axis_left_x], axes[lay.axis_left_y]), deadman=bool(
            buttons[lay.deadman]))
        out.buttons[lay.mode] = buttons[lay.mode]
        return out

    # ------------------------------------------------------------------ latent
    def _latent_step(self, seen: ArmObservation, wp: Waypoint, now: float) -> UserOutput:
        cfg = self.config
        ee = self._predicted_ee()
        err = np.asarray(wp.position, dtype=float) - ee
        dist = float(np.linalg.norm(err))
        seen_dist = float(np.linalg.norm(np.asarray(wp.position) - seen.ee_position))
        if seen_dist <= wp.tolerance or self._accept_near(seen_dist, wp, now):
            held = self._reach(seen, wp, now)
            if held is not None:
                self.phase = "gripper"
                return held
            return self.step(now) if not self.done else self._pad(deadman=False)
        if self._correction is not None and correction_done(
                self._correction[0], np.asarray(wp.position) - seen.ee_position,
                self._rotation_error(seen), wp.tolerance):
            self._revert()
            return self._pad()
        if self._probe_due:
            self._start_probe(now, dist)
        if self._probe:
            z, until = self._probe[0]
            if now >= until:
                self._probe.pop(0)
            if self._probe:
                self.phase = "probe"
                z = self._probe[0][0]
                self._record(now, z)
                return self._pad(z)
            self._progress.clear()
            self._wp_since = now
        speech = self._check_stall(seen, wp, now, seen_dist) or self._check_drift(wp, err, now)
        if speech is not None:
            out = self._pad()
            out.speech = speech
            self._record(now, np.zeros(2))
            return out
        cap = min(cfg.max_speed, wp.max_speed or math.inf)
        speed = max(min(cap, cfg.gain * dist), min(cfg.min_speed, cap)) * self.gain_error
        speed = min(speed, dist * cfg.rate_hz)  # do not overshoot within one message
        v_lin = err / max(dist, 1e-9) * speed
        rot = np.asarray(seen.ee_rotation, dtype=float)
        w_des = np.clip(1.0 * rotation_vector(self._ref_rot @ rot.T), -0.3, 0.3)
        weights = np.array([1.0, 1.0, 1.0, *(3 * [cfg.rotation_weight])])
        d = self.pad.layout.deadband
        z = self.estimate.command(np.concatenate([v_lin, w_des]), weights,
                                  (cfg.max_deflection - d) / (1.0 - d))
        self.phase = "correcting" if self._correction is not None else "drive"
        self._record(now, z)
        return self._pad(z)

    def _accept_near(self, dist: float, wp: Waypoint, now: float) -> bool:
        """A person settles for "close enough" when it stays nearly there."""
        if dist > self.config.near_accept_factor * wp.tolerance:
            self._near_since = None
            return False
        if self._near_since is None:
            self._near_since = now
        return now - self._near_since >= self.config.near_accept_s

    def _start_probe(self, now: float, dist: float) -> None:
        """A push each way along each stick axis (back and forth: the arm ends where it was),
        gentler near the goal so that probing does not undo a fine approach."""
        cfg = self.config
        self._probe_due = False
        self.estimate.surprise()
        amp = cfg.probe_amplitude * min(1.0, max(0.35, dist / cfg.probe_full_distance_m))
        t = now
        self._probe = []
        for z in ((amp, 0.0), (-amp, 0.0), (0.0, amp), (0.0, -amp)):
            t += cfg.probe_s / 2.0
            self._probe.append((np.array(z), t))
        self.counts["probes"] += 1

    # ------------------------------------------------------------------ corrections
    def _check_stall(self, seen: ArmObservation, wp: Waypoint, now: float,
                     dist: float) -> str | None:
        cfg = self.config
        self._progress.append((now, dist))
        while self._progress and self._progress[0][0] < now - cfg.stall_window_s:
            self._progress.popleft()
        if now - self._wp_since < cfg.stall_window_s or not self._progress:
            return None
        gained = self._progress[0][1] - dist
        needed = min(cfg.stall_progress_m, 0.5 * max(dist - wp.tolerance, 0.0))
        if gained >= needed:
            return None
        self._progress.clear()
        self._wp_since = now
        if self._correction is not None:
            # Stuck with the correction's stick: give the task back to the model first.
            self._revert()
            return None
        if not self._may_speak(now):
            self._probe_due = True  # no words: try to understand the stick again
            return None
        err = np.asarray(wp.position) - seen.ee_position
        return self._say(pick_primitive(err, self._rotation_error(seen), cfg.tilt_threshold_rad),
                         now)

    def _check_drift(self, wp: Waypoint, err: np.ndarray, now: float) -> str | None:
        """A person sees early when the stick cannot take the gripper where it must go (the
        error it cannot reduce, by its own estimate, stays large) and says so then."""
        cfg = self.config
        if self._correction is not None or not self._may_speak(now) or \
                now - self._wp_since < cfg.drift_s:
            self._drift_since = None
            return None
        off = self.estimate.unreachable(err)
        big = float(np.linalg.norm(off)) > max(cfg.drift_min_m, 2.0 * wp.tolerance,
                                               cfg.drift_fraction * float(np.linalg.norm(err)))
        if not big:
            self._drift_since = None
            return None
        if self._drift_since is None:
            self._drift_since = now
        if now - self._drift_since < cfg.drift_s:
            return None
        self._drift_since = None
        return self._say(pick_primitive(off, np.zeros(3), math.inf), now)

    def _may_speak(self, now: float) -> bool:
        cfg = self.config
        return self.corrections_enabled and self.counts["corrections"] < cfg.max_corrections \
            and now - self._last_speech >= cfg.correction_cooldown_s

    def _say(self, choice: tuple[Primitive, float], now: float) -> str:
        prim, amount = choice
        phrases = prim.phrasings(self.split)
        text = str(phrases[int(self.rng.integers(len(phrases)))])
        self._correction = (prim, amount)
        self._last_speech = now
        self._probe_due = True
        self._progress.clear()
        self._wp_since = now
        self.counts["corrections"] += 1
        self.said.append(text)
        return text

    def _rotation_error(self, seen: ArmObservation) -> np.ndarray:
        assert self._ref_rot is not None
        return rotation_vector(self._ref_rot @ np.asarray(seen.ee_rotation).T)

    def _revert(self) -> None:
        """LILAC's revert button: back to the instruction; the stick means something else."""
        self._correction = None
        self._presses.append(self.pad.reset)
        self.counts["reverts"] += 1
        self._probe_due = True


def user_for(task: TaskInstance, interface: Interface, *, corrections: bool, split: Split,
             config: SimUserConfig | None = None, seed: int | None = None) -> SimulatedUser:
    """A user with the pad layout its interface reads (and ``seed`` when given)."""
    cfg = config or SimUserConfig()
    if seed is not None:
        cfg = replace(cfg, seed=int(seed))
    return SimulatedUser(task, interface, cfg, corrections=corrections, split=split)
