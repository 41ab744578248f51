"""What every graph environment (R2R scans, simulated houses) shares: the episode bookkeeping
(:class:`GraphWalk`: where the agent is, its heading, the places visited, why the episode ended)
and the environment over a place graph (:class:`GraphNavEnv`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from ifagent_ros.core.vln.types import (
    NavDecision,
    NavObservation,
    Neighbour,
    SeenObject,
    heading_to,
)

G = TypeVar("G")


class GraphWalk:
    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.trajectory: list[str] = []
        self.heading = 0.0
        self.done = True
        self.stop_reason = ""

    @property
    def here(self) -> str:
        return self.trajectory[-1]

    @property
    def steps(self) -> int:
        return len(self.trajectory) - 1

    def start(self, place: str, heading: float) -> None:
        self.trajectory = [place]
        self.heading = float(heading)
        self.done = False
        self.stop_reason = ""

    def apply(self, decision: NavDecision, adjacency: Mapping[str, object],
              heading_to_target: Callable[[str], float], detail: str = "") -> None:
        """Stop, or move along an edge to a neighbour; ValueError for anything else."""
        if self.done:
            raise RuntimeError("episode is over; reset() first")
        if decision.action == "stop":
            self.done = True
            self.stop_reason = decision.reason or "planner stopped"
            return
        if decision.action != "move" or decision.target not in adjacency:
            raise ValueError(f"{decision.action} {decision.target!r} is not a move to a "
                             f"neighbour of {self.here}{detail}")
        self.heading = heading_to_target(decision.target)
        self.trajectory.append(decision.target)
        if self.steps >= self.max_steps:
            self.done = True
            self.stop_reason = f"step limit ({self.max_steps})"


class GraphNavEnv(ABC, Generic[G]):
    """A :class:`~ifagent_ros.core.vln.types.NavEnv` over a place graph (an R2R scan, a house):
    the agent starts at the episode's first place facing its heading, sees the neighbouring
    places (heading, distance) and what is in sight, moves along edges (its heading becomes the
    edge's direction) and stops.

    A subclass says which graph an episode walks (:meth:`_enter`) and what the graph holds:
    place positions, edges, the objects seen and the room at a place, shortest distances.
    """

    def __init__(self, max_steps: int) -> None:
        self._walk = GraphWalk(max_steps)
        self._graph: G | None = None

    # ---- what a subclass provides
    @abstractmethod
    def _enter(self, episode: Any) -> G:
        """The graph ``episode`` walks; raise (ValueError) when its start is not on it."""

    @abstractmethod
    def _position(self, place_id: str) -> tuple[float, float, float]: ...

    @abstractmethod
    def _edges(self, place_id: str) -> Mapping[str, float]:
        """Neighbour place id -> metres along the edge."""

    @abstractmethod
    def _objects(self, place_id: str) -> tuple[SeenObject, ...]: ...

    def _room(self, place_id: str) -> str | None:
        return None

    @property
    @abstractmethod
    def distances(self) -> Mapping[str, Mapping[str, float]]:
        """All-pairs shortest-path metres of the current graph (what core.vln.metrics takes)."""

    # ---- the contract
    def _current(self) -> G:
        if self._graph is None:
            raise RuntimeError("reset() an episode first")
        return self._graph

    def reset(self, episode: Any) -> NavObservation:
        self._graph = self._enter(episode)
        self._walk.start(episode.path[0], episode.heading)
        return self.observe()

    def step(self, decision: NavDecision) -> NavObservation:
        here = self._walk.here
        edges = self._edges(here)
        self._walk.apply(decision, edges,
                         lambda target: heading_to(self._position(here), self._position(target)),
                         detail=f" (neighbours: {sorted(edges)})")
        return self.observe()

    def observe(self) -> NavObservation:
        self._current()
        here = self._walk.here
        pos = self._position(here)
        neighbours = tuple(
            Neighbour(place_id=n, position=self._position(n),
                      heading=heading_to(pos, self._position(n)), distance=d)
            for n, d in sorted(self._edges(here).items()))
        return NavObservation(place_id=here, position=pos, heading=self._walk.heading,
                              neighbours=neighbours, objects=self._objects(here),
                              room=self._room(here), step=self._walk.steps)

    @property
    def done(self) -> bool:
        return self._walk.done

    @property
    def stop_reason(self) -> str:
        return self._walk.stop_reason

    @property
    def trajectory(self) -> list[str]:
        return list(self._walk.trajectory)
