"""What a model kind is: :class:`ModelKind`, the one place that knows a kind.

A kind (``lilac``, ``lila``, ``bc``, ...) is a subclass of :class:`ModelKind` in its own module
under ``kinds/`` plus one entry in :data:`kinds.MODEL_KINDS`. It says:

* ``name``: the string checkpoints store in ``arch.kind`` and ``ifagent train --model`` takes;
* ``interface``: what the stick does, ``latent`` or ``policy`` (the words of ``conditions.py``);
* ``language``: whether the model reads the utterance (a language-blind model trains without
  rephrasing: one text per demo);
* ``demo_kinds``: which demonstrations it trains on (``task``, ``correction``);
* ``runtime``: its numpy run-time class (:class:`runtime.LoadedModel` subclass), what
  :func:`checkpoint.load_model` builds and the controller calls ``action()`` on;
* :meth:`build`: the torch module for an :class:`models.ArchConfig` (it must have a
  ``state_norm``: :class:`models.StateNorm`, fitted on the training states);
* :meth:`loss`: the training loss on a :class:`Batch` and the predicted normalized action;
* :meth:`heldout_arrays` / :meth:`heldout_figures`: its own held-out figures (optional).

Training (``training.py``), model files (``checkpoint.py``) and the run-time classes never
test a kind's name: they ask its :class:`ModelKind`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ifagent_ros.core.latent_actions.interface import ModelInterface

if TYPE_CHECKING:
    import torch
    from torch import nn

    from ifagent_ros.core.latent_actions.models import ArchConfig
    from ifagent_ros.core.latent_actions.runtime import LoadedModel
    from ifagent_ros.core.latent_actions.training import TrainConfig


@dataclass
class Batch:
    """One minibatch of training steps (on the training device)."""

    states: torch.Tensor  # (B, state_dim)
    lang: torch.Tensor  # (B, lang_dim) sentence embeddings of the paired texts
    alpha: torch.Tensor  # (B,) LILAC's gate label of the paired text
    actions: torch.Tensor  # (B, 6) normalized demonstrated actions
    gripper: torch.Tensor  # (B,) 1 = gripper closing


@dataclass
class StepOut:
    loss: torch.Tensor  # scalar
    action: torch.Tensor  # (B, 6) the model's normalized action (held-out MSE and cosine)
    extra: Any = None  # what the kind's heldout_arrays() reads (a basis, a gripper logit)


class ModelKind:
    """One kind of shared-autonomy model; subclass it in ``kinds/<name>.py``."""

    name: ClassVar[str]
    interface: ClassVar[ModelInterface]
    runtime: ClassVar[type[LoadedModel]]
    language: ClassVar[bool] = True
    demo_kinds: ClassVar[tuple[str, ...]] = ("task",)

    def build(self, arch: ArchConfig) -> nn.Module:
        raise NotImplementedError(f"model kind {self.name!r} has no build()")

    def loss(self, model: nn.Module, batch: Batch, cfg: TrainConfig) -> StepOut:
        raise NotImplementedError(f"model kind {self.name!r} has no loss()")

    def heldout_arrays(self, model: nn.Module, batch: Batch, out: StepOut) -> dict[str, np.ndarray]:
        """Per held-out batch: arrays :meth:`heldout_figures` needs (concatenated over batches)."""
        return {}

    def heldout_figures(
        self, arrays: dict[str, np.ndarray], actions: np.ndarray, gripper: np.ndarray
    ) -> dict[str, Any]:
        """Figures added to the held-out metrics (and the model card) after the common ones."""
        return {}

    def __repr__(self) -> str:
        return f"<model kind {self.name} ({self.interface})>"


def cosine(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean cosine similarity over the steps whose true action is not ~zero."""
    norms = np.linalg.norm(true, axis=1)
    keep = norms > 1e-3
    if not np.any(keep):
        return float("nan")
    p, t = pred[keep], true[keep]
    cos = (p * t).sum(1) / np.maximum(np.linalg.norm(p, axis=1) * norms[keep], 1e-12)
    return float(cos.mean())


__all__ = ["Batch", "ModelKind", "StepOut", "cosine"]
