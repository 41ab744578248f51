"""What the latent-action kinds (LILAC, LILA) share: the network, the reconstruction loss and
the best-stick held-out figures. Not a kind itself; ``lilac.py`` and ``lila.py`` are."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ifagent_ros.core.latent_actions.interface import ModelInterface
from ifagent_ros.core.latent_actions.kinds.base import Batch, ModelKind, StepOut, cosine
from ifagent_ros.core.latent_actions.models import ArchConfig, LatentActionModel
from ifagent_ros.core.latent_actions.runtime import LatentModel, LoadedModel


class LatentKind(ModelKind):
    """The stick moves along a learned, language-conditioned 2-D basis; ``gated``: LILAC's
    alpha gate (the trainer passes each text's alpha label to the model)."""

    interface: ClassVar[ModelInterface] = "latent"
    runtime: ClassVar[type[LoadedModel]] = LatentModel
    gated: ClassVar[bool] = False

    def build(self, arch: ArchConfig) -> LatentActionModel:
        return LatentActionModel(arch, gated=self.gated)

    def loss(self, model: Any, batch: Batch, cfg: Any) -> StepOut:
        alpha = batch.alpha if self.gated else None
        recon, z, basis = model(batch.states, batch.lang, alpha, batch.actions)
        return StepOut(F.mse_loss(recon, batch.actions), recon, (z, basis))

    def heldout_arrays(self, model: Any, batch: Batch, out: StepOut) -> dict[str, np.ndarray]:
        """The best stick ``z* = clip(B a, -1, 1)`` (the exact least-squares z in the box, B's
        rows being orthonormal) and its action."""
        basis = out.extra[1]
        z = torch.clamp(torch.einsum("bkd,bd->bk", basis, batch.actions), -1.0, 1.0)
        return {"best": model.decode(basis, z).cpu().numpy()}

    def heldout_figures(
        self, arrays: dict[str, np.ndarray], actions: np.ndarray, gripper: np.ndarray
    ) -> dict[str, Any]:
        best = arrays["best"]
        return {
            "best_z_mse": float(np.mean((best - actions) ** 2)),
            "best_z_cosine": cosine(best, actions),
        }


__all__ = ["LatentKind"]
