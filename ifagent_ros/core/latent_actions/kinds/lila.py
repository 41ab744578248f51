"""LILA (CoRL 2021): the latent-action model without the gate, on task demos only; its loss adds
``zero_stick_weight`` times the zero-stick term ``|decode(s, l, z=0)|^2`` (zero by construction
with the decoder ``z @ B``; computed and reported all the same)."""

from __future__ import annotations

from typing import Any

import torch

from ifagent_ros.core.latent_actions.kinds.base import Batch, StepOut
from ifagent_ros.core.latent_actions.kinds.latent import LatentKind


class Lila(LatentKind):
    name = "lila"

    def loss(self, model: Any, batch: Batch, cfg: Any) -> StepOut:
        out = super().loss(model, batch, cfg)
        z, basis = out.extra
        zero = model.decode(basis, torch.zeros_like(z))
        out.loss = out.loss + cfg.zero_stick_weight * (zero * zero).sum(-1).mean()
        return out


KIND = Lila()
