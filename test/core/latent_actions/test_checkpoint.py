"""Checkpoint save/load: the numpy runtime equals torch, the model card, and ModelFileError
for every way a file can fail to match this code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ifagent_ros.core.latent_actions.checkpoint import (
    inference_timing,
    load_model,
    save_checkpoint,
)
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder
from ifagent_ros.core.latent_actions.interface import ActionModel, ModelFileError
from ifagent_ros.core.latent_actions.training import TrainResult


@pytest.fixture(scope="module")
def saved(
    trained: dict[str, TrainResult], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("models")
    return {k: save_checkpoint(r, out, name=f"tiny_{k}")["pt"] for k, r in trained.items()}


def _random_inputs(n: int, state_dim: int, lang_dim: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    states = (rng.normal(size=(n, state_dim)) * 2).astype(np.float32)
    langs = rng.normal(size=(n, lang_dim)).astype(np.float32)
    return states, langs / np.linalg.norm(langs, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["lilac", "lila"])
def test_numpy_basis_equals_torch(
    kind: str, saved: dict[str, Path], trained: dict[str, TrainResult], encoder: HashedWordsEncoder
) -> None:
    model = load_model(saved[kind], encoder=encoder)
    assert isinstance(model, ActionModel) and model.kind == kind and model.interface == "latent"
    torch_model = trained[kind].model
    states, langs = _random_inputs(50, model.state_dim, model.lang_dim)
    for alpha in (0.0, 0.5, 1.0):
        a = torch.full((50,), alpha) if kind == "lilac" else None
        ref = torch_model.basis(torch.from_numpy(states), torch.from_numpy(langs), a)
        got = np.stack([model.basis(s, v, alpha) for s, v in zip(states, langs, strict=True)])
        np.testing.assert_allclose(got, ref.detach().numpy(), atol=1e-5)
    again = model.basis(states[0], langs[0], 1.0)  # cached language terms give the same
    np.testing.assert_allclose(again, got[0], atol=1e-12)


def test_numpy_bc_equals_torch(
    saved: dict[str, Path], trained: dict[str, TrainResult], encoder: HashedWordsEncoder
) -> None:
    model = load_model(saved["bc"], encoder=encoder)
    assert isinstance(model, ActionModel) and model.kind == "bc" and model.interface == "policy"
    states, langs = _random_inputs(50, model.state_dim, model.lang_dim)
    ref_a, ref_logit = trained["bc"].model(torch.from_numpy(states), torch.from_numpy(langs))
    stick = np.array([0.3, -1.0])  # any push is "go": the stick does not change the action
    out = [model.action(s, v, stick, 1.0) for s, v in zip(states, langs, strict=True)]
    np.testing.assert_allclose(np.stack([o[0] for o in out]), ref_a.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(
        [o[1] for o in out], torch.sigmoid(ref_logit).detach().numpy(), atol=1e-5
    )
    # one method per model: a policy has no basis, a latent model no policy of its own
    assert not hasattr(model, "basis")
    assert not hasattr(load_model(saved["lilac"], encoder=encoder), "policy")


def test_round_trip_keeps_texts_card_and_novelty(
    saved: dict[str, Path], encoder: HashedWordsEncoder
) -> None:
    model = load_model(saved["lilac"], encoder=encoder, object_ids=("cube",))
    assert model.object_ids == ("cube",) and model.state_dim == 20
    assert "move left" in model.train_texts and "shift left" not in model.train_texts
    assert model.novelty("move left") == pytest.approx(1.0, abs=1e-5)
    assert model.novelty("bake a cake please") < 0.5
    card = json.loads(saved["lilac"].with_suffix(".json").read_text())
    assert card["kind"] == "lilac" and card["metrics"]["heldout"]["action_mse"] >= 0
    assert card["data"]["heldout_phrasings"]["left"] == ["shift left"]
    md = saved["lilac"].with_suffix(".md").read_text()
    assert "Held-out error" in md and "best z mse" in md


def test_bad_runtime_inputs_raise(saved: dict[str, Path], encoder: HashedWordsEncoder) -> None:
    model = load_model(saved["lilac"], encoder=encoder)
    lang = model.embed("left")
    good = np.zeros(20, np.float32)
    with pytest.raises(ValueError, match="shape"):
        model.basis(np.zeros(19), lang, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        model.basis(np.full(20, np.nan), lang, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        model.basis(good, lang, float("nan"))
    with pytest.raises(ValueError, match="language embedding"):
        model.basis(good, np.zeros(7, np.float32), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        model.basis(good, np.full(64, np.inf, np.float32), 1.0)
    act, gripper = model.action(good, lang, np.array([1.0, 0.0]), 0.0)  # z @ orthonormal B
    assert np.linalg.norm(act) == pytest.approx(1.0, abs=1e-6) and gripper is None
    with pytest.raises(ValueError, match="stick"):
        model.action(good, lang, np.array([np.nan, 0.0]), 0.0)


def test_inference_timing_reports_percentiles(
    saved: dict[str, Path], encoder: HashedWordsEncoder
) -> None:
    t = inference_timing(load_model(saved["bc"], encoder=encoder), steps=50)
    assert t["steps"] == 50 and 0 < t["p50_us"] <= t["p99_us"] <= t["max_us"]


# -- files that do not match -----------------------------------------------------------------


def _tampered(src: Path, dst: Path, edit) -> Path:
    payload = torch.load(src, weights_only=True)
    edit(payload)
    torch.save(payload, dst)
    return dst


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.pt")


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04broken zip"])
def test_corrupted_file(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "bad.pt").write_bytes(content)
    with pytest.raises(ModelFileError, match="unreadable model file"):
        load_model(tmp_path / "bad.pt")


def test_truncated_file(saved: dict[str, Path], tmp_path: Path) -> None:
    data = saved["lila"].read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="unreadable"):
        load_model(tmp_path / "cut.pt")


def test_foreign_torch_file(tmp_path: Path) -> None:
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="key 'format'"):
        load_model(tmp_path / "other.pt")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda p: p.pop("state_dict"), "missing key.*'state_dict'"),
        (lambda p: p.update(format_version=99), "'format_version' is 99"),
        (lambda p: p.update(code_version="latent_actions/0"), "'code_version'"),
        (lambda p: p["state_layout"].update(state_dim=35), "'state_layout.state_dim' is 35"),
        (lambda p: p["state_layout"].update(object_ids=["a", "b"]), "'state_layout.state_dim'"),
        (lambda p: p["arch"].update(kind="vae"), "key 'arch'"),
        (lambda p: p["arch"].update(hidden=64), "state_dict '.*' has shape .*, this code expects"),
        (lambda p: p["state_dict"].pop("film.beta.bias"), "missing 'film.beta.bias'"),
        (lambda p: p["state_dict"].update(extra=torch.zeros(1)), "unexpected key 'extra'"),
        (lambda p: p["state_dict"]["film.trunk.bias"].fill_(float("nan")), "NaN"),
        (lambda p: p["encoder"].update(dim=32), "'encoder.dim' is 32"),
        (lambda p: p["encoder"].update(name="hashed-words:32"), "'encoder.name'"),
        (lambda p: p.update(train_embeddings=torch.zeros(2, 64)), "'train_embeddings'"),
    ],
)
def test_mismatched_file(
    saved: dict[str, Path], tmp_path: Path, encoder: HashedWordsEncoder, edit, match: str
) -> None:
    path = _tampered(saved["lilac"], tmp_path / "t.pt", edit)
    with pytest.raises(ModelFileError, match=match):
        load_model(path, encoder=encoder)


def test_layout_of_the_caller_is_checked(
    saved: dict[str, Path], encoder: HashedWordsEncoder
) -> None:
    with pytest.raises(ModelFileError, match="'state_layout.object_ids'"):
        load_model(saved["lilac"], encoder=encoder, object_ids=("red_block",))


def test_encoder_is_rebuilt_from_its_name(saved: dict[str, Path]) -> None:
    model = load_model(saved["lila"])  # the checkpoint names hashed-words:64
    assert model.encoder.name == "hashed-words:64"
    with pytest.raises(ModelFileError, match="'encoder.name'"):
        load_model(saved["lila"], encoder=HashedWordsEncoder(32))
