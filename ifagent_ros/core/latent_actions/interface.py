"""What every trained action model answers, so the controller, the evaluation and the node
never care which one they hold (diffusion_policy's ``predict_action`` idea).

* LILAC / LILA (``latent``): ``basis(state, lang, alpha)`` -> (2, 6) orthonormal rows B; the
  stick z in [-1, 1]^2 gives the normalized action ``z @ B`` (see ``state.ActionScale``).
* BC (``policy``): ``act(state, lang)`` -> (normalized 6-D action, gripper-close probability).

``lang`` is the sentence embedding of the active utterance from the model's own encoder
(``embed``). ``alpha`` is LILAC's gate: 0 for a context-free correction, 1 otherwise (LILA
ignores it).
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

import numpy as np

ModelKind = Literal["lilac", "lila", "bc"]


class ModelFileError(RuntimeError):
    """A checkpoint is missing, unreadable or does not match this code (says which)."""


@runtime_checkable
class ActionModel(Protocol):
    kind: ModelKind
    state_dim: int
    object_ids: tuple[str, ...]

    def embed(self, text: str) -> np.ndarray:
        """Sentence embedding of ``text`` (cached; float32)."""
        ...

    def basis(self, state: np.ndarray, lang: np.ndarray, alpha: float) -> np.ndarray:
        """(2, 6) orthonormal basis (latent models; BC raises TypeError)."""
        ...

    def act(self, state: np.ndarray, lang: np.ndarray) -> tuple[np.ndarray, float]:
        """Normalized 6-D action and gripper-close probability (BC; latent models raise)."""
        ...
