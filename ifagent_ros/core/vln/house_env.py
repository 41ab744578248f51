"""A :class:`~ifagent_ros.core.vln.types.NavEnv` over a house's navigation graph.

The same contract as the R2R graph environment (:mod:`ifagent_ros.core.vln.r2r_env`; both are
:class:`~ifagent_ros.core.vln.graph_walk.GraphNavEnv`), so any planner runs here exactly as on
R2R: the agent starts at the episode's first place facing its heading, sees the neighbouring
places (heading, distance) and the landmarks in sight with their headings
(:meth:`ifagent_ros.core.worlds.house.House.seen_objects`: furniture, doors, and the rooms seen
through
open doors), moves along edges (its heading becomes the edge's direction) and stops. ``room`` in
the observation is the type of the room the place stands in.

    env = HouseNavEnv(houses)
    result = core.vln.evaluate.run_episode(env, planner, episode)   # trajectory + metrics
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ifagent_ros.core.vln.graph_walk import GraphNavEnv
from ifagent_ros.core.vln.types import SeenObject
from ifagent_ros.core.worlds.house import House
from ifagent_ros.core.worlds.house_episodes import HouseEpisode


@dataclass(frozen=True)
class HouseEnvConfig:
    max_steps: int = 30  # moves per episode (house paths are longer in places than R2R's)
    view_range: float = 5.0  # metres: landmarks further away are not reported


class HouseNavEnv(GraphNavEnv[House]):
    def __init__(self, houses: House | Sequence[House] | Mapping[str, House],
                 config: HouseEnvConfig | None = None) -> None:
        if isinstance(houses, House):
            houses = [houses]
        self.houses: dict[str, House] = (dict(houses) if isinstance(houses, Mapping)
                                         else {h.name: h for h in houses})
        self.config = config or HouseEnvConfig()
        super().__init__(self.config.max_steps)

    @property
    def house(self) -> House:
        return self._current()

    def _enter(self, episode: HouseEpisode) -> House:
        if episode.house not in self.houses:
            raise KeyError(f"episode {episode.episode_id}: unknown house {episode.house!r} "
                           f"(have {sorted(self.houses)})")
        house = self.houses[episode.house]
        if not episode.path or episode.path[0] not in house.graph.places:
            raise ValueError(f"episode {episode.episode_id}: start place not in {house.name}")
        return house

    def _position(self, place_id: str) -> tuple[float, float, float]:
        return self.house.graph.places[place_id].position

    def _edges(self, place_id: str) -> dict[str, float]:
        return self.house.graph.adjacency[place_id]

    def _objects(self, place_id: str) -> tuple[SeenObject, ...]:
        return self.house.seen_objects(self.house.graph.places[place_id].xy,
                                       self.config.view_range)

    def _room(self, place_id: str) -> str | None:
        return self.house.rooms[self.house.graph.places[place_id].room].type

    @property
    def distances(self) -> dict[str, dict[str, float]]:
        return self.house.graph.distances
