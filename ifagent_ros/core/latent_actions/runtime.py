"""The numpy forward pass of a loaded model (no torch at run time, ~tens of microseconds).

:func:`checkpoint.load_model` builds the ``runtime`` class its kind names (``kinds.MODEL_KINDS``:
:class:`LatentModel` for LILAC / LILA, :class:`PolicyModel` for BC); the weights are exported
from torch and the result equals the torch model within 1e-5.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ifagent_ros.core.latent_actions.encoders import SentenceEncoder
from ifagent_ros.core.latent_actions.interface import (
    ModelInterface,
    ShapingTerm,
    latent_action,
    policy_action,
)

_K1 = math.sqrt(2.0 / math.pi)
_K2 = _K1 * 0.044715


def _gelu(x: np.ndarray) -> np.ndarray:
    """torch's tanh-approximate GELU, in place on ``x`` (a fresh pre-activation)."""
    u = x * x
    u *= _K2
    u += _K1
    u *= x
    np.tanh(u, out=u)
    u += 1.0
    u *= x
    u *= 0.5
    return u


def _axis_fallback(b1: np.ndarray) -> np.ndarray:
    """Unit vector orthogonal to ``b1`` from the coordinate axis least aligned with it."""
    axis = np.zeros_like(b1)
    axis[int(np.argmin(np.abs(b1)))] = 1.0
    f = axis - (b1 @ axis) * b1
    return f / max(math.sqrt(float(f @ f) + 1e-30), 1e-12)


def gram_schmidt_np(v: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """numpy twin of :func:`models.gram_schmidt` for one (2, D) pair, in float64 through the
    Gram matrix: ``B = L @ V`` with ``L`` lower-triangular from ``G = V V^T`` (four numpy calls
    instead of a dozen) while v1, v2 are far from parallel, else explicitly twice; float64
    keeps the orthogonality error below ~1e-10 down to the ``eps`` cut.
    The degenerate cases (zero v1, v2 parallel to v1 or zero) fall back like the torch one."""
    v = np.asarray(v, dtype=np.float64)
    (g00, g01), (_, g11) = (v @ v.T).tolist()
    if g00 > 1e-24:
        c = g01 / g00
        nu2 = g11 - g01 * c
        # |u|^2 from the Gram matrix carries ~1e-16 * g11 of cancellation: fine while |u|^2
        # is not tiny next to |v2|^2; nearer to parallel, orthogonalize explicitly below
        if nu2 > 1e-6 * g11 and nu2 > 1e-24:
            n1, nu = math.sqrt(g00), math.sqrt(nu2)
            return np.array([[1.0 / n1, 0.0], [-c / nu, 1.0 / nu]]) @ v
        b1 = v[0] / math.sqrt(g00)
    else:
        b1 = np.zeros(v.shape[1])
        b1[0] = 1.0
    u = v[1] - float(b1 @ v[1]) * b1
    u -= float(b1 @ u) * b1
    n2sq = float(u @ u)
    if n2sq > eps * eps * (float(v[1] @ v[1]) + 1e-30) and n2sq > 1e-24:
        return np.stack([b1, u / math.sqrt(n2sq)])
    return np.stack([b1, _axis_fallback(b1)])


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


class LoadedModel:
    """A checkpoint with a numpy forward pass (implements ``interface.ActionModel``); the
    subclass a kind names (``kinds/<kind>.py``: ``runtime``) adds its head.

    The state standardization is folded into the first layer, and per utterance the FiLM terms
    are precomputed (for LILAC the gated features become ``h * (gamma * alpha / |h|) + c`` with
    ``c = gamma * unit(no_context) + beta``), so a step is: 4 small matrix products, 2 GELUs and,
    for a latent model, a Gram-Schmidt of two 6-D vectors."""

    interface: ClassVar[ModelInterface]
    _head: ClassVar[str]  # the state-dict prefix of the output MLP

    def __init__(
        self,
        payload: dict[str, Any],
        weights: dict[str, np.ndarray],
        encoder: SentenceEncoder,
        path: Path,
    ) -> None:
        self.path = path
        self.kind: str = payload["arch"]["kind"]
        self.state_dim = int(payload["arch"]["state_dim"])
        self.lang_dim = int(payload["arch"]["lang_dim"])
        self.object_ids = tuple(payload["state_layout"]["object_ids"])
        self.encoder = encoder
        self.action_scale = dict(payload.get("action_scale") or {})
        self.train_texts = list(payload["train_texts"])
        self.train_embeddings = np.asarray(payload["train_embeddings"], dtype=np.float32)
        self.card = json.loads(payload.get("card") or "{}")
        w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
        # (s - mean) / std folded into the first layer (in float64, then stored as float32)
        inv_std = 1.0 / w["state_norm.std"]
        w1 = w["state_mlp.0.weight"].T * inv_std[:, None]
        self._s1 = (_f32(w1), _f32(w["state_mlp.0.bias"] - w["state_norm.mean"] @ w1))
        self._s2 = (_f32(w["state_mlp.2.weight"].T), _f32(w["state_mlp.2.bias"]))
        head = self._head
        self._h1 = (_f32(w[f"{head}.0.weight"].T), _f32(w[f"{head}.0.bias"]))
        self._h2 = (_f32(w[f"{head}.2.weight"].T), _f32(w[f"{head}.2.bias"]))
        self._film = {k[5:]: v for k, v in w.items() if k.startswith("film.")}  # per utterance
        self._init_head(w)
        self._lang_cache: OrderedDict[bytes, _LangTerms] = OrderedDict()
        self._last: tuple[np.ndarray, _LangTerms] | None = None

    def _init_head(self, w: dict[str, np.ndarray]) -> None:
        """A subclass's own weights beyond the state MLP, FiLM and head (float64 ``w``)."""

    # -- ActionModel ---------------------------------------------------------------------------

    def embed(self, text: str) -> np.ndarray:
        return self.encoder.embed(text)

    def novelty(self, text: str) -> float:
        """Max cosine similarity of ``text`` to the training sentences (1 = seen verbatim)."""
        if self.train_embeddings.size == 0:
            return 0.0
        return float(np.max(self.train_embeddings @ self.embed(text)))

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: ShapingTerm | None = None) -> tuple[np.ndarray, float | None]:
        raise NotImplementedError(f"{type(self).__name__} has no action()")

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _mlp2(
        x: np.ndarray, l1: tuple[np.ndarray, np.ndarray], l2: tuple[np.ndarray, np.ndarray]
    ) -> np.ndarray:
        u = x @ l1[0]
        u += l1[1]
        u = _gelu(u) @ l2[0]
        u += l2[1]
        return u

    def _check_state(self, state: np.ndarray) -> np.ndarray:
        s = np.asarray(state, dtype=np.float32)
        if s.shape != (self.state_dim,):
            raise ValueError(f"expected a state of shape ({self.state_dim},), got {s.shape}")
        if not math.isfinite(float(s.sum())):
            raise ValueError("state contains NaN or inf")
        return s

    def _state_features(self, s: np.ndarray) -> np.ndarray:
        return self._mlp2(s, self._s1, self._s2)

    def _lang_terms(self, lang: np.ndarray) -> _LangTerms:
        last = self._last
        if last is not None and lang is last[0] and not lang.flags.writeable:
            return last[1]  # the same frozen embedding as the last step (the common case)
        v = np.asarray(lang, dtype=np.float32)
        key = v.tobytes()
        terms = self._lang_cache.get(key)
        if terms is None:
            terms = self._compute_lang_terms(v)
            self._lang_cache[key] = terms
            if len(self._lang_cache) > 64:
                self._lang_cache.popitem(last=False)
        else:
            self._lang_cache.move_to_end(key)
        if isinstance(lang, np.ndarray):
            self._last = (lang, terms)
        return terms

    def _compute_lang_terms(self, v: np.ndarray) -> _LangTerms:
        if v.shape != (self.lang_dim,):
            raise ValueError(
                f"expected a language embedding of shape ({self.lang_dim},), got {v.shape}"
            )
        if not np.isfinite(v).all():
            raise ValueError("language embedding contains NaN or inf")
        w = self._film  # float64: computed once per utterance
        f = _gelu(v.astype(np.float64) @ w["trunk.weight"].T + w["trunk.bias"])
        gamma = 1.0 + f @ w["gamma.weight"].T + w["gamma.bias"]
        beta = f @ w["beta.weight"].T + w["beta.bias"]
        offset = self._offset(gamma, beta)
        gamma, beta, offset = _f32(gamma), _f32(beta), _f32(offset)
        return _LangTerms(gamma=gamma, beta=beta, offset=offset)

    def _offset(self, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """The per-utterance constant added to the modulated state features (float64)."""
        return beta


class LatentModel(LoadedModel):
    """LILAC / LILA: the stick moves along a learned, language-conditioned 2-D basis. Gated
    (LILAC's alpha gate) when the weights hold the gate's ``no_context`` vector, as the torch
    ``LatentActionModel(gated=True)`` does."""

    interface: ClassVar[ModelInterface] = "latent"
    _head: ClassVar[str] = "basis_head"

    def _init_head(self, w: dict[str, np.ndarray]) -> None:
        self.gated = "no_context" in w
        self._no_context = np.zeros(0)
        if self.gated:
            nc = w["no_context"].reshape(-1)
            self._no_context = nc / max(math.sqrt(float(nc @ nc)), 1e-12)

    def _offset(self, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        return gamma * self._no_context + beta if self.gated else beta

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: ShapingTerm | None = None) -> tuple[np.ndarray, None]:
        """``z @ basis`` (shaped; see ``interface.latent_action``); the person's gripper."""
        return latent_action(self.basis(state, lang, alpha), stick, shaping), None

    def basis(self, state: np.ndarray, lang: np.ndarray, alpha: float = 1.0) -> np.ndarray:
        """(2, 6) orthonormal rows; ValueError for a bad state, embedding or alpha."""
        a = float(alpha)
        if not (0.0 <= a <= 1.0):  # also rejects NaN
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        s = self._check_state(state)
        terms = self._lang_terms(lang)
        if self.gated:
            if a == 0.0:  # the state is gated out: one basis per utterance
                if terms.basis0 is None:
                    terms.basis0 = self._head_basis(terms.offset)
                return terms.basis0.copy()
            h = self._state_features(s)
            h *= terms.gamma * (a / max(math.sqrt(float(h @ h) + 1e-30), 1e-12))
            h += terms.offset
        else:
            h = self._state_features(s)
            h *= terms.gamma
            h += terms.beta
        return self._head_basis(h)

    def _head_basis(self, feats: np.ndarray) -> np.ndarray:
        return gram_schmidt_np(self._mlp2(feats, self._h1, self._h2).reshape(2, 6))


class PolicyModel(LoadedModel):
    """BC: a language-conditioned policy drives while the stick is pushed ("go")."""

    interface: ClassVar[ModelInterface] = "policy"
    _head: ClassVar[str] = "head"

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: ShapingTerm | None = None) -> tuple[np.ndarray, float]:
        """The policy's action (shaped; see ``interface.policy_action``) and its gripper-close
        probability; the stick and alpha are not used."""
        a, p = self.policy(state, lang)
        return policy_action(a, p, shaping)

    def policy(self, state: np.ndarray, lang: np.ndarray) -> tuple[np.ndarray, float]:
        """Normalized 6-D action in [-1, 1] and the gripper-close probability."""
        s = self._check_state(state)
        terms = self._lang_terms(lang)
        h = self._state_features(s)
        h *= terms.gamma
        h += terms.beta
        out = self._mlp2(h, self._h1, self._h2)
        prob = 1.0 / (1.0 + math.exp(-min(max(float(out[6]), -60.0), 60.0)))
        return np.tanh(out[:6]), prob


@dataclass
class _LangTerms:
    gamma: np.ndarray
    beta: np.ndarray
    offset: np.ndarray  # beta; gated (LILAC): gamma * unit(no_context) + beta
    basis0: np.ndarray | None = None  # LILAC's basis at alpha = 0


__all__ = ["LatentModel", "LoadedModel", "PolicyModel", "gram_schmidt_np"]
