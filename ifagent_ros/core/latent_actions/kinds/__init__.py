"""The model kinds: one module per kind, found through :data:`MODEL_KINDS`.

A new kind of action model is one module here (a :class:`ModelKind` subclass: its torch
module, loss, run-time class, interface, whether it reads language, which demos it trains on)
plus one entry in :data:`MODEL_KINDS`. Training, model files and the controller then take it
by name: ``ifagent train --model <name>``, ``arch.kind`` in a checkpoint, ``model.action()``.
"""

from __future__ import annotations

from ifagent_ros.core.latent_actions.kinds import bc, lila, lilac
from ifagent_ros.core.latent_actions.kinds.base import Batch, ModelKind, StepOut
from ifagent_ros.core.registry import lookup

# the registry: name -> kind (a new kind: its module above and one entry here)
MODEL_KINDS: dict[str, ModelKind] = {k.name: k for k in (lilac.KIND, lila.KIND, bc.KIND)}


class UnknownModelKind(ValueError):
    """A kind name that :data:`MODEL_KINDS` does not hold."""


def get_model_kind(name: str) -> ModelKind:
    """The kind called ``name``; :class:`UnknownModelKind` (a ValueError) naming the known."""
    return lookup(MODEL_KINDS, name, "model kind", error=UnknownModelKind)


__all__ = ["MODEL_KINDS", "Batch", "ModelKind", "StepOut", "UnknownModelKind", "get_model_kind"]
