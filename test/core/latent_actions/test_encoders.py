"""Sentence encoders: unit rows, the cache, clear errors, and the real offline MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.latent_actions.encoders import (
    MINILM_NAME,
    EncoderError,
    HashedWordsEncoder,
    MiniLMEncoder,
    SentenceEncoder,
    make_encoder,
)


def test_hashed_words_are_unit_rows_and_cached() -> None:
    enc = HashedWordsEncoder(32, cache_size=2)
    assert isinstance(enc, SentenceEncoder)
    vecs = enc.encode(["move left", "go up", "", "move left"])
    assert vecs.shape == (4, 32) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vecs[0], vecs[3])
    assert len(enc._cache) == 2  # the LRU keeps at most cache_size entries
    fresh = enc.embed("tilt up")  # a miss also returns the cached, read-only vector
    assert enc.embed("tilt up") is fresh and not fresh.flags.writeable
    first = enc.embed("move left")
    assert enc.embed("move left") is first  # a hit returns the cached (read-only) vector
    assert not first.flags.writeable
    assert enc.encode(["move left"])[0] @ enc.encode(["go up"])[0] < 0.9


def test_make_encoder_names() -> None:
    assert make_encoder("hashed-words:16").dim == 16
    with pytest.raises(EncoderError, match="hashed-words:<dim>"):
        make_encoder("hashed-words:x")


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="no sentence-transformers model here"):
        MiniLMEncoder(tmp_path)
    with pytest.raises(EncoderError, match="no sentence-transformers model here"):
        make_encoder(str(tmp_path / "missing"))
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(EncoderError, match="cannot load the sentence encoder"):
        MiniLMEncoder(tmp_path)


def test_bundled_minilm_loads_offline_and_separates_meanings() -> None:
    enc = MiniLMEncoder()
    assert enc.name == MINILM_NAME and enc.dim == 384
    left, left2, up = enc.encode(["move left", "go to the left", "move up"])
    np.testing.assert_allclose(np.linalg.norm([left, left2, up], axis=1), 1.0, rtol=1e-5)
    assert left @ left2 > left @ up
    np.testing.assert_allclose(enc.embed("move left"), left, atol=1e-6)
