"""What a scenario needs from the world files (tabletop scenes, houses), as an interface.

A scenario checks that its scene and house files load, and a VLN scenario samples each
episode's route in a house, through a :class:`WorldFiles` that its caller may pass to
:func:`~ifagent_ros.core.campaign.scenario.load_scenario` (a test passes a fake one). Without one
it gets :data:`WORLDS`, the readers of :mod:`ifagent_ros.core.worlds` (data only: no physics,
no simulator). ROS-free.
"""

from __future__ import annotations

import functools
import random
from typing import Any, Protocol, runtime_checkable

from ifagent_ros.core.worlds.house import heading_to_yaw, load_house
from ifagent_ros.core.worlds.house_episodes import episode_for
from ifagent_ros.core.worlds.scene import load_scene

__all__ = ["WORLDS", "FileWorlds", "HouseEpisode", "WorldFiles", "default_worlds"]

# One VLN episode in a house, as task.episode holds it: {"house": name, "episode_id",
# "instruction", "start": [x, y, yaw], "goal": [x, y], "shortest_path_m"}.
HouseEpisode = dict[str, Any]


@runtime_checkable
class WorldFiles(Protocol):
    def check_scene(self, path: str) -> None:
        """Raise (with the reader's message) if the tabletop scene file does not load."""

    def check_house(self, path: str) -> None:
        """Raise (with the reader's message) if the house file does not load."""

    def house_episode(self, path: str, scene_seed: int) -> HouseEpisode | None:
        """The episode the house gives for ``scene_seed`` (the same one every time), or None
        when it gives none."""


@functools.lru_cache(maxsize=16)
def _house(path: str) -> Any:  # parsing a house is the slow part of expanding a VLN scenario
    return load_house(path)


class FileWorlds:
    """:class:`WorldFiles` over the scene and house files (core/worlds readers)."""

    def check_scene(self, path: str) -> None:
        load_scene(path)

    def check_house(self, path: str) -> None:
        load_house(path)

    def house_episode(self, path: str, scene_seed: int) -> HouseEpisode | None:
        house = _house(path)
        ep = episode_for(house, random.Random(scene_seed), f"{house.name}_{scene_seed}")
        if ep is None:
            return None
        g = house.graph
        start, goal = g.places[ep.start], g.places[ep.goal]
        return {"house": house.name, "episode_id": ep.episode_id, "instruction": ep.instruction,
                "start": [round(float(v), 4)
                          for v in (start.x, start.y, heading_to_yaw(ep.heading))],
                "goal": [round(float(goal.x), 4), round(float(goal.y), 4)],
                "shortest_path_m": float(ep.distance)}


WORLDS = FileWorlds()


def default_worlds() -> WorldFiles:
    """The world files a scenario uses when its caller passes none: :data:`WORLDS`."""
    return WORLDS
