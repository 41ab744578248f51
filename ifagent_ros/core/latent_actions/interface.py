"""What every trained action model answers, so the controller, the evaluation and the node
never care which one they hold (diffusion_policy's ``predict_action`` idea).

One call per control step: ``action(state, lang, stick, alpha, shaping)`` -> (normalized 6-D
action, gripper-close probability or None). The normalized action becomes a twist through
``state.ActionScale``; a probability means the model drives the gripper (BC), None that the
person does (with the pad's buttons).

* ``lang`` is the sentence embedding of the active utterance from the model's own encoder
  (``embed``);
* ``stick`` the deadbanded stick z, in [-1, 1]^2 (a latent model moves along ``z @ B``; a policy
  takes any push as "go" and otherwise ignores it);
* ``alpha`` LILAC's gate: 0 for a context-free correction, 1 otherwise (others ignore it);
* ``shaping`` an optional ``(weight, unit 6-D direction)`` a spoken correction asks for, blended
  in the way the model's ``interface`` allows (:func:`latent_action`, :func:`policy_action`).

``interface`` says what the stick does (``latent`` or ``policy``), in the words of
``conditions.py``. A new kind of model (``kinds/``: one module and one registry line) names a
run-time class that implements this protocol, and :func:`latent_action` /
:func:`policy_action` turn its raw output into the answer, checked and shaped the same way.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ifagent_ros.core.latent_actions.conditioning import (
    is_orthonormal,
    orthonormal_rows,
    shape_basis,
)

ModelInterface = Literal["latent", "policy"]
ShapingTerm = tuple[float, np.ndarray]  # (weight in [0, 1], unit 6-D direction)


class ModelFileError(RuntimeError):
    """A checkpoint is missing, unreadable or does not match this code (says which)."""


class ModelOutputError(ValueError):
    """A model answered something no twist can come from (NaN, wrong shape, degenerate)."""


@runtime_checkable
class ActionModel(Protocol):
    kind: str  # its kind's name, a key of ``kinds.MODEL_KINDS``
    interface: ModelInterface
    state_dim: int
    object_ids: tuple[str, ...]

    def embed(self, text: str) -> np.ndarray:
        """Sentence embedding of ``text`` (cached; float32)."""
        ...

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: ShapingTerm | None = None) -> tuple[np.ndarray, float | None]:
        """Normalized 6-D action and the gripper-close probability (None: not the model's)."""
        ...


def latent_action(basis: np.ndarray, stick: np.ndarray,
                  shaping: ShapingTerm | None = None) -> np.ndarray:
    """``z @ B`` for a latent model's (2, 6) basis: rows repaired to orthonormal when they are
    not (Gram-Schmidt), the shaping direction blended into the row most aligned with it
    (``conditioning.shape_basis``). :class:`ModelOutputError` for a NaN, mis-shaped or
    degenerate basis or a stick that is not two finite numbers."""
    z = np.asarray(stick, dtype=np.float64)
    if z.shape != (2,) or not np.all(np.isfinite(z)):
        raise ModelOutputError(f"the stick must be 2 finite numbers, got {stick!r}")
    b = np.asarray(basis, dtype=float)
    if b.shape != (2, 6) or not np.all(np.isfinite(b)):
        raise ModelOutputError("the model returned a NaN or mis-shaped basis")
    if not is_orthonormal(b):
        repaired = orthonormal_rows(b)
        if repaired is None:
            raise ModelOutputError("the model returned a degenerate basis")
        b = repaired
    if shaping is not None:
        shaped = shape_basis(b, shaping[1], shaping[0])
        if shaped is not None:
            b = shaped[0]
    return z @ b


def policy_action(action: np.ndarray, p_close: float,
                  shaping: ShapingTerm | None = None) -> tuple[np.ndarray, float]:
    """A policy's 6-D action blended towards the shaping direction (``(1 - w) a + w d
    max(|a|, 1)``) and its gripper-close probability. :class:`ModelOutputError` for NaN or a
    wrong shape."""
    a = np.asarray(action, dtype=float).reshape(-1)
    p = float(p_close)
    if a.shape != (6,) or not np.all(np.isfinite(a)) or not np.isfinite(p):
        raise ModelOutputError("the policy returned NaN or a wrong shape")
    if shaping is not None:
        w, d = shaping
        a = (1.0 - w) * a + w * d * max(float(np.linalg.norm(a)), 1.0)
    return a, p


__all__ = ["ActionModel", "ModelFileError", "ModelInterface", "ModelOutputError",
           "ShapingTerm", "latent_action", "policy_action"]
