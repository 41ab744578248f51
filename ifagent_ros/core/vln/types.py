"""The navigation contract shared by environments and planners (ROS-free, no I/O).

Headings follow the Matterport3D convention used by R2R: radians, clockwise from the +y axis
of the world frame, so the heading from a to b is ``atan2(dx, dy)``. Positions are metres in
the environment's world frame (``map`` on a robot).

An environment gives the agent a :class:`NavObservation` at a *place* (an R2R viewpoint, a
house waypoint): the neighbouring places it can move to and the objects visible from here with
their directions. The agent answers with a :class:`NavDecision`: move to one neighbour, or stop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Protocol


def heading_to(src: tuple[float, ...], dst: tuple[float, ...]) -> float:
    """Heading (rad, clockwise from +y) from ``src`` to ``dst``."""
    return math.atan2(dst[0] - src[0], dst[1] - src[1])


def wrap_angle(a: float) -> float:
    """``a`` wrapped to (-pi, pi]."""
    a = math.fmod(a + math.pi, 2.0 * math.pi)
    if a <= 0.0:
        a += 2.0 * math.pi
    return a - math.pi


@dataclass(frozen=True)
class SeenObject:
    name: str  # category or label, lower case ("sofa", "kitchen counter")
    heading: float  # absolute heading from the observing place, rad
    closeness: float = 0.0  # 0..1, larger = closer / bigger in view (R2R: max_area_frac)
    object_id: str = ""


@dataclass(frozen=True)
class Neighbour:
    place_id: str
    position: tuple[float, float, float]
    heading: float  # absolute heading from the current place, rad
    distance: float  # metres along the edge


@dataclass(frozen=True)
class NavObservation:
    place_id: str
    position: tuple[float, float, float]
    heading: float  # the agent's current heading, rad
    neighbours: tuple[Neighbour, ...]
    objects: tuple[SeenObject, ...]
    room: str | None = None  # room type when the environment knows it ("kitchen")
    step: int = 0


@dataclass(frozen=True)
class NavDecision:
    action: Literal["move", "stop"]
    target: str | None = None  # place id for "move" (must be one of the neighbours)
    subgoal: str = ""  # the sub-goal being pursued, for status and logs
    reason: str = ""  # why (stopping reason, fallback used, ...)
    extras: dict[str, object] = field(default_factory=dict)


class NavEnv(Protocol):
    """One episode at a time: ``reset`` then ``step`` until ``done``."""

    def reset(self, episode: object) -> NavObservation: ...

    def step(self, decision: NavDecision) -> NavObservation: ...

    @property
    def done(self) -> bool: ...

    @property
    def trajectory(self) -> list[str]:
        """Place ids visited, start first."""
        ...


class Planner(Protocol):
    def reset(self, instruction: str, observation: NavObservation) -> None: ...

    def act(self, observation: NavObservation) -> NavDecision: ...
