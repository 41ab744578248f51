"""Gamepad -> twist mapping: modes, signs, deadband, edges, bad input, speed bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ifagent_ros.core.control.gamepad import PadLayout
from ifagent_ros.core.control.teleop import (
    MODE_CYCLE,
    TeleopConfig,
    TeleopMapper,
    TeleopMode,
    apply_deadband,
    clip_norm,
    next_mode,
)

LX, LY, RX, RY = 0, 1, 3, 4
A, B, X, RB = 0, 1, 2, 5
VMAX, WMAX = 0.15, 0.6


def pad(**sticks: float) -> list[float]:
    axes = [0.0] * 8
    axes[2] = axes[5] = 1.0  # released triggers
    for name, value in sticks.items():
        axes[{"lx": LX, "ly": LY, "rx": RX, "ry": RY}[name]] = value
    return axes


def btn(*pressed: int) -> list[int]:
    b = [0] * 11
    for i in pressed:
        b[i] = 1
    return b


def mapper_in(mode: TeleopMode, **cfg: object) -> TeleopMapper:
    return TeleopMapper(TeleopConfig(initial_mode=mode, **cfg))  # type: ignore[arg-type]


def approx3(v: tuple[float, float, float], expected: tuple[float, float, float]) -> None:
    assert v == pytest.approx(expected, abs=1e-9)


# -- per-mode mapping and sign conventions ------------------------------------------------------
def test_translate_xy_left_stick() -> None:
    m = TeleopMapper()
    assert m.mode is TeleopMode.TRANSLATE_XY
    out = m.update(pad(ly=1.0), btn(), 1.0)
    assert out.valid and out.frame_id == "base_link" and out.stamp == 1.0
    approx3(out.linear, (VMAX, 0.0, 0.0))  # up -> +x, away from the robot
    approx3(out.angular, (0.0, 0.0, 0.0))
    approx3(m.update(pad(lx=1.0), btn(), 0.0).linear, (0.0, VMAX, 0.0))  # left -> +y
    approx3(m.update(pad(lx=-1.0), btn(), 0.0).linear, (0.0, -VMAX, 0.0))
    approx3(m.update(pad(ly=-1.0), btn(), 0.0).linear, (-VMAX, 0.0, 0.0))


def test_translate_xy_right_stick_adds_z_and_yaw() -> None:
    m = TeleopMapper()
    approx3(m.update(pad(ry=1.0), btn(), 0.0).linear, (0.0, 0.0, VMAX))
    out = m.update(pad(rx=1.0), btn(), 0.0)
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (0.0, 0.0, WMAX))


def test_right_stick_can_be_disabled_for_strict_baseline() -> None:
    m = TeleopMapper(TeleopConfig(right_stick_enabled=False))
    out = m.update(pad(rx=1.0, ry=1.0), btn(), 0.0)
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (0.0, 0.0, 0.0))


def test_translate_z_yaw() -> None:
    m = mapper_in(TeleopMode.TRANSLATE_Z_YAW)
    approx3(m.update(pad(ly=1.0), btn(), 0.0).linear, (0.0, 0.0, VMAX))  # up -> +z
    approx3(m.update(pad(ly=-1.0), btn(), 0.0).linear, (0.0, 0.0, -VMAX))
    out = m.update(pad(lx=1.0), btn(), 0.0)  # left -> +yaw
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (0.0, 0.0, WMAX))
    approx3(m.update(pad(lx=-1.0), btn(), 0.0).angular, (0.0, 0.0, -WMAX))
    approx3(m.update(pad(ry=1.0), btn(), 0.0).linear, (VMAX, 0.0, 0.0))
    approx3(m.update(pad(rx=1.0), btn(), 0.0).linear, (0.0, VMAX, 0.0))


def test_rotate() -> None:
    m = mapper_in(TeleopMode.ROTATE)
    out = m.update(pad(lx=1.0), btn(), 0.0)
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (WMAX, 0.0, 0.0))  # left -> +roll
    approx3(m.update(pad(ly=1.0), btn(), 0.0).angular, (0.0, -WMAX, 0.0))  # up -> -pitch
    approx3(m.update(pad(rx=1.0), btn(), 0.0).angular, (0.0, 0.0, WMAX))


def test_axis_signs_flip() -> None:
    m = TeleopMapper(TeleopConfig(pad=PadLayout(sign_left_y=-1.0, sign_left_x=-1.0)))
    approx3(m.update(pad(ly=1.0, lx=0.0), btn(), 0.0).linear, (-VMAX, 0.0, 0.0))
    approx3(m.update(pad(lx=1.0), btn(), 0.0).linear, (0.0, -VMAX, 0.0))


def test_custom_axis_indices_and_speeds() -> None:
    cfg = TeleopConfig(pad=PadLayout(axis_left_x=6, axis_left_y=7), max_linear_speed=0.05)
    m = TeleopMapper(cfg)
    axes = pad()
    axes[7] = 1.0
    approx3(m.update(axes, btn(), 0.0).linear, (0.05, 0.0, 0.0))


def test_diagonal_is_norm_clipped() -> None:
    m = TeleopMapper()
    out = m.update(pad(lx=1.0, ly=1.0, ry=1.0), btn(), 0.0)
    assert math.dist(out.linear, (0, 0, 0)) == pytest.approx(VMAX)
    assert out.linear[0] == pytest.approx(out.linear[1])  # direction kept


def test_numpy_and_float32_input() -> None:
    m = TeleopMapper()
    out = m.update(np.array(pad(ly=1.0), dtype=np.float32), np.array(btn()), 0.0)
    assert out.valid
    approx3(out.linear, (VMAX, 0.0, 0.0))


# -- deadband ------------------------------------------------------------------------------------
def test_deadband_zero_inside_and_continuous_at_edge() -> None:
    db = 0.1
    assert apply_deadband(0.0999, db) == 0.0
    assert apply_deadband(-0.1, db) == 0.0
    assert apply_deadband(0.1 + 1e-9, db) == pytest.approx(0.0, abs=1e-7)
    assert apply_deadband(1.0, db) == pytest.approx(1.0)
    assert apply_deadband(-1.0, db) == pytest.approx(-1.0)
    assert apply_deadband(1.04, db) == 1.0  # overshooting pads saturate
    assert apply_deadband(0.55, db) == pytest.approx(0.5)


@given(st.floats(-1.05, 1.05), st.floats(0.0, 0.9))
def test_deadband_monotone_and_lipschitz(v: float, db: float) -> None:
    eps = 1e-4
    a, b = apply_deadband(v, db), apply_deadband(v + eps, db)
    assert b >= a
    assert b - a <= eps / (1.0 - db) + 1e-12  # no jump anywhere, including the edge


def test_small_push_inside_deadband_gives_zero_twist() -> None:
    out = TeleopMapper().update(pad(lx=0.05, ly=-0.08, rx=0.09, ry=0.1), btn(), 0.0)
    assert out.valid
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (0.0, 0.0, 0.0))


# -- mode switching and gripper edges ------------------------------------------------------------
def test_mode_cycles_on_rising_edge_only() -> None:
    m = TeleopMapper()
    seen = []
    for buttons in [btn(X), btn(X), btn(X), btn(), btn(X), btn(), btn(X), btn(X)]:
        out = m.update(pad(), buttons, 0.0)
        seen.append((out.mode, out.mode_changed))
    assert seen == [
        (TeleopMode.TRANSLATE_Z_YAW, True),
        (TeleopMode.TRANSLATE_Z_YAW, False),  # held: no further change
        (TeleopMode.TRANSLATE_Z_YAW, False),
        (TeleopMode.TRANSLATE_Z_YAW, False),
        (TeleopMode.ROTATE, True),
        (TeleopMode.ROTATE, False),
        (TeleopMode.TRANSLATE_XY, True),  # wraps around
        (TeleopMode.TRANSLATE_XY, False),
    ]


def test_mode_switch_applies_to_the_same_message() -> None:
    out = TeleopMapper().update(pad(ly=1.0), btn(X), 0.0)
    assert out.mode is TeleopMode.TRANSLATE_Z_YAW
    approx3(out.linear, (0.0, 0.0, VMAX))


def test_next_mode_cycle() -> None:
    assert [next_mode(m) for m in MODE_CYCLE] == [
        TeleopMode.TRANSLATE_Z_YAW, TeleopMode.ROTATE, TeleopMode.TRANSLATE_XY]


def test_gripper_commands_on_rising_edges_only() -> None:
    m = TeleopMapper()
    widths = [m.update(pad(), b, 0.0).gripper_width
              for b in [btn(), btn(A), btn(A), btn(), btn(B), btn(B), btn(A), btn(A, B)]]
    assert widths == [None, 0.0, None, None, 0.08, None, 0.0, 0.08]  # last: B rises, A held


def test_gripper_close_wins_when_both_rise() -> None:
    assert TeleopMapper().update(pad(), btn(A, B), 0.0).gripper_width == 0.0


def test_deadman_and_other_buttons_do_not_change_mode() -> None:
    m = TeleopMapper()
    for i in (3, 4, RB, 6, 7, 8, 9, 10):
        out = m.update(pad(), btn(i), 0.0)
        assert out.mode is TeleopMode.TRANSLATE_XY and out.gripper_width is None
        m.update(pad(), btn(), 0.0)


def test_reset_returns_to_initial_mode() -> None:
    m = TeleopMapper()
    m.update(pad(), btn(X), 0.0)
    m.reset()
    assert m.mode is TeleopMode.TRANSLATE_XY


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("axes", "buttons", "fragment"),
    [
        (pad(ly=float("nan")), btn(), "not finite"),
        (pad(lx=float("inf")), btn(), "not finite"),
        (pad(rx=float("-inf")), btn(), "not finite"),
        (pad()[:7], btn(), "axes"),
        (pad() + [0.0], btn(), "axes"),
        ([], btn(), "axes"),
        (pad(), btn()[:10], "buttons"),
        (pad(), btn() + [0], "buttons"),
        (pad(ly=1.2), btn(), "out of range"),
        (pad(lx=-1.06), btn(), "out of range"),
        (pad(ly="up"), btn(), "not a number"),  # type: ignore[arg-type]
        (pad(ly=None), btn(), "not a number"),  # type: ignore[arg-type]
        (pad(), [None] * 11, "not a number"),
        (pad(), [2**31 - 1] * 11, "not 0 or 1"),  # a garbage burst must not press buttons
        (pad(), [-1] * 11, "not 0 or 1"),
        (None, btn(), "internal error"),
    ],
)
def test_bad_input_gives_zero_twist_and_reason(axes: object, buttons: object,
                                               fragment: str) -> None:
    m = TeleopMapper()
    out = m.update(axes, buttons, 3.0)  # type: ignore[arg-type]
    assert not out.valid
    assert fragment in (out.rejection or "")
    approx3(out.linear, (0.0, 0.0, 0.0))
    approx3(out.angular, (0.0, 0.0, 0.0))
    assert out.gripper_width is None and out.stamp == 3.0


def test_rejected_message_leaves_edges_and_mode_alone() -> None:
    m = TeleopMapper()
    bad = pad(ly=float("nan"))
    out = m.update(bad, btn(X, A), 0.0)
    assert out.mode is TeleopMode.TRANSLATE_XY and out.gripper_width is None
    # The press is seen once the input is good again: exactly one edge, not zero and not two.
    out = m.update(pad(), btn(X, A), 0.0)
    assert out.mode is TeleopMode.TRANSLATE_Z_YAW and out.gripper_width == 0.0
    assert m.update(pad(), btn(X, A), 0.0).mode is TeleopMode.TRANSLATE_Z_YAW


def test_slight_overshoot_is_accepted() -> None:
    out = TeleopMapper().update(pad(ly=1.04), btn(), 0.0)
    assert out.valid
    approx3(out.linear, (VMAX, 0.0, 0.0))


@pytest.mark.parametrize(
    "kwargs",
    [{"deadband": 1.0}, {"deadband": -0.1}, {"max_linear_speed": 0.0},
     {"max_angular_speed": float("nan")}, {"axis_left_x": 8}, {"mode": 11},
     {"sign_left_x": 0.5}, {"axis_limit": 0.9}, {"button_gripper_open": 11},
     {"num_buttons": 1}],
)
def test_bad_config_fails_at_construction(kwargs: dict[str, object]) -> None:
    pad_fields = set(PadLayout.__dataclass_fields__)
    pad_kwargs = {k: v for k, v in kwargs.items() if k in pad_fields}
    own = {k: v for k, v in kwargs.items() if k not in pad_fields}
    with pytest.raises(ValueError):
        TeleopConfig(pad=PadLayout(**pad_kwargs), **own)  # type: ignore[arg-type]


def test_initial_mode_accepts_string() -> None:
    cfg = TeleopConfig(initial_mode="rotate")  # type: ignore[arg-type]
    assert cfg.initial_mode is TeleopMode.ROTATE


def test_clip_norm() -> None:
    assert clip_norm((3.0, 4.0, 0.0), 1.0) == pytest.approx((0.6, 0.8, 0.0))
    assert clip_norm((0.1, 0.0, 0.0), 1.0) == (0.1, 0.0, 0.0)


# -- property: any input -> finite, bounded twist; never raises ------------------------------------
any_float = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-1.05, 1.05),
    st.sampled_from([0.0, 1.0, -1.0, 0.1, -0.1, 1.05, -1.05]),
)


@settings(max_examples=400, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.one_of(st.lists(any_float, min_size=8, max_size=8),
                      st.lists(any_float, max_size=12)),
            st.one_of(st.lists(st.integers(0, 1), min_size=11, max_size=11),
                      st.lists(st.integers(-5, 5), max_size=14)),
        ),
        min_size=1,
        max_size=8,
    ),
    right=st.booleans(),
    vmax=st.floats(0.01, 2.0),
    wmax=st.floats(0.01, 3.0),
)
def test_twist_always_finite_and_bounded(steps: list[tuple[list[float], list[int]]],
                                         right: bool, vmax: float, wmax: float) -> None:
    m = TeleopMapper(TeleopConfig(right_stick_enabled=right, max_linear_speed=vmax,
                                  max_angular_speed=wmax))
    for axes, buttons in steps:
        out = m.update(axes, buttons, 0.0)
        assert all(math.isfinite(c) for c in (*out.linear, *out.angular))
        assert math.dist(out.linear, (0, 0, 0)) <= vmax
        assert math.dist(out.angular, (0, 0, 0)) <= wmax
        assert out.mode in MODE_CYCLE
        if not out.valid:
            assert out.linear == (0.0, 0.0, 0.0) and out.angular == (0.0, 0.0, 0.0)
        assert out.gripper_width in (None, 0.0, 0.08)
