"""What a scenario needs from the world files (tabletop scenes, houses), as an interface.

``core/campaign`` does not import the simulator: a scenario checks that its scene and house
files load, and a VLN scenario samples each episode's route in a house, through a
:class:`WorldFiles` that its caller passes to
:func:`~ifagent_ros.core.campaign.scenario.load_scenario`. Without one it gets
:func:`default_worlds`: the implementation over the simulator's readers in
:data:`DEFAULT_PROVIDER` (``ifagent_ros/campaign_worlds.py``), imported only then.
ROS-free.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable

__all__ = ["DEFAULT_PROVIDER", "HouseEpisode", "WorldFiles", "default_worlds"]

DEFAULT_PROVIDER = "ifagent_ros.campaign_worlds"

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


def default_worlds() -> WorldFiles:
    """The simulator's world files (:data:`DEFAULT_PROVIDER`'s ``WORLDS``)."""
    return importlib.import_module(DEFAULT_PROVIDER).WORLDS
