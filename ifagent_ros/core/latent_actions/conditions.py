"""The conditions of the shared-autonomy comparison: the one table every reader shares.

A condition is what the person drives and with what help:

* ``interface``: ``teleop`` (the mode-switching end-effector teleop, teleop_node), ``policy``
  (a BC policy drives while the stick is pushed) or ``latent`` (the stick moves through a
  learned, language-conditioned basis: LILA / LILAC);
* ``model_file``: the checkpoint file name inside the models folder, or None (no model);
* ``speaks``: whether the (simulated) person says corrections while driving.

Read by the in-process evaluation (``bench/shared_autonomy.py``), the simulated user node
(``nodes/sim_user_node.py``) and the campaign scenarios (``core/campaign``). A new condition is
one line in :data:`CONDITIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ifagent_ros.core.registry import lookup

Interface = Literal["latent", "teleop", "policy"]
INTERFACES: tuple[Interface, ...] = ("latent", "teleop", "policy")


@dataclass(frozen=True)
class Condition:
    name: str
    interface: Interface
    model_file: str | None  # checkpoint file name inside the models folder; None: no model
    speaks: bool  # the person says corrections

    def __post_init__(self) -> None:
        if self.interface not in INTERFACES:
            raise ValueError(f"condition {self.name!r}: interface must be one of "
                             f"{INTERFACES}, got {self.interface!r}")
        if (self.model_file is None) != (self.interface == "teleop"):
            raise ValueError(f"condition {self.name!r}: the {self.interface} interface "
                             f"{'takes no' if self.interface == 'teleop' else 'needs a'} model")


CONDITIONS: dict[str, Condition] = {c.name: c for c in (
    Condition("teleop", "teleop", None, speaks=False),
    Condition("bc", "policy", "bc.pt", speaks=False),
    Condition("lila", "latent", "lila.pt", speaks=False),
    Condition("lilac", "latent", "lilac.pt", speaks=True),
)}


def get_condition(name: str) -> Condition:
    """The condition called ``name``; ValueError naming the known ones otherwise."""
    return lookup(CONDITIONS, name, "condition")


__all__ = ["CONDITIONS", "INTERFACES", "Condition", "Interface", "get_condition"]
