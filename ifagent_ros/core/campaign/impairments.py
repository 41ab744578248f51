"""What fault_relay_node does to the messages it relays, without ROS: link scheduling (latency,
jitter, drops), ASR word errors, garbage gamepad messages and the fault state machine.

Times are plain float seconds on one monotonic clock chosen by the caller (the node uses the
steady clock, so a link's latency is wall-clock latency, as a real network's is).

Seeding: every random quantity draws from its own numpy stream ``default_rng([seed, STREAM,
...])``, so a route's drops never shift because another route got more messages, and the same
seed gives the same impairments message for message.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ifagent_ros.core.campaign.types import FaultCommand, FaultKind, LinkImpairment

__all__ = [
    "DEFAULT_GARBAGE_DURATION_S",
    "DEFAULT_GARBAGE_RATE_HZ",
    "GARBAGE_KINDS",
    "RELAY_FAULTS",
    "ActiveFault",
    "FaultEvent",
    "FaultState",
    "GarbageJoy",
    "JoyGarbage",
    "LinkScheduler",
    "WordErrors",
    "check_link",
    "corrupt_string_payload",
    "replace_header_stamp",
]

# Stream numbers of default_rng([seed, stream, ...]); never reuse one.
LINK_STREAM, WORD_STREAM, GARBAGE_STREAM = 0, 1, 2

# The faults the relay implements; kill_node is the episode driver's business.
RELAY_FAULTS: frozenset[str] = frozenset(
    {"freeze_camera", "stale_joint_states", "odom_jump", "joy_garbage"}
)
DEFAULT_GARBAGE_RATE_HZ = 50.0
DEFAULT_GARBAGE_DURATION_S = 0.5


def check_link(link: LinkImpairment, where: str = "link") -> None:
    """ValueError naming the field if ``link`` is not a usable impairment."""
    for name in ("latency_s", "jitter_s"):
        value = getattr(link, name)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{where}.{name} must be a finite number >= 0, got {value}")
    for name in ("drop_rate", "word_error_rate"):
        value = getattr(link, name)
        if not 0.0 <= value <= 1.0:  # also rejects NaN
            raise ValueError(f"{where}.{name} must be in [0, 1], got {value}")


class LinkScheduler:
    """Per-route drop / delay decisions.

    ``schedule(arrival)`` -> ``None`` (dropped) or the release time
    ``max(arrival + latency + U(0, jitter), previous release)``. Ordering choice: the link is
    FIFO, never reordering, because the relayed topics are reliable DDS topics and a reliable
    DDS reader delivers one writer's samples in order; jitter therefore shows up as bunching
    (head-of-line blocking), not as swapped messages. For non-decreasing arrivals the delay still
    stays within [latency, latency + jitter]: the previous release is at most
    ``previous arrival + latency + jitter``. The price: when messages come faster than the
    jitter, each waits for the slowest before it, so the mean delay drifts from
    ``latency + jitter / 2`` towards ``latency + jitter`` (measured at 500 Hz, latency 0.1 s,
    jitter 0.02 s: median 114 ms). Every call draws exactly two numbers (drop, jitter),
    dropped or not, so the decisions depend only on the seed and the message's index.
    """

    def __init__(self, link: LinkImpairment, seed: int, route: int = 0) -> None:
        check_link(link)
        self.link = link
        self._rng = np.random.default_rng([seed, LINK_STREAM, route])
        self._last_release = -math.inf

    @property
    def delays(self) -> bool:
        """Whether messages may be held back at all (else they leave on arrival)."""
        return self.link.latency_s > 0.0 or self.link.jitter_s > 0.0

    def schedule(self, arrival: float) -> float | None:
        u_drop, u_jitter = self._rng.random(2)
        if u_drop < self.link.drop_rate:
            return None
        release = arrival + self.link.latency_s + self.link.jitter_s * float(u_jitter)
        release = max(release, self._last_release)
        self._last_release = release
        return release


# Short words an ASR confuses in this project's commands (corrections, directions, objects).
DEFAULT_VOCABULARY: tuple[str, ...] = (
    "a", "the", "to", "left", "right", "up", "down", "stop", "go", "more", "less", "slower",
    "faster", "red", "blue", "green", "cup", "block", "bowl", "table", "kitchen", "door",
    "turn", "back", "open", "close", "pick", "place", "put", "on", "in", "and", "no", "yes",
)
SUBSTITUTION_SHARE = 0.7  # of word errors; the rest are deletions (ASR errors are mostly subs)


class WordErrors:
    """Per-word ASR errors at ``rate``: each word independently becomes an error; an error is a
    substitution by a different vocabulary word (70 %) or a deletion (30 %). Words are split on
    whitespace and joined with single spaces; rate 0 returns the text unchanged."""

    def __init__(
        self, rate: float, seed: int, route: int = 0, vocabulary: Sequence[str] = DEFAULT_VOCABULARY
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"word_error_rate must be in [0, 1], got {rate}")
        words = [w for w in vocabulary if w.strip() == w and w]
        if len(set(words)) < 2:
            raise ValueError("the substitution vocabulary needs at least two distinct words")
        self.rate = rate
        self._vocabulary = sorted(set(words))
        self._rng = np.random.default_rng([seed, WORD_STREAM, route])

    def apply(self, text: str) -> str:
        if self.rate <= 0.0:
            return text
        out: list[str] = []
        for word in text.split():
            u_err, u_kind, u_word = self._rng.random(3)
            if u_err >= self.rate:
                out.append(word)
            elif u_kind < SUBSTITUTION_SHARE:
                choices = [w for w in self._vocabulary if w != word.lower()]
                out.append(choices[int(u_word * len(choices))])
            # else: deleted
        return " ".join(out)


def corrupt_string_payload(data: str, errors: WordErrors) -> str:
    """Word errors on a std_msgs/String payload: a JSON object with a string ``text`` field
    (SpeechText) gets its text corrupted and keeps every other field; other JSON passes
    unchanged (it is not speech); non-JSON text is corrupted as a whole."""
    try:
        obj = json.loads(data)
    except ValueError:
        return errors.apply(data)
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj["text"] = errors.apply(obj["text"])
        return json.dumps(obj)
    return data


def replace_header_stamp(frozen: bytes, fresh: bytes) -> bytes:
    """``frozen`` with the header stamp of ``fresh``; both serialized (CDR) messages whose first
    field is std_msgs/Header (Image, JointState, ...). The stamp is the 8 bytes after the 4-byte
    encapsulation header (int32 sec, uint32 nanosec), so a byte splice is exact and avoids
    deserializing a camera frame twice per message."""
    if len(frozen) < 12 or len(fresh) < 12:
        raise ValueError("serialized message too short to hold a header stamp")
    if frozen[:2] != fresh[:2]:
        raise ValueError("messages use different CDR encapsulations (byte orders)")
    return frozen[:4] + fresh[4:12] + frozen[12:]


# --- garbage gamepad ----------------------------------------------------------------------------

GARBAGE_KINDS: tuple[str, ...] = (
    "nan_axis",          # an axis is NaN
    "inf_axis",          # an axis is +inf
    "neg_inf_axis",      # an axis is -inf
    "huge_axis",         # an axis is 1e9 (far outside [-1, 1])
    "too_few_axes",
    "too_many_axes",
    "too_few_buttons",
    "too_many_buttons",
    "negative_buttons",  # button values -1
    "huge_buttons",      # button values 2**31 - 1 (int32 max)
    "empty",             # no axes, no buttons
)


@dataclass(frozen=True)
class GarbageJoy:
    kind: str
    axes: list[float]
    buttons: list[int]


class JoyGarbage:
    """Malformed sensor_msgs/Joy contents. Kinds come in seeded random order, each kind once
    per round of ``len(GARBAGE_KINDS)`` messages, so any burst that long contains every kind."""

    def __init__(self, seed: int, burst: int = 0, *, fault_seed: int = 0, axes: int = 8,
                 buttons: int = 11) -> None:
        if axes < 2 or buttons < 2:
            raise ValueError("a gamepad has at least 2 axes and 2 buttons")
        self._rng = np.random.default_rng([seed, GARBAGE_STREAM, fault_seed, burst])
        self._axes, self._buttons = axes, buttons
        self._round: list[str] = []

    def next(self) -> GarbageJoy:
        if not self._round:
            self._round = [GARBAGE_KINDS[i] for i in self._rng.permutation(len(GARBAGE_KINDS))]
        kind = self._round.pop()
        # Plausible values around the malformation, so only the malformation is wrong.
        axes = [float(v) for v in self._rng.uniform(-1.0, 1.0, self._axes)]
        buttons = [int(v) for v in self._rng.integers(0, 2, self._buttons)]
        i = int(self._rng.integers(self._axes))
        if kind == "nan_axis":
            axes[i] = math.nan
        elif kind == "inf_axis":
            axes[i] = math.inf
        elif kind == "neg_inf_axis":
            axes[i] = -math.inf
        elif kind == "huge_axis":
            axes[i] = 1e9
        elif kind == "too_few_axes":
            axes = axes[: self._axes // 2]
        elif kind == "too_many_axes":
            axes = axes + axes
        elif kind == "too_few_buttons":
            buttons = buttons[: self._buttons // 2]
        elif kind == "too_many_buttons":
            buttons = buttons + buttons
        elif kind == "negative_buttons":
            buttons = [-1] * self._buttons
        elif kind == "huge_buttons":
            buttons = [2**31 - 1] * self._buttons
        else:  # empty
            axes, buttons = [], []
        return GarbageJoy(kind, axes, buttons)


# --- fault state machine ------------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveFault:
    kind: FaultKind
    start: float
    duration_s: float          # 0: until ended by a command
    magnitude: float
    seed: int
    burst: int = 0             # joy_garbage: index of the burst (seeds its garbage)

    @property
    def end(self) -> float:
        return self.start + self.duration_s if self.duration_s > 0.0 else math.inf


@dataclass(frozen=True)
class FaultEvent:
    """A fault started (``active``) or ended; ``restart``: started while already active."""

    kind: FaultKind
    active: bool
    at: float
    fault: ActiveFault
    restart: bool = False


@dataclass
class FaultState:
    """The relay's active faults. ``command`` starts (or restarts: new start, duration and
    magnitude) or ends a fault; ``expire`` ends those whose duration ran out. An odom_jump adds
    its magnitude to ``odom_offset_x`` when it starts, and the offset stays after it ends (real
    odometry does not jump back); several jumps add up."""

    active: dict[str, ActiveFault] = field(default_factory=dict)
    odom_offset_x: float = 0.0
    bursts: int = 0

    def command(self, cmd: FaultCommand, now: float) -> list[FaultEvent]:
        if cmd.kind not in RELAY_FAULTS:
            return []
        if not (math.isfinite(cmd.duration_s) and math.isfinite(cmd.magnitude)):
            raise ValueError(f"{cmd.kind}: duration_s and magnitude must be finite")
        if cmd.seed < 0:
            raise ValueError(f"{cmd.kind}: seed must be >= 0, got {cmd.seed}")
        if not cmd.active:
            old = self.active.pop(cmd.kind, None)
            return [] if old is None else [FaultEvent(cmd.kind, False, now, old)]
        duration, magnitude = max(cmd.duration_s, 0.0), cmd.magnitude
        if cmd.kind == "joy_garbage":
            duration = duration or DEFAULT_GARBAGE_DURATION_S
            magnitude = magnitude if magnitude > 0.0 else DEFAULT_GARBAGE_RATE_HZ
            self.bursts += 1
        elif cmd.kind == "odom_jump":
            self.odom_offset_x += magnitude
        fault = ActiveFault(cmd.kind, now, duration, magnitude, cmd.seed, self.bursts)
        restart = cmd.kind in self.active
        self.active[cmd.kind] = fault
        return [FaultEvent(cmd.kind, True, now, fault, restart=restart)]

    def expire(self, now: float) -> list[FaultEvent]:
        ended = [f for f in self.active.values() if now >= f.end]
        for f in ended:
            del self.active[f.kind]
        return [FaultEvent(f.kind, False, f.end, f) for f in ended]

    def get(self, kind: str) -> ActiveFault | None:
        return self.active.get(kind)
