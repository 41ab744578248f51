"""core.campaign.impairments: link scheduling, word errors, garbage Joy, fault state machine."""

from __future__ import annotations

import json
import math
import struct

import pytest

from ifagent_ros.core.campaign.impairments import (
    DEFAULT_GARBAGE_DURATION_S,
    DEFAULT_GARBAGE_RATE_HZ,
    GARBAGE_KINDS,
    FaultState,
    JoyGarbage,
    LinkScheduler,
    WordErrors,
    check_link,
    corrupt_string_payload,
    replace_header_stamp,
)
from ifagent_ros.core.campaign.types import FaultCommand, LinkImpairment
from ifagent_ros.core.control.teleop import TeleopConfig, TeleopMapper

# --- link scheduler ---------------------------------------------------------------------------


def _run(link: LinkImpairment, seed: int, route: int = 0, n: int = 200) -> list[float | None]:
    sched = LinkScheduler(link, seed, route)
    return [sched.schedule(i * 0.01) for i in range(n)]


def test_same_seed_same_decisions_other_seed_or_route_differs() -> None:
    link = LinkImpairment(latency_s=0.05, jitter_s=0.02, drop_rate=0.3)
    assert _run(link, 7) == _run(link, 7)
    assert _run(link, 7) != _run(link, 8)
    assert _run(link, 7, route=0) != _run(link, 7, route=1)


def test_drop_decisions_do_not_depend_on_jitter() -> None:
    """Two draws per message whatever happens: a route's drops are a function of the seed and
    the message index only."""
    a = _run(LinkImpairment(drop_rate=0.4), 3)
    b = _run(LinkImpairment(drop_rate=0.4, latency_s=0.2, jitter_s=0.1), 3)
    assert [x is None for x in a] == [x is None for x in b]


@pytest.mark.parametrize("rate", [0.0, 0.05, 0.5, 1.0])
def test_drop_rate_statistics(rate: float) -> None:
    n = 10_000
    dropped = sum(x is None for x in _run(LinkImpairment(drop_rate=rate), 11, n=n))
    # 5 binomial standard deviations (0 at rates 0 and 1: exact).
    tolerance = 5 * math.sqrt(n * rate * (1 - rate))
    assert abs(dropped - rate * n) <= tolerance


def test_zero_impairment_releases_on_arrival() -> None:
    sched = LinkScheduler(LinkImpairment(), 0)
    assert not sched.delays
    assert [sched.schedule(t) for t in (0.0, 0.5, 0.7)] == [0.0, 0.5, 0.7]


def test_latency_and_jitter_bounds_and_fifo_order() -> None:
    latency, jitter = 0.1, 0.05
    sched = LinkScheduler(LinkImpairment(latency_s=latency, jitter_s=jitter), 5)
    assert sched.delays
    # Arrivals 1 ms apart, far closer than the jitter: independent delays would reorder.
    arrivals = [i * 0.001 for i in range(5000)]
    releases = [sched.schedule(t) for t in arrivals]
    delays = [r - t for r, t in zip(releases, arrivals, strict=True)]  # type: ignore[operator]
    assert min(delays) >= latency
    assert max(delays) <= latency + jitter + 1e-12
    assert releases == sorted(releases)  # type: ignore[type-var]
    assert max(delays) - min(delays) > 0.5 * jitter  # jitter really varies the delay


def test_jitter_is_uniform_for_sparse_arrivals() -> None:
    sched = LinkScheduler(LinkImpairment(latency_s=0.0, jitter_s=1.0), 9)
    delays = [sched.schedule(10.0 * i) - 10.0 * i for i in range(4000)]  # type: ignore[operator]
    assert sum(delays) / len(delays) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("field", "value"),
    [("latency_s", -0.1), ("jitter_s", math.inf), ("drop_rate", 1.5),
     ("word_error_rate", -0.01), ("drop_rate", math.nan)],
)
def test_bad_link_raises_naming_the_field(field: str, value: float) -> None:
    link = LinkImpairment(**{field: value})
    with pytest.raises(ValueError, match=field):
        check_link(link, "routes[0]")
    with pytest.raises(ValueError, match=field):
        LinkScheduler(link, 0)


# --- word errors ------------------------------------------------------------------------------

SENTENCE = "go to the red cup on the kitchen table and stop"


def test_word_errors_rate_zero_is_identity() -> None:
    assert WordErrors(0.0, 1).apply("  keep   odd spacing ") == "  keep   odd spacing "


def test_word_errors_rate_one_changes_every_word() -> None:
    text = "alpha bravo charlie delta echo foxtrot golf hotel"  # no vocabulary words
    for seed in range(20):
        out = WordErrors(1.0, seed).apply(text).split()
        assert not set(out) & set(text.split())  # every word substituted or deleted
    # A vocabulary word is never "substituted" by itself.
    for seed in range(20):
        out = WordErrors(1.0, seed).apply("left left left left").split()
        assert "left" not in out


def test_word_errors_substitute_and_delete_at_rate() -> None:
    errors = WordErrors(0.2, 4)
    text = " ".join(["alpha"] * 10_000)  # not in the vocabulary: every change is visible
    out = errors.apply(text).split()
    deleted = 10_000 - len(out)
    substituted = sum(w != "alpha" for w in out)
    assert (deleted + substituted) / 10_000 == pytest.approx(0.2, abs=0.02)
    assert substituted / (deleted + substituted) == pytest.approx(0.7, abs=0.05)


def test_word_errors_are_seeded() -> None:
    assert WordErrors(0.5, 3).apply(SENTENCE) == WordErrors(0.5, 3).apply(SENTENCE)
    assert WordErrors(0.5, 3).apply(SENTENCE) != WordErrors(0.5, 4).apply(SENTENCE)


def test_string_payload_json_text_field_only() -> None:
    speech = {"version": 1, "text": SENTENCE, "confidence": 0.9, "backend": "typed",
              "start": 1.0, "end": 2.0, "in_grammar": True}
    out = json.loads(corrupt_string_payload(json.dumps(speech), WordErrors(1.0, 0)))
    assert out["text"] != SENTENCE
    assert {k: v for k, v in out.items() if k != "text"} == {
        k: v for k, v in speech.items() if k != "text"}
    other = json.dumps({"mode": "latent", "speed": 1.0})
    assert corrupt_string_payload(other, WordErrors(1.0, 0)) == other
    assert corrupt_string_payload("left a bit", WordErrors(1.0, 0)) != "left a bit"


# --- header stamp splice ----------------------------------------------------------------------


def _cdr(sec: int, nsec: int, payload: bytes) -> bytes:
    return b"\x00\x01\x00\x00" + struct.pack("<iI", sec, nsec) + payload


def test_replace_header_stamp_keeps_frozen_content() -> None:
    out = replace_header_stamp(_cdr(1, 2, b"frozen"), _cdr(30, 40, b"fresh!"))
    assert out == _cdr(30, 40, b"frozen")
    with pytest.raises(ValueError, match="encapsulation"):
        replace_header_stamp(_cdr(1, 2, b"x"), b"\x01\x00" + _cdr(3, 4, b"y")[2:])
    with pytest.raises(ValueError, match="short"):
        replace_header_stamp(b"\x00\x01", _cdr(1, 2, b""))


# --- garbage joy ------------------------------------------------------------------------------


def _malformed(axes: list[float], buttons: list[int]) -> bool:
    return (len(axes) != 8 or len(buttons) != 11
            or any(not math.isfinite(a) or abs(a) > 1.0 for a in axes)
            or any(b not in (0, 1) for b in buttons))


def test_every_burst_of_len_kinds_has_each_malformation() -> None:
    gen = JoyGarbage(5)
    for _ in range(3):
        burst = [gen.next() for _ in GARBAGE_KINDS]
        assert sorted(g.kind for g in burst) == sorted(GARBAGE_KINDS)
        assert all(_malformed(g.axes, g.buttons) for g in burst)
        by_kind = {g.kind: g for g in burst}
        assert any(math.isnan(a) for a in by_kind["nan_axis"].axes)
        assert math.inf in by_kind["inf_axis"].axes
        assert -math.inf in by_kind["neg_inf_axis"].axes
        assert 1e9 in by_kind["huge_axis"].axes
        assert len(by_kind["too_few_axes"].axes) < 8 < len(by_kind["too_many_axes"].axes)
        assert len(by_kind["too_few_buttons"].buttons) < 11
        assert len(by_kind["too_many_buttons"].buttons) > 11
        assert min(by_kind["negative_buttons"].buttons) < 0
        assert max(by_kind["huge_buttons"].buttons) == 2**31 - 1
        assert by_kind["empty"].axes == [] and by_kind["empty"].buttons == []


def test_garbage_is_seeded() -> None:
    def kinds(seed: int, fault_seed: int = 0) -> list[str]:
        gen = JoyGarbage(seed, fault_seed=fault_seed)
        return [gen.next().kind for _ in range(30)]

    assert kinds(1) == kinds(1)
    assert kinds(1) != kinds(2) and kinds(1) != kinds(1, fault_seed=9)


def test_teleop_rejects_every_kind_of_garbage() -> None:
    """What the real teleop mapping (and so the shared-autonomy controller) makes of it:
    every malformed message is refused, negative and huge button values included."""
    gen = JoyGarbage(0)
    accepted = set()
    for _ in range(2 * len(GARBAGE_KINDS)):
        g = gen.next()
        out = TeleopMapper(TeleopConfig()).update(g.axes, g.buttons, 0.0)
        if out.rejection is None:
            accepted.add(g.kind)
    assert accepted == set()


# --- fault state machine ----------------------------------------------------------------------


def test_fault_start_expire_and_explicit_end() -> None:
    state = FaultState()
    [ev] = state.command(FaultCommand(kind="freeze_camera", duration_s=2.0), now=10.0)
    assert ev.active and not ev.restart and ev.fault.end == 12.0
    assert state.expire(11.9) == [] and state.get("freeze_camera") is not None
    [end] = state.expire(12.0)
    assert not end.active and end.kind == "freeze_camera" and end.at == 12.0
    assert state.get("freeze_camera") is None and state.expire(20.0) == []

    state.command(FaultCommand(kind="stale_joint_states"), now=0.0)  # duration 0: until ended
    assert state.expire(1e9) == []
    [end] = state.command(FaultCommand(kind="stale_joint_states", active=False), now=5.0)
    assert not end.active
    assert state.command(FaultCommand(kind="stale_joint_states", active=False), now=6.0) == []


def test_restart_replaces_the_fault() -> None:
    state = FaultState()
    state.command(FaultCommand(kind="freeze_camera", duration_s=1.0), now=0.0)
    [ev] = state.command(FaultCommand(kind="freeze_camera", duration_s=5.0), now=0.5)
    assert ev.restart and state.expire(2.0) == [] and state.get("freeze_camera").end == 5.5


def test_odom_jumps_accumulate_and_stay() -> None:
    state = FaultState()
    state.command(FaultCommand(kind="odom_jump", magnitude=0.5, duration_s=1.0), now=0.0)
    state.command(FaultCommand(kind="odom_jump", magnitude=0.25), now=0.5)
    assert state.odom_offset_x == pytest.approx(0.75)
    state.command(FaultCommand(kind="odom_jump", active=False), now=1.0)
    state.expire(100.0)
    assert state.odom_offset_x == pytest.approx(0.75)


def test_joy_garbage_defaults_and_bursts() -> None:
    state = FaultState()
    [ev] = state.command(FaultCommand(kind="joy_garbage"), now=1.0)
    assert ev.fault.magnitude == DEFAULT_GARBAGE_RATE_HZ
    assert ev.fault.duration_s == DEFAULT_GARBAGE_DURATION_S and ev.fault.burst == 1
    assert [e.kind for e in state.expire(1.0 + DEFAULT_GARBAGE_DURATION_S)] == ["joy_garbage"]
    [ev] = state.command(FaultCommand(kind="joy_garbage", magnitude=200, duration_s=2), now=3.0)
    assert (ev.fault.magnitude, ev.fault.duration_s, ev.fault.burst) == (200, 2, 2)


def test_kill_node_is_not_the_relays_and_bad_numbers_raise() -> None:
    state = FaultState()
    assert state.command(FaultCommand(kind="kill_node"), now=0.0) == []
    assert state.active == {}
    with pytest.raises(ValueError, match="finite"):
        state.command(FaultCommand(kind="odom_jump", magnitude=math.nan), now=0.0)
    with pytest.raises(ValueError, match="seed"):
        state.command(FaultCommand(kind="joy_garbage", seed=-1), now=0.0)
    assert state.odom_offset_x == 0.0
