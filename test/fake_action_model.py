"""A deterministic numpy ActionModel for controller and node tests (no torch, no checkpoint).

Each known sentence has a fixed basis (``bases``; ``default_basis`` otherwise) and a one-hot
embedding; ``novelty`` is 1 for known sentences and ``unknown_novelty`` for others. A "bc" model
answers ``action_out`` and ``p_close`` whatever the stick. The raw output goes through
``interface.latent_action`` / ``policy_action`` as a trained model's does. Every call is
recorded so tests can check what the controller conditioned on. ``fail`` makes ``action``
answer NaN ("nan") or raise ("raise").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ifagent_ros.core.latent_actions.interface import latent_action, policy_action
from ifagent_ros.core.latent_actions.state import state_dim

EX, EY, EZ, WX, WY, WZ = np.eye(6)
XZ_BASIS = np.stack([EX, EZ])  # orthogonal to +y


class FakeActionModel:
    def __init__(self, kind: str = "lilac", object_ids: Sequence[str] = ("red_block",),
                 known: Sequence[str] = ("pick up the red block", "left", "move left",
                                         "a bit more to the left", "towards the bowl",
                                         "put the red block in the yellow bowl"),
                 bases: Mapping[str, np.ndarray] | None = None,
                 default_basis: np.ndarray = XZ_BASIS, unknown_novelty: float = 0.1,
                 action: np.ndarray | None = None, p_close: float = 0.0) -> None:
        self.kind = kind
        self.object_ids = tuple(object_ids)
        self.state_dim = state_dim(self.object_ids)
        self.known = list(known)
        self.bases = {k: np.asarray(v, dtype=float) for k, v in (bases or {}).items()}
        self.default_basis = np.asarray(default_basis, dtype=float)
        self.unknown_novelty = unknown_novelty
        self.action_out = np.asarray(action if action is not None else EX, dtype=float)
        self.p_close = p_close
        self.fail: str | None = None
        self.name = f"fake-{kind}"
        self.calls: list[dict[str, Any]] = []

    def _text_of(self, lang: np.ndarray) -> str:
        i = int(np.argmax(lang))
        return self.known[i] if lang[i] > 0 else "<unknown>"

    def embed(self, text: str) -> np.ndarray:
        v = np.zeros(len(self.known) + 1, dtype=np.float32)
        v[self.known.index(text) if text in self.known else len(self.known)] = 1.0
        return v

    def novelty(self, text: str) -> float:
        return 1.0 if text in self.known else self.unknown_novelty

    @property
    def interface(self) -> str:
        return "policy" if self.kind == "bc" else "latent"

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: tuple[float, np.ndarray] | None = None
               ) -> tuple[np.ndarray, float | None]:
        assert state.shape == (self.state_dim,), state.shape
        text = self._text_of(lang)
        self.calls.append({"call": "action", "text": text, "alpha": alpha, "state": state,
                           "stick": np.array(stick), "shaping": shaping})
        if self.fail == "raise":
            raise RuntimeError("fake model failure")
        if self.kind == "bc":
            if self.fail == "nan":
                return policy_action(np.full(6, np.nan), float("nan"), shaping)
            return policy_action(self.action_out.copy(), self.p_close, shaping)
        basis = np.full((2, 6), np.nan) if self.fail == "nan" else self.basis_for(text)
        return latent_action(basis, stick, shaping), None

    def basis_for(self, text: str) -> np.ndarray:
        """The raw (2, 6) basis this fake answers for ``text`` (before the checks)."""
        return self.bases.get(text, self.default_basis).copy()


def fake_fk(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """End effector 0.4 m forward, 0.3 m up, gripper pointing down; moves with joint 1."""
    return np.array([0.4 + 0.01 * q[0], 0.0, 0.3]), np.diag([1.0, -1.0, -1.0])
