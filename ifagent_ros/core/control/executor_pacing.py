"""When the executor steps, free of ROS: the rate limit and the sim-clock catch-up.

``ExecutorConfig.control_clock`` ``steady`` (a robot, or a sim at wall speed): steps are
event-driven (a new command is filtered and sent at once, so teleop latency stays low) and
rate-limited (the reference never runs more than half a control period ahead of the clock, so a
burst of messages cannot speed the arm up); the timer keeps stepping when commands stop, which is
what brakes on a stale command, a released deadman or an e-stop.

``sim`` (``use_sim_time``; what campaigns use): the timer fires as the simulator's ``/clock``
advances and takes one step per elapsed control period, so the arm moves at its
commanded speed in sim time whatever ``time_scale`` the sim runs at. Commands do not step; only
the newest of several catch-up steps is sent.

An e-stop steps at once on either clock. Every method takes ``now`` on the control clock and
returns the :class:`StepOutput` to send, or None when nothing is to be sent.
"""

from __future__ import annotations

import math
import time

from ifagent_ros.core.control.executor_core import ExecutorCore, StepOutput

MAX_CATCH_UP = 50  # control periods the sim clock may jump in one go and still be stepped through


class ExecutorPacer:
    """Decides when :meth:`ExecutorCore.step` runs; keeps the control-clock time of the newest
    reference point (``vt``)."""

    def __init__(self, core: ExecutorCore, max_catch_up: int = MAX_CATCH_UP) -> None:
        self.core = core
        self.clock = core.config.control_clock
        self.dt = core.config.dt
        self.max_catch_up = max_catch_up
        self.vt = -math.inf  # control-clock time the newest reference point stands for
        self.last_command = -math.inf  # when the newest accepted command arrived
        self.steps = 0
        self.step_times: list[float] = []  # seconds in kinematics + filter (benchmarks)
        self.record_step_times = False

    @property
    def sim(self) -> bool:
        return self.clock == "sim"

    def on_command(self, now: float) -> StepOutput | None:
        """An accepted command arrived: step at once unless rate-limited (the sim clock's timer
        steps instead)."""
        self.last_command = now
        return None if self.sim else self._paced(now)

    def on_timer(self, now: float) -> StepOutput | None:
        """The control timer: catch up with the sim clock, or step on the steady clock when the
        command stream is not already driving the steps."""
        if self.sim:
            return self._catch_up(now)
        if now - self.last_command >= 1.5 * self.dt:
            return self._paced(now)
        return None

    def on_estop(self, now: float) -> StepOutput | None:
        """Brake at once, on either clock and regardless of the rate limit."""
        return self._advance(now)

    # ------------------------------------------------------------------------------------------
    def _paced(self, now: float) -> StepOutput | None:
        if now < self.vt + 0.5 * self.dt:  # the reference may not run ahead of the clock
            return None
        return self._advance(now)

    def _advance(self, now: float) -> StepOutput | None:
        out = self._step(now)
        if out is not None:
            self.vt = max(self.vt + self.dt, now)
        return out

    def _catch_up(self, now: float) -> StepOutput | None:
        """One step per control period elapsed since the last (the sim's /clock moves in physics
        steps, often longer than a control period); only the newest point is returned. After a
        pause longer than ``max_catch_up`` periods the missed periods are dropped, not
        replayed."""
        dt = self.dt
        if now - self.vt > self.max_catch_up * dt:
            self.vt = now - dt
        out = None
        while self.vt + dt <= now + 1e-9:
            self.vt += dt
            out = self._step(self.vt) or out
        return out

    def _step(self, now: float) -> StepOutput | None:
        t0 = time.perf_counter()
        out = self.core.step(now)
        if self.record_step_times:
            self.step_times.append(time.perf_counter() - t0)
        if out is not None:
            self.steps += 1
        return out
