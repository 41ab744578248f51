"""The torch models: LILAC, LILA and language-conditioned behaviour cloning.

LILAC (Cui, Karamcheti et al., HRI 2023; after Stanford-ILIAD/lilac ``models/lilac.py``):

* state ``s`` -> standardization (train-set mean/std; an eval-mode BatchNorm in the original)
  -> MLP ``Linear-GELU-Linear`` -> unit vector ``h_s``;
* alpha gate: ``h = alpha * h_s + unit(h_nc)`` with a learned no-context vector ``h_nc``, so at
  alpha = 0 ("left") the features, hence the basis, do not depend on the state at all;
* FiLM from the language embedding ``l``: ``f = GELU(W l)``, ``h' = (1 + gamma(f)) * h + beta(f)``
  (the ``1 +`` starts training at the identity modulation);
* basis head ``Linear-GELU-Linear`` -> two 6-D vectors -> :func:`gram_schmidt` -> B (2, 6);
* the decoder's action is ``z1 B1 + z2 B2`` for the stick ``z`` in [-1, 1]^2; during training
  an encoder ``tanh(MLP([h', a]))`` maps the demonstrated action to ``z``; the loss is the
  action reconstruction MSE only.

The public LILAC code's ``orthonormalize`` returns its input unchanged (and indexes the wrong
row); :func:`gram_schmidt` here is the real thing, stable for zero and (anti)parallel vectors.

LILA (CoRL 2021) is the same network without the gate (``h = h_s``, as the original, not
normalized) and is trained on task demos only. Its loss adds a zero-stick term
``|decode(s, l, z=0)|^2``: with the decoder written as ``z @ B`` that term is identically zero,
i.e. the property LILA's term trains for (a centred stick gives no motion) holds exactly by
construction; the trainer still computes and reports it.

BC: the same state MLP and FiLM, then ``Linear-GELU-Linear`` -> 7 outputs: ``tanh`` of the first
six is the normalized action, the seventh is the gripper-close logit.

Which kind uses which network, and how it is trained, is its module under ``kinds/``; this
module holds the networks and their parts only.

GELU is the tanh approximation everywhere so the numpy runtime reproduces it exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

ACTION_DIM = 6
LATENT_DIM = 2
GS_EPS = 1e-6  # relative size below which a vector counts as zero / parallel in Gram-Schmidt


@dataclass(frozen=True)
class ArchConfig:
    kind: str  # a key of kinds.MODEL_KINDS
    state_dim: int
    lang_dim: int
    hidden: int = 128

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(x: torch.Tensor) -> torch.Tensor:
    # the + tiny keeps the gradient of a zero vector finite (sqrt'(0) is infinite)
    return torch.sqrt((x * x).sum(-1, keepdim=True) + 1e-30)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / _norm(x).clamp_min(1e-12)


def gram_schmidt(v: torch.Tensor, eps: float = GS_EPS) -> torch.Tensor:
    """Rows of ``v`` (..., 2, D) -> orthonormal rows spanning them (differentiable).

    B1 = v1/|v1|; B2 = the part of v2 orthogonal to B1, normalized, and re-orthogonalized once
    ("twice is enough") so float32 cancellation does not leak. Degenerate inputs never give NaN:
    a zero v1 becomes e1; a v2 (near-)parallel to B1 (its orthogonal part below ``eps`` of
    ``|v2|``, or zero) is replaced by the coordinate axis least aligned with B1, orthogonalized.
    """
    if v.shape[-2] != 2:
        raise ValueError(f"gram_schmidt expects (..., 2, D) rows, got shape {tuple(v.shape)}")
    v1, v2 = v[..., 0, :], v[..., 1, :]
    d = v.shape[-1]
    n1 = _norm(v1)
    e1 = torch.zeros_like(v1)
    e1[..., 0] = 1.0
    b1 = torch.where(n1 > 1e-12, v1 / n1.clamp_min(1e-12), e1)
    u2 = v2 - (b1 * v2).sum(-1, keepdim=True) * b1
    u2 = u2 - (b1 * u2).sum(-1, keepdim=True) * b1
    n2, nv2 = _norm(u2), _norm(v2)
    axis = F.one_hot(b1.detach().abs().argmin(-1), d).to(v.dtype)
    fallback = _unit(axis - (b1 * axis).sum(-1, keepdim=True) * b1)
    ok = (n2 > eps * nv2) & (n2 > 1e-12)
    b2 = torch.where(ok, u2 / n2.clamp_min(1e-12), fallback)
    return torch.stack([b1, b2], dim=-2)


# Smallest std a state feature is divided by. Features that barely vary in the demos (the
# gripper's roll/pitch, a constant object slot) would otherwise be blown up by 1/std, and at run
# time an ordinary few-degree wobble became a huge, out-of-distribution input (LILA and BC went
# off course in the first evaluation). 0.05 is 5 cm / ~3 degrees: below it a change is noise.
STD_FLOOR = 0.05


class StateNorm(nn.Module):
    """(s - mean) / std with statistics fixed from the training set (buffers, saved)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def fit(self, states: torch.Tensor) -> None:
        self.mean.copy_(states.mean(0))
        self.std.copy_(states.std(0).clamp_min(STD_FLOOR))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return (s - self.mean) / self.std


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.GELU(approximate="tanh"), nn.Linear(h, o))


class _Film(nn.Module):
    def __init__(self, lang_dim: int, hidden: int) -> None:
        super().__init__()
        self.trunk = nn.Linear(lang_dim, hidden)
        self.gamma = nn.Linear(hidden, hidden)
        self.beta = nn.Linear(hidden, hidden)

    def forward(self, lang: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = F.gelu(self.trunk(lang), approximate="tanh")
        return 1.0 + self.gamma(f), self.beta(f)


class LatentActionModel(nn.Module):
    """LILAC (``gated=True``) or LILA (``gated=False``): built by their ``kinds`` module."""

    def __init__(self, cfg: ArchConfig, gated: bool) -> None:
        super().__init__()
        self.cfg = cfg
        self.gated = gated
        h = cfg.hidden
        self.state_norm = StateNorm(cfg.state_dim)
        self.state_mlp = _mlp(cfg.state_dim, h, h)
        if self.gated:
            self.no_context = nn.Parameter(torch.randn(1, h))
        self.film = _Film(cfg.lang_dim, h)
        self.basis_head = _mlp(h, h, LATENT_DIM * ACTION_DIM)
        self.action_encoder = _mlp(h + ACTION_DIM, h, LATENT_DIM)

    def features(
        self, state: torch.Tensor, lang: torch.Tensor, alpha: torch.Tensor | None
    ) -> torch.Tensor:
        h = self.state_mlp(self.state_norm(state))
        if self.gated:
            if alpha is None:
                raise ValueError("LILAC needs alpha")
            h = alpha.reshape(-1, 1) * _unit(h) + _unit(self.no_context)
        gamma, beta = self.film(lang)
        return gamma * h + beta

    def basis_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        raw = self.basis_head(feats).reshape(-1, LATENT_DIM, ACTION_DIM)
        return gram_schmidt(raw)

    def basis(
        self, state: torch.Tensor, lang: torch.Tensor, alpha: torch.Tensor | None = None
    ) -> torch.Tensor:
        return self.basis_from_features(self.features(state, lang, alpha))

    def encode(self, feats: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.action_encoder(torch.cat([feats, action], dim=-1)))

    @staticmethod
    def decode(basis: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (z.unsqueeze(-1) * basis).sum(-2)

    def forward(
        self,
        state: torch.Tensor,
        lang: torch.Tensor,
        alpha: torch.Tensor | None,
        action: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(reconstructed action, z, basis)."""
        feats = self.features(state, lang, alpha)
        basis = self.basis_from_features(feats)
        z = self.encode(feats, action)
        return self.decode(basis, z), z, basis


class LanguageBC(nn.Module):
    """Open-loop language-conditioned behaviour cloning (action + gripper-close logit)."""

    def __init__(self, cfg: ArchConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.state_norm = StateNorm(cfg.state_dim)
        self.state_mlp = _mlp(cfg.state_dim, h, h)
        self.film = _Film(cfg.lang_dim, h)
        self.head = _mlp(h, h, ACTION_DIM + 1)

    def forward(self, state: torch.Tensor, lang: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(normalized action in [-1, 1]^6, gripper-close logit)."""
        gamma, beta = self.film(lang)
        out = self.head(gamma * self.state_mlp(self.state_norm(state)) + beta)
        return torch.tanh(out[..., :ACTION_DIM]), out[..., ACTION_DIM]


def build_model(cfg: ArchConfig) -> nn.Module:
    """The torch module of ``cfg.kind`` (its ``kinds`` module builds it); ValueError
    (``kinds.UnknownModelKind``) for a kind the registry does not hold."""
    from ifagent_ros.core.latent_actions.kinds import get_model_kind

    return get_model_kind(cfg.kind).build(cfg)


__all__ = [
    "ACTION_DIM",
    "LATENT_DIM",
    "ArchConfig",
    "LanguageBC",
    "LatentActionModel",
    "StateNorm",
    "build_model",
    "gram_schmidt",
]
