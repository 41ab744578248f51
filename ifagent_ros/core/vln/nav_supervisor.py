"""The logic behind ``vln_planner_node`` (ROS-free): instruction + odometry + perceived objects in,
the next goal pose, a path and a status out.

The robot moves on a *known map*: places with positions (the house's navigation graph in sim, a
place-graph file on a real robot, see :class:`KnownMap`) and the collision-free edges between
them. The supervisor localises the odometry pose to the nearest place, turns the place's
neighbours and the objects seen around it into a
:class:`~ifagent_ros.core.vln.types.NavObservation`, asks the planner (rule-based by default, an
LLM when configured) for the next place, and publishes that place as the goal (and the edge as a
two-pose path). When the robot arrives (odometry within ``arrival_tolerance_m``) the planner is
asked again, until it stops.

Bad input never produces a goal: an empty instruction, an instruction with nothing it can find
(unknown words only), a goal the map knows but cannot reach (behind a closed door or a wall), an
odometry jump, a pose off the map, a goal not reached in time. The supervisor then stops (an
empty path) and says why, or asks. A new instruction mid-route replaces the old one and replans
from the place nearest to the robot. Every goal passes a final check (finite, on the known map,
a known place) before it leaves: see :meth:`NavSupervisor._checked`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ifagent_ros.core.vln.instruction import InstructionParser, ParsedInstruction
from ifagent_ros.core.vln.known_map import KnownMap
from ifagent_ros.core.vln.lexicon import Lexicon
from ifagent_ros.core.vln.planners import make_planner
from ifagent_ros.core.vln.types import (
    NavDecision,
    NavObservation,
    Neighbour,
    Planner,
    SeenObject,
    heading_to,
)

__all__ = ["KnownMap", "NavSupervisor", "NavSupervisorConfig", "NavUpdate", "PerceivedThing",
           "apparent_closeness"]

# Apparent-size model of :meth:`ifagent_ros.core.worlds.house.House.seen_objects`: the fraction of a
# 60 x 45 degree view the object's front face covers, so closeness means the same in both.
_VIEW_AREA = 2.0 * math.tan(math.radians(30.0)) * 2.0 * math.tan(math.radians(22.5))


def apparent_closeness(distance: float, size: Sequence[float]) -> float:
    sx, sy, sz = (float(v) for v in size)
    return round(min(1.0, max(sx, sy) * sz / (max(distance, 0.3) ** 2 * _VIEW_AREA)), 4)


@dataclass(frozen=True)
class NavSupervisorConfig:
    arrival_tolerance_m: float = 0.3  # odometry this close to the goal place == arrived
    localize_max_m: float = 1.5  # farther than this from every place: off the map, stop
    odom_jump_m: float = 0.75  # displacement beyond max_speed x dt that counts as a jump
    max_speed_mps: float = 1.0
    objects_timeout_s: float = 3.0  # an object list older than this is not used
    memory_radius_m: float = 0.5  # objects seen from within this of a place count as seen there
    view_range_m: float = 5.0
    goal_timeout_s: float = 60.0  # a goal not reached in this long: stop ("blocked?")
    match_threshold: float = 0.5  # lexicon match that counts a map label as the landmark
    max_events: int = 8

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if isinstance(value, float) and not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"NavSupervisorConfig.{name} must be finite and > 0")


@dataclass(frozen=True)
class PerceivedThing:
    """One entry of ``/ifagent/objects`` (schemas.PerceivedObject), in base_link."""

    id: str
    label: str
    position: tuple[float, float, float]
    size: tuple[float, float, float] = (0.5, 0.5, 0.5)


@dataclass
class _Remembered:
    label: str
    x: float
    y: float
    size: tuple[float, float, float]
    seen_from: tuple[float, float]
    stamp: float


@dataclass
class NavUpdate:
    """What the node publishes after an input: ``goal`` (x, y, yaw in map) when a new goal
    leaves, ``path`` (list of (x, y, yaw); [] = stop) when it changes, and always a status."""

    status: dict[str, Any]
    goal: tuple[float, float, float] | None = None
    path: list[tuple[float, float, float]] | None = None


class NavSupervisor:
    def __init__(self, known_map: KnownMap, planner: Planner | None = None,
                 config: NavSupervisorConfig | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.map = known_map
        self.planner = planner if planner is not None else make_planner("rule")
        self.config = config or NavSupervisorConfig()
        self.lexicon = Lexicon.default()
        self.parser = InstructionParser(self.lexicon)
        self._clock = clock  # for planning-time figures only
        self.mode = "idle"  # idle | waiting | navigating | stopped | asking | halted
        self.instruction: str | None = None
        self.parsed: ParsedInstruction | None = None
        self.pending: str | None = None  # an instruction waiting for the first odometry
        self.reason = "no instruction yet"
        self.question: str | None = None
        self.subgoal = ""
        self.plan_text = ""
        self.current_place: str | None = None
        self.goal_place: str | None = None
        self.goal: tuple[float, float, float] | None = None
        self.goal_since = 0.0
        self.route: list[str] = []
        self.events: list[str] = []
        self.warnings: list[str] = []
        self.seen_labels: set[str] = set()
        self.plan_ms: list[float] = []
        self.pose: tuple[float, float, float] | None = None
        self.pose_time = 0.0
        self.objects: dict[str, _Remembered] = {}
        self.objects_stamp: float | None = None
        self._now = 0.0

    # ------------------------------------------------------------------ inputs
    def set_instruction(self, text: str, now: float) -> NavUpdate:
        """A new instruction; it replaces any current one (the robot replans from here)."""
        self._now = now
        text = text if isinstance(text, str) else ""
        text = " ".join(text.split())
        if self.mode == "navigating" and self.instruction is not None:
            self._event(f"new instruction replaces '{_short(self.instruction)}': replanning")
        self.warnings = []
        if not text:
            self.instruction = None
            return self._ask("empty instruction: not moving. Say where to go, e.g. 'go to the "
                             "kitchen and stop at the fridge'")
        self.instruction = text
        self.parsed = self.parser.parse(text)
        if self.pose is None:
            self.pending = text
            self.mode = "waiting"
            self.reason = "waiting for /odom before planning"
            return self._update(path=[])
        return self._start(now)

    def on_odometry(self, x: float, y: float, yaw: float, now: float) -> NavUpdate | None:
        """Returns an update when something changed (arrival, a new goal, a stop)."""
        self._now = now
        if not all(math.isfinite(v) for v in (x, y, yaw, now)):
            return self._halt(f"non-finite odometry {x, y, yaw}: stopped")
        last, last_t = self.pose, self.pose_time
        self.pose, self.pose_time = (x, y, yaw), now
        if last is not None:
            moved = math.hypot(x - last[0], y - last[1])
            allowed = self.config.odom_jump_m + self.config.max_speed_mps * max(0.0, now - last_t)
            if moved > allowed:
                if self.mode in ("navigating", "waiting"):
                    return self._halt(f"odometry jumped {moved:.2f} m in {now - last_t:.2f} s: "
                                      "stopped; send the instruction again to go on from here")
                self._event(f"odometry jumped {moved:.2f} m (not moving)")
        if self.pending is not None:
            self.pending = None
            return self._start(now)
        if self.mode != "navigating" or self.goal_place is None:
            return None
        goal = self.map.places[self.goal_place]
        if math.hypot(x - goal.x, y - goal.y) <= self.config.arrival_tolerance_m:
            self.current_place = self.goal_place
            self.route.append(self.goal_place)
            return self._decide(self.planner.act, self._observe(self.goal_place))
        if now - self.goal_since > self.config.goal_timeout_s:
            return self._halt(f"goal {self.goal_place} not reached in "
                              f"{self.config.goal_timeout_s:.0f} s (blocked?): stopped")
        return None

    def on_objects(self, things: Iterable[PerceivedThing], stamp: float, now: float,
                   pose: tuple[float, float, float] | None = None) -> None:
        """An object list (base_link, taken at ``stamp`` from odometry ``pose``, default the
        latest): remembered in the map frame."""
        pose = pose or self.pose
        if pose is None or not math.isfinite(stamp) or not all(math.isfinite(v) for v in pose):
            return
        if now - stamp > self.config.objects_timeout_s:
            self._warn(f"object list {now - stamp:.1f} s old: ignored")
            return
        x, y, yaw = pose
        c, s = math.cos(yaw), math.sin(yaw)
        self.objects_stamp = stamp
        for t in things:
            px, py = float(t.position[0]), float(t.position[1])
            if not (math.isfinite(px) and math.isfinite(py)) or not t.label:
                continue
            wx, wy = x + c * px - s * py, y + s * px + c * py
            size = tuple(float(v) if math.isfinite(v) and v > 0 else 0.3 for v in t.size)
            self.objects[t.id or f"{t.label}@{wx:.1f},{wy:.1f}"] = _Remembered(
                t.label.strip().lower(), wx, wy, size, (x, y), stamp)  # type: ignore[arg-type]
            self.seen_labels.add(t.label.strip().lower())

    def tick(self, now: float) -> NavUpdate | None:
        """Periodic check (goal timeout when odometry stopped coming)."""
        self._now = now
        if self.mode == "navigating" and now - self.goal_since > self.config.goal_timeout_s:
            return self._halt(f"goal {self.goal_place} not reached in "
                              f"{self.config.goal_timeout_s:.0f} s: stopped")
        return None

    # ------------------------------------------------------------------ planning
    def _start(self, now: float) -> NavUpdate:
        assert self.instruction is not None and self.pose is not None
        place, dist = self.map.nearest(self.pose[0], self.pose[1])
        if place is None or dist > self.config.localize_max_m:
            return self._halt(f"robot at ({self.pose[0]:.2f}, {self.pose[1]:.2f}) is "
                              f"{dist:.1f} m from every known place: off the map, not moving")
        parsed = self.parsed or self.parser.parse(self.instruction)
        if parsed.unknown_nouns:
            self._warn("unknown words ignored: " + ", ".join(parsed.unknown_nouns[:6]))
        targets = [g for g in parsed.subgoals if g.target or g.action not in ("stop_at",)]
        if not targets:
            words = ", ".join(f"'{w}'" for w in parsed.unknown_nouns[:4]) or "nothing I know"
            return self._ask(f"I do not know where {words} is: not moving. Name a room or a "
                             "landmark (sofa, fridge, door, ...)")
        self.current_place, self.route = place.id, [place.id]
        self.seen_labels = set()
        problem = self._check_target(parsed, place.id)
        if problem is not None:
            return problem
        obs = self._observe(place.id)
        return self._decide(lambda o: self._reset_then_act(o), obs)

    def _reset_then_act(self, obs: NavObservation) -> NavDecision:
        self.planner.reset(self.instruction or "", obs)
        return self.planner.act(obs)

    def _check_target(self, parsed: ParsedInstruction, here: str) -> NavUpdate | None:
        """Ask when the final landmark is on the map but no route reaches it; warn when the
        map (which knows its landmarks) has none of it."""
        target = parsed.last_landmark
        if target is None or not self.map.has_labels:
            return None
        matches = [p for p in self.map.places.values()
                   if any(self._is(target, lbl) for lbl in p.labels)]
        if not matches:
            self._warn(f"the map has no {target}: exploring; I stop when the instruction is "
                       "used up")
            return None
        reach = self.map.component(here)
        if not any(p.id in reach for p in matches):
            where = ", ".join(sorted({p.room_id or p.id for p in matches})[:3])
            return self._ask(f"the {target} ({where}) is on the map but no route reaches it "
                             "from here (a closed door or a wall is in the way): not moving. "
                             "Open the door or give another goal")
        return None

    def _observe(self, place_id: str) -> NavObservation:
        place = self.map.places[place_id]
        neighbours = tuple(
            Neighbour(n, self.map.places[n].position, heading_to(place.xy, self.map.places[n].xy),
                      d) for n, d in sorted(self.map.adjacency[place_id].items()))
        yaw = self.pose[2] if self.pose is not None else 0.0
        return NavObservation(place_id=place_id, position=place.position,
                              heading=math.atan2(math.cos(yaw), math.sin(yaw)),
                              neighbours=neighbours, objects=self._objects_at(place.xy),
                              room=place.room_type, step=len(self.route) - 1)

    def _objects_at(self, xy: tuple[float, float]) -> tuple[SeenObject, ...]:
        cfg = self.config
        if self.objects_stamp is None or self._now - self.objects_stamp > cfg.objects_timeout_s:
            self._warn("no recent object list: planning from the map and the instruction only")
        out = []
        for oid, o in self.objects.items():
            d = math.hypot(o.x - xy[0], o.y - xy[1])
            if d > cfg.view_range_m or math.dist(o.seen_from, xy) > cfg.memory_radius_m:
                continue
            out.append((d, SeenObject(o.label, heading_to(xy, (o.x, o.y)),
                                      apparent_closeness(d, o.size), oid)))
        return tuple(s for _, s in sorted(out, key=lambda t: t[0]))

    def _decide(self, act: Callable[[NavObservation], NavDecision],
                obs: NavObservation) -> NavUpdate:
        t0 = self._clock()
        try:
            decision = act(obs)
        except Exception as err:  # noqa: BLE001 - a planner bug must not leave the robot driving
            return self._halt(f"planner failed ({type(err).__name__}: {err}): stopped")
        self.plan_ms.append((self._clock() - t0) * 1e3)
        self.subgoal = decision.subgoal
        plan = decision.extras.get("plan") if decision.extras else None
        self.plan_text = str(plan) if plan else ""
        if decision.action == "stop":
            return self._stopped(decision.reason or "planner stopped")
        here = obs.place_id
        target = decision.target
        if target not in self.map.adjacency.get(here, {}):
            return self._halt(f"planner chose {target!r}, not a neighbour of {here}: stopped")
        return self._go(here, target, decision.reason)

    def _go(self, here: str, target: str, why: str) -> NavUpdate:
        a, b = self.map.places[here], self.map.places[target]
        yaw = math.atan2(b.y - a.y, b.x - a.x)
        goal = self._checked((b.x, b.y, yaw), target)
        path = [self._checked((a.x, a.y, yaw), here), goal]
        if goal is None or None in path:
            return self._halt(f"refused goal at {target}: not finite or off the known map")
        self.goal_place, self.goal, self.goal_since = target, goal, self._now
        self.mode, self.question = "navigating", None
        self.reason = f"going to {target}: {why}" if why else f"going to {target}"
        return self._update(goal=goal, path=path)  # type: ignore[arg-type]

    def _checked(self, pose: tuple[float, float, float],
                 place_id: str) -> tuple[float, float, float] | None:
        """The last gate before a pose leaves: finite, a known place, inside the known map."""
        if not all(math.isfinite(v) for v in pose) or place_id not in self.map.places:
            return None
        if not self.map.contains(pose[0], pose[1]):
            return None
        return (float(pose[0]), float(pose[1]), float(pose[2]))

    def _is(self, term: str, label: str) -> bool:
        """Does an object/room ``label`` show the instruction's ``term`` (a canonical name)?"""
        terms = self.lexicon.find_terms(label)
        if len(terms) == 1 and terms[0][2] == term:
            return True
        return self.lexicon.match(term, label) >= self.config.match_threshold

    # ------------------------------------------------------------------ outcomes
    def _stopped(self, reason: str) -> NavUpdate:
        target = self.parsed.last_landmark if self.parsed else None
        if target and "never seen" not in reason and not any(
                self._is(target, lbl) for lbl in self.seen_labels):
            reason += f" (the {target} was never seen)"
        self.mode, self.goal_place, self.goal, self.question = "stopped", None, None, None
        self.reason = reason
        return self._update(path=[])

    def _halt(self, reason: str) -> NavUpdate:
        self.mode, self.goal_place, self.goal, self.pending = "halted", None, None, None
        self.reason, self.question = reason, None
        self._event(reason)
        return self._update(path=[])

    def _ask(self, question: str) -> NavUpdate:
        self.mode, self.goal_place, self.goal, self.pending = "asking", None, None, None
        self.reason = self.question = question
        return self._update(path=[])

    def _event(self, text: str) -> None:
        self.events = [*self.events, text][-self.config.max_events:]

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def _update(self, goal: tuple[float, float, float] | None = None,
                path: list[tuple[float, float, float]] | None = None) -> NavUpdate:
        return NavUpdate(self.status(), goal=goal, path=path)

    def status(self) -> dict[str, Any]:
        """The fields of ``schemas.NavStatus`` (without stamp/version)."""
        return {
            "mode": self.mode, "instruction": self.instruction, "subgoal": self.subgoal or None,
            "plan": self.plan_text or None, "current_place": self.current_place,
            "goal_place": self.goal_place, "goal": self.goal, "reason": self.reason,
            "question": self.question, "events": list(self.events),
            "warnings": list(self.warnings),
            "unknown_words": list(self.parsed.unknown_nouns) if self.parsed else [],
            "subgoals": ([g.describe() for g in self.parsed.subgoals] if self.parsed else []),
            "route": list(self.route), "map_summary": self.map_summary(),
            "planner": str(getattr(self.planner, "name", type(self.planner).__name__)),
            "plan_ms": self.plan_ms[-1] if self.plan_ms else None,
        }

    def map_summary(self) -> str:
        topo = getattr(self.planner, "map", None)
        seen = len(topo) if topo is not None and hasattr(topo, "__len__") else 0
        room = (self.map.places[self.current_place].room_type
                if self.current_place in self.map.places else None)
        return (f"{len(self.map.places)} known places, {len(set(self.route))} visited, "
                f"{seen} in the planner's map; at {self.current_place or '?'}"
                + (f" ({room})" if room else ""))


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."
