"""A :class:`~ifagent_ros.core.vln.types.NavEnv` over a house's navigation graph.

The same contract as the R2R graph environment (:mod:`ifagent_ros.core.vln.r2r_env`), so any
planner runs here exactly as on R2R: the agent starts at the episode's first place facing its
heading, sees the neighbouring places (heading, distance) and the landmarks in sight with their
headings (:meth:`ifagent_ros.sim.house.House.seen_objects`: furniture, doors, and the rooms seen
through open doors), moves along edges (its heading becomes the edge's direction) and stops.
``room`` in the observation is the type of the room the place stands in.

    env = HouseNavEnv(houses)
    result = run_episode(env, planner, episode)     # trajectory + metrics + planning times
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ifagent_ros.core.vln.graph_walk import GraphWalk
from ifagent_ros.core.vln.types import NavDecision, NavObservation, Neighbour, Planner, heading_to
from ifagent_ros.sim.house import House
from ifagent_ros.sim.house_episodes import HouseEpisode


@dataclass(frozen=True)
class HouseEnvConfig:
    max_steps: int = 30  # moves per episode (house paths are longer in places than R2R's)
    view_range: float = 5.0  # metres: landmarks further away are not reported


class HouseNavEnv:
    def __init__(self, houses: House | Sequence[House] | Mapping[str, House],
                 config: HouseEnvConfig | None = None) -> None:
        if isinstance(houses, House):
            houses = [houses]
        self.houses: dict[str, House] = (dict(houses) if isinstance(houses, Mapping)
                                         else {h.name: h for h in houses})
        self.config = config or HouseEnvConfig()
        self._house: House | None = None
        self._walk = GraphWalk(self.config.max_steps)

    @property
    def house(self) -> House:
        if self._house is None:
            raise RuntimeError("reset() an episode first")
        return self._house

    def reset(self, episode: HouseEpisode) -> NavObservation:  # type: ignore[override]
        if episode.house not in self.houses:
            raise KeyError(f"episode {episode.episode_id}: unknown house {episode.house!r} "
                           f"(have {sorted(self.houses)})")
        house = self.houses[episode.house]
        if not episode.path or episode.path[0] not in house.graph.places:
            raise ValueError(f"episode {episode.episode_id}: start place not in {house.name}")
        self._house = house
        self._walk.start(episode.path[0], episode.heading)
        return self.observe()

    def step(self, decision: NavDecision) -> NavObservation:
        g = self.house.graph
        here = self._walk.here
        self._walk.apply(decision, g.adjacency[here],
                         lambda target: heading_to(g.places[here].xy, g.places[target].xy),
                         detail=f" (neighbours: {sorted(g.adjacency[here])})")
        return self.observe()

    def observe(self) -> NavObservation:
        house = self.house
        g = house.graph
        place = g.places[self._walk.here]
        neighbours = tuple(
            Neighbour(place_id=n, position=g.places[n].position,
                      heading=heading_to(place.xy, g.places[n].xy), distance=d)
            for n, d in sorted(g.adjacency[place.id].items()))
        return NavObservation(place_id=place.id, position=place.position,
                              heading=self._walk.heading,
                              neighbours=neighbours,
                              objects=house.seen_objects(place.xy, self.config.view_range),
                              room=house.rooms[place.room].type, step=self._walk.steps)

    @property
    def done(self) -> bool:
        return self._walk.done

    @property
    def stop_reason(self) -> str:
        return self._walk.stop_reason

    @property
    def trajectory(self) -> list[str]:
        return list(self._walk.trajectory)


@dataclass
class EpisodeResult:
    episode_id: str
    house: str
    trajectory: list[str]
    metrics: dict[str, float]
    stop_reason: str
    step_ms: list[float] = field(default_factory=list)  # planner time per decision


def run_episode(env: HouseNavEnv, planner: Planner, episode: HouseEpisode) -> EpisodeResult:
    """Reset, let the planner act until the episode ends, and score it (core.vln.metrics)."""
    from ifagent_ros.core.vln.metrics import episode_metrics

    obs = env.reset(episode)
    times: list[float] = []
    t0 = time.perf_counter()
    planner.reset(episode.instruction, obs)
    times.append((time.perf_counter() - t0) * 1e3)
    while not env.done:
        t0 = time.perf_counter()
        decision = planner.act(obs)
        times.append((time.perf_counter() - t0) * 1e3)
        obs = env.step(decision)
    metrics = episode_metrics(env.trajectory, episode.path, env.house.graph.distances)
    return EpisodeResult(episode.episode_id, episode.house, env.trajectory, metrics,
                         env.stop_reason, times)


def evaluate(env: HouseNavEnv, planner: Planner,
             episodes: Sequence[HouseEpisode]) -> tuple[list[EpisodeResult], dict[str, float]]:
    """Run every episode; the summary holds core.vln.metrics.aggregate's figures and the
    planning time per decision (``plan_p50_ms``, ``plan_p99_ms``)."""
    import numpy as np

    from ifagent_ros.core.vln.metrics import aggregate

    results = [run_episode(env, planner, ep) for ep in episodes]
    summary = aggregate([r.metrics for r in results])
    step_ms = [t for r in results for t in r.step_ms]
    summary["plan_p50_ms"] = float(np.percentile(step_ms, 50))
    summary["plan_p99_ms"] = float(np.percentile(step_ms, 99))
    return results, summary
