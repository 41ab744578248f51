"""Scripted operator + real teleop mapper + an integrating "arm": it reaches goals and lets go."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import pytest

from ifagent_ros.core.control.gamepad import PadLayout
from ifagent_ros.core.control.scripted_operator import (
    ScriptedOperator,
    ScriptedOperatorConfig,
    hover_goal,
)
from ifagent_ros.core.control.teleop import TeleopConfig, TeleopMapper, TeleopMode

DT = 0.02  # 50 Hz pad
RB, X = 5, 2


@dataclass
class Episode:
    final: tuple[float, float, float]
    done_t: float | None
    reached: bool
    phase: str
    mode_changes: int
    teleop_modes: list[TeleopMode] = field(default_factory=list)
    last_buttons: list[int] = field(default_factory=list)
    min_z: float = math.inf


def run_episode(start: tuple[float, float, float], goal: tuple[float, float, float], *,
                lag_steps: int = 0, gt_every: int = 1, teleop_start: TeleopMode | None = None,
                feed_status: bool = False, op_cfg: ScriptedOperatorConfig | None = None,
                max_t: float = 60.0) -> Episode:
    """Operator -> TeleopMapper -> twist integrator (only while RB is held, like the executor).

    ``lag_steps`` delays the twist (pipeline latency); ``gt_every`` holds the position the
    operator sees for that many steps (ground truth at 50/gt_every Hz).
    """
    op = ScriptedOperator(op_cfg)
    teleop_cfg = TeleopConfig() if teleop_start is None else TeleopConfig(initial_mode=teleop_start)
    teleop = TeleopMapper(teleop_cfg)
    ee = list(start)
    seen = tuple(ee)
    pipeline: deque[tuple[float, float, float]] = deque([(0.0, 0.0, 0.0)] * lag_steps)
    ep = Episode(final=start, done_t=None, reached=False, phase="", mode_changes=0)
    t = 0.0
    for k in range(int(max_t / DT)):
        if k % gt_every == 0:
            seen = (ee[0], ee[1], ee[2])
        if feed_status:
            op.observe_teleop_mode(teleop.mode.value, t)
        axes, buttons, done = op.step(seen, goal, t)
        assert len(axes) == 8 and len(buttons) == 11
        assert all(-1.0 <= a <= 1.0 for a in axes)
        assert all(b in (0, 1) for b in buttons)
        out = teleop.update(axes, buttons, t)
        assert out.valid, out.rejection
        ep.mode_changes += out.mode_changed
        ep.teleop_modes.append(out.mode)
        pipeline.append(out.linear if buttons[RB] else (0.0, 0.0, 0.0))
        v = pipeline.popleft()
        for i in range(3):
            ee[i] += v[i] * DT
        ep.min_z = min(ep.min_z, ee[2])
        ep.last_buttons = buttons
        t += DT
        if done:
            ep.done_t = t
            break
    ep.final = (ee[0], ee[1], ee[2])
    ep.reached, ep.phase = op.reached, op.phase
    return ep


GOAL = (0.5, 0.1, 0.045)

STARTS = [
    (0.3, 0.0, 0.4),  # typical home pose: above and behind
    (0.6, -0.3, 0.25),
    (0.45, 0.3, 0.1),
    (0.5, 0.1, 0.3),  # straight above: z only
    (0.505, 0.095, 0.05),  # already there
    (0.7, 0.2, 0.02),  # below the goal height: rises first
]


@pytest.mark.parametrize("start", STARTS)
def test_reaches_goal_and_releases_deadman(start: tuple[float, float, float]) -> None:
    ep = run_episode(start, GOAL)
    assert ep.done_t is not None and ep.phase == "done" and ep.reached
    assert math.dist(ep.final, GOAL) <= 0.02
    assert ep.last_buttons[RB] == 0  # let go of the deadman at the end
    assert ep.done_t < 30.0


@pytest.mark.parametrize("start", STARTS[:3])
def test_reaches_goal_with_latency_and_slow_ground_truth(start: tuple[float, float, float]) -> None:
    # 60 ms pipeline delay and a 10 Hz position feed, like sim_node's /sim/ground_truth.
    ep = run_episode(start, GOAL, lag_steps=3, gt_every=5)
    assert ep.reached and math.dist(ep.final, GOAL) <= 0.02
    assert ep.last_buttons[RB] == 0


def test_uses_xy_first_then_z_with_few_mode_switches() -> None:
    ep = run_episode((0.3, 0.0, 0.4), GOAL)
    modes = [m for i, m in enumerate(ep.teleop_modes) if i == 0 or m != ep.teleop_modes[i - 1]]
    assert modes[0] is TeleopMode.TRANSLATE_XY
    assert TeleopMode.TRANSLATE_Z_YAW in modes
    assert ep.mode_changes <= 3  # no chatter


def test_rises_before_travelling_when_low() -> None:
    start = (0.7, 0.2, 0.0)
    ep = run_episode(start, GOAL)
    assert ep.reached
    assert ep.min_z >= start[2] - 1e-9  # never pushed further down while travelling


def test_belief_corrected_from_teleop_status() -> None:
    # Teleop is (unknown to the operator) in ROTATE: without status the operator would rotate.
    ep = run_episode((0.3, 0.0, 0.4), GOAL, teleop_start=TeleopMode.ROTATE, feed_status=True)
    assert ep.reached and math.dist(ep.final, GOAL) <= 0.02


def test_timeout_releases_everything() -> None:
    cfg = ScriptedOperatorConfig(timeout_s=1.0)
    ep = run_episode((0.0, 0.6, 0.6), GOAL, op_cfg=cfg)
    assert ep.phase == "timeout" and not ep.reached
    assert ep.done_t is not None and ep.done_t <= 1.1
    assert ep.last_buttons[RB] == 0


def test_mode_press_is_one_message_then_release() -> None:
    op = ScriptedOperator()
    goal = (0.0, 0.0, 0.0)
    t = 0.0
    presses = []
    for _ in range(50):
        _, buttons, _ = op.step((0.0, 0.0, 0.3), goal, t)  # xy aligned: must go to z mode
        presses.append(buttons[X])
        t += DT
    first = presses.index(1)
    assert presses[first + 1] == 0  # released in the very next message
    assert sum(presses) == 1  # exactly one press: XY -> Z_YAW


def test_waits_without_deadman_until_it_can_see() -> None:
    op = ScriptedOperator()
    axes, buttons, done = op.step(None, GOAL, 0.0)
    assert not done and buttons[RB] == 0 and axes[0] == axes[1] == 0.0
    assert axes[2] == axes[5] == 1.0  # released triggers
    assert op.status()["phase"] == "waiting"


def test_holds_deadman_before_first_push() -> None:
    op = ScriptedOperator()
    axes, buttons, _ = op.step((0.3, 0.0, 0.4), GOAL, 0.0)
    assert buttons[RB] == 1 and axes[0] == axes[1] == 0.0


def test_status_fields() -> None:
    op = ScriptedOperator()
    op.step((0.3, 0.0, 0.4), GOAL, 0.0)
    s = op.status()
    assert set(s) >= {"phase", "distance", "done", "reached", "mode"}
    assert s["distance"] == pytest.approx(math.dist((0.3, 0.0, 0.4), GOAL))


def test_hover_goal() -> None:
    assert hover_goal((0.5, 0.1, 0.02), (0.04, 0.04, 0.04), 0.01) == pytest.approx((0.5, 0.1, 0.05))


def test_bad_config() -> None:
    with pytest.raises(ValueError):
        ScriptedOperatorConfig(pad=PadLayout(deadman=11))
    with pytest.raises(ValueError):
        ScriptedOperatorConfig(tolerance=0.0)
