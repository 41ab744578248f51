"""Properties of the safety filter: no output ever exceeds a limit, whatever the input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ifagent_ros.core.control.kinematics import ArmKinematics
from ifagent_ros.core.control.safety_filter import SafetyFilter, SafetyLimits

HOME = np.array([0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785])
TOL = 1e-6

KIN = ArmKinematics()


def make_filter(dt: float = 0.002, box: bool = True, **kw) -> SafetyFilter:
    limits = SafetyLimits(**kw)
    return SafetyFilter(limits, dt, ee_position=KIN.ee_position if box else None)


def assert_within_limits(f: SafetyFilter, prev_a: np.ndarray, res, check_box: bool = True) -> None:
    lim = f.limits
    assert np.all(res.q <= np.asarray(lim.position_upper) + TOL), res.q
    assert np.all(res.q >= np.asarray(lim.position_lower) - TOL), res.q
    assert np.all(np.abs(res.v) <= f.vmax + TOL), res.v
    assert np.all(np.abs(res.a) <= f.amax + TOL), res.a
    assert np.all(np.abs(res.a - prev_a) <= f.jmax * f.dt + TOL), (res.a, prev_a)
    if check_box:
        p = KIN.ee_position(res.q)
        assert np.all(p >= np.asarray(lim.workspace_min) - TOL), p
        assert np.all(p <= np.asarray(lim.workspace_max) + TOL), p


finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False)
weird = st.sampled_from([np.nan, np.inf, -np.inf, 1e9, -1e9, 0.0])
command = st.one_of(
    st.lists(finite, min_size=7, max_size=7),
    st.lists(st.one_of(finite, weird), min_size=7, max_size=7),
    st.lists(finite, min_size=0, max_size=9),  # wrong sizes
)
# A command is held for a few steps so that the arm actually builds up speed towards limits.
segments = st.lists(
    st.tuples(command, st.integers(min_value=1, max_value=150), st.booleans()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    segs=segments,
    start=st.lists(st.floats(min_value=-0.6, max_value=0.6), min_size=7, max_size=7),
    dt=st.sampled_from([0.001, 0.002, 0.004]),
)
def test_no_output_ever_exceeds_a_limit(segs, start, dt) -> None:
    # Narrow workspace box around the start pose and tight joint limits so that limits are hit
    # often.
    q0 = HOME + 0.2 * np.asarray(start)
    p0 = KIN.ee_position(q0)
    lower = tuple(np.maximum(np.array(SafetyLimits().position_lower), q0 - 0.4))
    upper = tuple(np.minimum(np.array(SafetyLimits().position_upper), q0 + 0.4))
    f = make_filter(
        dt=dt,
        position_lower=lower,
        position_upper=upper,
        position_margin=0.05,
        workspace_min=tuple(p0 - 0.12),
        workspace_max=tuple(p0 + 0.12),
    )
    f.reset(q0)
    prev_a = np.zeros(7)
    for cmd, repeat, brake in segs:
        for _ in range(repeat):
            res = f.step(np.asarray(cmd, dtype=float), brake=brake and repeat % 3 == 0)
            assert_within_limits(f, prev_a, res)
            prev_a = res.a


def test_passes_a_gentle_command_unchanged() -> None:
    f = make_filter()
    f.reset(HOME)
    vd = np.array([0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    for _ in range(50):
        res = f.step(vd)
    np.testing.assert_allclose(res.v, vd, atol=1e-12)
    assert res.interventions == []


def test_brakes_to_exact_rest_and_holds() -> None:
    f = make_filter()
    f.reset(HOME)
    for _ in range(200):
        f.step(np.full(7, 0.3))
    assert not f.at_rest
    for _ in range(200):
        res = f.step(np.zeros(7), brake=True)
    assert f.at_rest
    q_stop = res.q.copy()
    for _ in range(10):
        res = f.step(np.zeros(7), brake=True)
    np.testing.assert_array_equal(res.q, q_stop)


def test_stops_before_joint_limit_with_margin() -> None:
    f = make_filter(box=False, position_margin=0.05)
    f.reset(HOME)
    upper = np.asarray(f.limits.position_upper)
    vd = np.array([0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0])  # joint 4 towards its upper limit (-0.0698)
    for _ in range(3000):
        res = f.step(vd)
    assert res.q[3] <= upper[3] - 0.05 + 1e-9
    assert res.q[3] > upper[3] - 0.06  # it gets close instead of stopping early
    assert "position" in res.interventions
    # Away from the limit is still allowed.
    for _ in range(50):
        res = f.step(-vd)
    assert res.v[3] < 0


def test_stays_in_workspace_box() -> None:
    p0 = KIN.ee_position(HOME)
    f = make_filter(workspace_min=tuple(p0 - 0.05), workspace_max=tuple(p0 + 0.05))
    f.reset(HOME)
    twist = np.array([0.3, 0, 0, 0, 0, 0])
    for _ in range(1500):
        qd, _ = KIN.twist_to_joint_velocity(f.q, twist)
        res = f.step(qd)
        assert np.all(KIN.ee_position(res.q) <= p0 + 0.05 + 1e-9)
    # It moved most of the way to the +x wall but not through it.
    assert KIN.ee_position(res.q)[0] > p0[0] + 0.03


def test_start_inside_margin_can_move_away() -> None:
    f = make_filter(box=False, position_margin=0.1)
    q = HOME.copy()
    q[3] = f.limits.position_upper[3] - 0.02  # inside the margin band
    f.reset(q)
    res = None
    for _ in range(100):
        res = f.step(np.array([0, 0, 0, -0.5, 0, 0, 0.0]))
    assert res is not None and res.q[3] < q[3] - 0.01
    for _ in range(200):
        res = f.step(np.array([0, 0, 0, 0.5, 0, 0, 0.0]))
    assert res.q[3] <= q[3] + 1e-9  # never deeper into the band than where it started


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_reset_past_a_joint_limit_holds_at_the_limit_never_beyond(side: float) -> None:
    # The executor re-anchors the filter to the measured arm when it rests away from the
    # reference; a measured joint pushed past its limit (the wrist bent back by a contact) was
    # adopted as the reference and commanded, past the limits the filter promises.
    f = make_filter(box=False)
    lo, hi = np.asarray(f.limits.position_lower), np.asarray(f.limits.position_upper)
    q = HOME.copy()
    q[5] = (hi[5] + 0.07) if side > 0 else (lo[5] - 0.07)
    f.reset(q)
    assert lo[5] <= f.q[5] <= hi[5]
    prev_a = np.zeros(7)
    for vd in (np.zeros(7), side * np.full(7, 1.0), -side * np.full(7, 1.0)):
        for _ in range(300):
            res = f.step(vd)
            assert_within_limits(f, prev_a, res, check_box=False)
            prev_a = res.a


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        SafetyFilter(SafetyLimits(velocity=(1.0,) * 6), 0.002)
    with pytest.raises(ValueError):
        SafetyFilter(SafetyLimits(), 0.0)
    f = make_filter()
    with pytest.raises(RuntimeError):
        f.step(np.zeros(7))
    with pytest.raises(ValueError):
        f.reset(np.full(7, np.nan))


def test_invalid_command_brakes() -> None:
    f = make_filter()
    f.reset(HOME)
    for _ in range(100):
        f.step(np.full(7, 0.2))
    speed = np.abs(f.v).max()
    res = f.step(np.array([np.nan] * 7))
    assert res.interventions == ["invalid_input"]
    assert np.abs(res.v).max() < speed
