"""The campaign's world files over the simulator's readers: the default
:class:`~ifagent_ros.core.campaign.worlds.WorldFiles` of a scenario (``core/campaign`` reaches
it only through :func:`~ifagent_ros.core.campaign.worlds.default_worlds`).

ROS-free; house and scene readers only (no physics).
"""

from __future__ import annotations

import functools
import random
from typing import Any

from ifagent_ros.core.campaign.worlds import HouseEpisode

__all__ = ["WORLDS", "SimWorldFiles"]


@functools.lru_cache(maxsize=16)
def _house(path: str) -> Any:  # parsing a house is the slow part of expanding a VLN scenario
    from ifagent_ros.core.worlds.house import load_house

    return load_house(path)


class SimWorldFiles:
    def check_scene(self, path: str) -> None:
        from ifagent_ros.core.worlds.scene import load_scene

        load_scene(path)

    def check_house(self, path: str) -> None:
        from ifagent_ros.core.worlds.house import load_house

        load_house(path)

    def house_episode(self, path: str, scene_seed: int) -> HouseEpisode | None:
        from ifagent_ros.core.worlds.house import heading_to_yaw
        from ifagent_ros.core.worlds.house_episodes import episode_for

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


WORLDS = SimWorldFiles()
