"""What fault_relay_node carries and how its faults act, without ROS: its configuration (one
route per relayed topic, with the route's link impairment), each route's state (held messages,
drops, the frozen message of a sensor fault; messages as serialized bytes), and when the
messages of a garbage burst are due.

``nodes/fault_relay_node.py`` declares :class:`RelayConfig` as its parameters (``routes.inputs``,
``routes.outputs``, ``routes.types``, ``routes.latency_s`` ..., ``seed``, ``fault_topic``,
``joy_topic``, ``rate_hz``) and keeps only the message plumbing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ifagent_ros.core.campaign.impairments import (
    ActiveFault,
    LinkScheduler,
    WordErrors,
    check_link,
    replace_header_stamp,
)
from ifagent_ros.core.campaign.types import FAULT_TOPIC, LinkImpairment

__all__ = ["FROZEN_TYPES", "IMAGE", "JOINT_STATE", "JOY", "ODOMETRY", "STRING", "GarbageClock",
           "RelayConfig", "RelayRoutes", "Route", "RouteState"]

IMAGE, JOINT_STATE, ODOMETRY = (
    "sensor_msgs/msg/Image", "sensor_msgs/msg/JointState", "nav_msgs/msg/Odometry")
STRING, JOY = "std_msgs/msg/String", "sensor_msgs/msg/Joy"
LINK_FIELDS = ("latency_s", "jitter_s", "drop_rate", "word_error_rate")
# The sensor faults that freeze a route's messages, and the message type they freeze.
FROZEN_TYPES = {"freeze_camera": IMAGE, "stale_joint_states": JOINT_STATE}


@dataclass
class RelayRoutes:
    """One entry per route in each list; a link list may be [] (all zeros)."""

    inputs: list[str] = field(default_factory=list)   # what the producer publishes (raw)
    outputs: list[str] = field(default_factory=list)  # the standard names
    types: list[str] = field(default_factory=list)    # pkg/msg/Name
    latency_s: list[float] = field(default_factory=list)
    jitter_s: list[float] = field(default_factory=list)
    drop_rate: list[float] = field(default_factory=list)
    word_error_rate: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    index: int
    input: str
    output: str
    msgtype: str
    link: LinkImpairment


@dataclass
class RelayConfig:
    routes: RelayRoutes = field(default_factory=RelayRoutes)
    seed: int = 0
    fault_topic: str = FAULT_TOPIC
    joy_topic: str = "/joy"  # joy_garbage goes out here, interleaved with the real pad
    rate_hz: float = 1000.0  # the pump that releases held messages and garbage

    def validate(self) -> None:
        self.route_list()

    def route_list(self) -> list[Route]:
        """The routes; ValueError naming the parameter that is wrong."""
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not self.rate_hz > 0.0:
            raise ValueError(f"rate_hz must be > 0, got {self.rate_hz}")
        r = self.routes
        n = len(r.inputs)
        for name in ("outputs", "types"):
            if len(getattr(r, name)) != n:
                raise ValueError(f"routes.{name} has {len(getattr(r, name))} entries, "
                                 f"routes.inputs has {n}")
        for name in LINK_FIELDS:
            values = getattr(r, name)
            if values and len(values) != n:
                raise ValueError(f"routes.{name} has {len(values)} entries, routes.inputs has "
                                 f"{n} (give one per route, or [] for all zeros)")
        for name in ("inputs", "outputs"):
            values = getattr(r, name)
            if any(not v.startswith("/") for v in values) or len(set(values)) != len(values):
                raise ValueError(f"routes.{name} must be distinct absolute topic names, got "
                                 f"{values}")
        if set(r.inputs) & set(r.outputs):
            raise ValueError(f"a topic is both a route input and output: "
                             f"{sorted(set(r.inputs) & set(r.outputs))} (the relay would loop)")
        routes = []
        for i in range(n):
            link = LinkImpairment(**{k: (getattr(r, k)[i] if getattr(r, k) else 0.0)
                                     for k in LINK_FIELDS})
            check_link(link, f"routes[{i}] ({r.inputs[i]})")
            if link.word_error_rate > 0.0 and r.types[i] != STRING:
                raise ValueError(f"routes.word_error_rate[{i}] = {link.word_error_rate}, but "
                                 f"word errors apply to {STRING} routes only ({r.types[i]})")
            if r.outputs[i] == self.joy_topic and r.types[i] != JOY:
                raise ValueError(f"joy_topic {self.joy_topic} is routed with type "
                                 f"{r.types[i]}, not {JOY}")
            routes.append(Route(i, r.inputs[i], r.outputs[i], r.types[i], link))
        return routes


@dataclass(eq=False)
class RouteState:
    """One route's link and sensor-fault state; ``freezes``: the fault that freezes its
    messages (FROZEN_TYPES), if any."""

    route: Route
    scheduler: LinkScheduler
    words: WordErrors | None     # ASR word errors (String routes with word_error_rate > 0)
    freezes: str | None
    queue: deque[tuple[float, bytes]] = field(default_factory=deque)  # (release time, message)
    last: bytes | None = None    # last message received (what a freeze freezes)
    frozen: bytes | None = None  # freeze_camera / stale_joint_states: the frozen message
    dropped: int = 0
    forwarded: int = 0

    @classmethod
    def of(cls, route: Route, seed: int) -> RouteState:
        link, i = route.link, route.index
        return cls(route, LinkScheduler(link, seed, i),
                   WordErrors(link.word_error_rate, seed, i) if link.word_error_rate > 0 else None,
                   next((k for k, t in FROZEN_TYPES.items() if t == route.msgtype), None))

    def frozen_message(self, data: bytes) -> bytes:
        """What the broken sensor sends instead of ``data`` while its freeze is on: the message
        of when the fault (re)started (the first one if none came before); stale_joint_states
        keeps its old stamp, a frozen camera frame gets the fresh one."""
        if self.frozen is None:
            self.frozen = self.last if self.last is not None else data
        if self.freezes == "stale_joint_states":
            return self.frozen
        return replace_header_stamp(self.frozen, data)

    def schedule(self, now: float) -> float | None:
        """The release time of a message arriving now; None: the link drops it."""
        release = self.scheduler.schedule(now)
        if release is None:
            self.dropped += 1
        return release

    def due(self, now: float) -> list[bytes]:
        """The held messages whose release time has come, in order (counted as forwarded)."""
        out = []
        while self.queue and self.queue[0][0] <= now:
            out.append(self.queue.popleft()[1])
        self.forwarded += len(out)
        return out


@dataclass
class GarbageClock:
    """When the messages of a joy_garbage burst are due: a burst of duration d at rate r is
    exactly ceil(d * r) messages however late the timer fires (due times come from the message
    index, not from adding periods: no rounding drift in the count)."""

    sent: int = 0  # messages of the current burst so far

    def due(self, burst: ActiveFault, now: float) -> int:
        """How many messages to send now (never past the burst's end); counts them as sent."""
        n = 0
        while True:
            due = burst.start + (self.sent + n) / burst.magnitude
            if due > now or due >= burst.end:
                break
            n += 1
        self.sent += n
        return n
