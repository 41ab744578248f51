"""BC: open-loop language-conditioned behaviour cloning, the baseline (task demos only). The
policy drives while the stick is pushed; loss: action MSE + ``gripper_weight`` * gripper BCE;
held-out figure: gripper accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch.nn.functional as F

from ifagent_ros.core.latent_actions.kinds.base import Batch, ModelKind, StepOut
from ifagent_ros.core.latent_actions.models import ArchConfig, LanguageBC
from ifagent_ros.core.latent_actions.runtime import PolicyModel


class BC(ModelKind):
    name = "bc"
    interface = "policy"
    runtime = PolicyModel

    def build(self, arch: ArchConfig) -> LanguageBC:
        return LanguageBC(arch)

    def loss(self, model: Any, batch: Batch, cfg: Any) -> StepOut:
        pred, logit = model(batch.states, batch.lang)
        loss = F.mse_loss(pred, batch.actions) + cfg.gripper_weight * (
            F.binary_cross_entropy_with_logits(logit, batch.gripper)
        )
        return StepOut(loss, pred, logit)

    def heldout_arrays(self, model: Any, batch: Batch, out: StepOut) -> dict[str, np.ndarray]:
        return {"logit": out.extra.cpu().numpy()}

    def heldout_figures(
        self, arrays: dict[str, np.ndarray], actions: np.ndarray, gripper: np.ndarray
    ) -> dict[str, Any]:
        return {"gripper_accuracy": float(np.mean((arrays["logit"] > 0) == (gripper > 0.5)))}


KIND = BC()
