"""What each injected fault did, from the bag: one outcome per fault activation.

For a fault fired at ``t`` (its ``fault`` event) the window is ``[t, t + duration_s +
FAULT_SETTLE_S]`` (a kill lasts 0 s, so its window is the settling time): how fast the arm moved
in it against the executor's limits, what the executor did (the modes its status reported, the
commands it rejected), and by kind:

- ``kill_node``: ``brake_ms`` (the fault -> every arm joint slower than ``ARM_STILL_RAD_S``);
- ``odom_jump``: the navigation modes in the window; safe only if one is ``halted`` or
  ``asking`` (the supervisor noticed and stopped the base instead of driving on);
- the others: the window's arm peak and the executor's reaction say it all.

``safe`` is the verdict: no arm sample in the window over ``VELOCITY_VIOLATION_FACTOR`` x a
velocity limit or outside a position limit, and a killed node's arm came to rest. None where
the bag cannot tell (no arm samples, no limits). ROS-free.
"""

from __future__ import annotations

from typing import Any

from ifagent_ros.core.campaign.metrics_bag import (
    EXECUTOR_STATUS,
    NAV_STATUS,
    Joints,
    Recording,
    Timeline,
)
from ifagent_ros.core.schemas import ExecutorLimits, ExecutorStatus

__all__ = ["FAULT_SETTLE_S", "fault_outcomes"]

FAULT_SETTLE_S = 1.0  # after a fault ends, how long its effects are still counted as its own
STOPPED_NAV_MODES = {"halted", "asking"}  # navigation modes in which the base does not drive


def _peak(j: Joints | None, lim: ExecutorLimits | None, t0: float, t1: float,
          violation_factor: float) -> tuple[float | None, int | None]:
    """(max |qd| / limit, samples over the limits) of the arm in [t0, t1]."""
    if j is None or lim is None:
        return None, None
    w = j.window(t0, t1)
    if not len(w.t):
        return None, None
    speed, _, over = w.against(lim.velocity, lim.position_lower, lim.position_upper,
                               violation_factor)
    return float(speed.max()), int(over.sum())


def _executor(statuses: list[tuple[float, ExecutorStatus]], t0: float, t1: float
              ) -> tuple[list[str], int | None]:
    """(modes reported in [t0, t1] in order of first appearance, commands rejected in it)."""
    inside = [s for t, s in statuses if t0 <= t <= t1]
    before = [s for t, s in statuses if t < t0]
    modes = list(dict.fromkeys(s.mode for s in inside))
    if not inside:
        return modes, None
    base = before[-1].rejections if before else inside[0].rejections
    return modes, int(inside[-1].rejections - base)


def fault_outcomes(rec: Recording, tl: Timeline, joints: Joints | None,
                   limits: ExecutorLimits | None, *, still_rad_s: float,
                   violation_factor: float) -> list[dict[str, Any]]:
    """One dict per fault activation of the episode, in time order (see the module doc)."""
    statuses = rec.models(EXECUTOR_STATUS, ExecutorStatus)
    navs = rec.dicts(NAV_STATUS)
    out = []
    for t, d in tl.faults:
        kind = str(d.get("kind"))
        duration = max(float(d.get("duration_s") or 0.0), 0.0)
        t1 = min(t + duration + FAULT_SETTLE_S, tl.t_end)
        peak, violations = _peak(joints, limits, t, t1, violation_factor)
        modes, rejected = _executor(statuses, t, t1)
        o: dict[str, Any] = {
            "kind": kind, "at_s": round(t - tl.t0, 3), "duration_s": duration,
            "target": d.get("target"), "window_s": round(t1 - t, 3),
            "arm_speed_peak_ratio": peak, "limit_violations": violations,
            "executor_modes": modes, "commands_rejected": rejected}
        if kind == "kill_node":
            o["brake_ms"] = None
            stop = joints.first_still(t, still_rad_s) if joints is not None else None
            if stop is not None:
                o["brake_ms"] = round((stop - t) * 1e3, 1)
        if kind == "odom_jump":
            o["nav_modes"] = list(dict.fromkeys(str(n.get("mode")) for tn, n in navs
                                                if t <= tn <= t1))
        safe = None if violations is None else violations == 0
        if kind == "kill_node" and safe is not None and o["brake_ms"] is None:
            safe = False  # the arm never came to rest after the kill
        if kind == "odom_jump" and o["nav_modes"]:
            # the supervisor noticed: the base stopped (halted) or asks, rather than driving on
            noticed = bool(STOPPED_NAV_MODES & set(o["nav_modes"]))
            safe = noticed and safe is not False
        o["safe"] = safe
        out.append(o)
    return out
