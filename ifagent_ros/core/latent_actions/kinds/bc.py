"""BC: open-loop language-conditioned behaviour cloning, the baseline (task demos only). The
policy drives while the stick is pushed; loss: action MSE + ``gripper_weight`` * gripper BCE;
held-out figure: gripper accuracy.

BC does not read the state features that stay (nearly) constant in its demos: their spread is
below ``models.STD_FLOOR`` (the gripper's six orientation features: the scripted expert holds the
gripper pointing down to ~1 mrad). What little they vary is the executor's tracking wobble, a
trace of the action being executed, and a policy that reads it copies its own last action
(copycat): the first shipped BC weighted them 3-10x more than any other input, a 1 degree tilt
(what its own small angular errors make within a second) flipped its vertical command from
-0.74 to +0.63, the tilt grew, and the arm ran into the workspace limits. :class:`QuietBlindNorm`
divides those features by :data:`IGNORED_STD` instead, so they reach the network as zero (a
checkpoint keeps the usual ``state_norm`` keys; the run time folds ``1 / std`` into the first
layer as for any model).

That alone does not make BC succeed (retrained on the full ``ifagent collect`` set: still 0 of 10
episodes, the arm no longer pinned at a limit): on these demos (one start pose, objects jittered
by 5 cm) a BC blind to every object reaches nearly the same held-out error (MSE 0.0033 against
0.0029), so the demos do not teach it to steer to the object; it replays the average path and
misses the block by ~5 cm. Recovery demos and wider placements (issue 17, item 2) are for that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ifagent_ros.core.latent_actions.kinds.base import Batch, ModelKind, StepOut
from ifagent_ros.core.latent_actions.models import STD_FLOOR, ArchConfig, LanguageBC, StateNorm
from ifagent_ros.core.latent_actions.runtime import PolicyModel

# The std a quiet feature is divided by: a run-time deviation of a whole unit (a 90 degree tilt)
# moves the normalized input by 1e-6.
IGNORED_STD = 1e6


class QuietBlindNorm(StateNorm):
    """:class:`StateNorm` that also blinds the features whose training spread is below
    ``STD_FLOOR`` (their std becomes :data:`IGNORED_STD`)."""

    def fit(self, states: torch.Tensor) -> None:
        super().fit(states)
        quiet = states.std(0) < STD_FLOOR
        self.std.copy_(torch.where(quiet, torch.full_like(self.std, IGNORED_STD), self.std))


def quiet_features(std: np.ndarray) -> np.ndarray:
    """Indices of the state features a fitted BC ignores."""
    return np.flatnonzero(np.asarray(std) >= IGNORED_STD)


class BC(ModelKind):
    name = "bc"
    interface = "policy"
    runtime = PolicyModel

    def build(self, arch: ArchConfig) -> LanguageBC:
        model = LanguageBC(arch)
        model.state_norm = QuietBlindNorm(arch.state_dim)
        return model

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
