"""The models' structure (alpha gate, zero stick, BC outputs) and a tiny real training run
whose learned bases must reproduce the directions the synthetic words mean."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ifagent_ros.core.latent_actions.dataset import Dataset
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder
from ifagent_ros.core.latent_actions.models import ArchConfig, LatentActionModel, build_model
from ifagent_ros.core.latent_actions.training import TrainConfig, TrainResult, train


def _inputs(n: int = 8, s: int = 20, lang: int = 16) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    states = torch.randn(n, s, generator=g) * 3
    text = torch.randn(1, lang, generator=g).expand(n, lang)
    return states, text


def test_lilac_alpha_zero_basis_ignores_the_state() -> None:
    torch.manual_seed(0)
    model = LatentActionModel(ArchConfig("lilac", state_dim=20, lang_dim=16, hidden=32),
                              gated=True).eval()
    states, text = _inputs()
    b0 = model.basis(states, text, torch.zeros(8))
    assert torch.allclose(b0, b0[:1].expand_as(b0), atol=1e-6)
    b1 = model.basis(states, text, torch.ones(8))  # the gate open: the state matters
    assert (b1 - b1[:1]).abs().max() > 1e-3


def test_lila_has_no_gate_and_a_centred_stick_gives_no_motion() -> None:
    torch.manual_seed(0)
    model = build_model(ArchConfig("lila", state_dim=20, lang_dim=16, hidden=32)).eval()
    assert not hasattr(model, "no_context")
    states, text = _inputs()
    action = torch.randn(8, 6)
    _, z, basis = model(states, text, None, action)
    assert torch.all(z.abs() <= 1.0)
    assert torch.equal(model.decode(basis, torch.zeros_like(z)), torch.zeros(8, 6))


def test_bc_outputs_bounded_actions_and_a_gripper_logit() -> None:
    torch.manual_seed(0)
    model = build_model(ArchConfig("bc", state_dim=20, lang_dim=16, hidden=32)).eval()
    action, logit = model(*_inputs())
    assert action.shape == (8, 6) and logit.shape == (8,)
    assert torch.all(action.abs() <= 1.0)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model(ArchConfig("vae", state_dim=20, lang_dim=16))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown model kind 'vae'; known model kinds: lilac"):
        TrainConfig(model="vae")  # type: ignore[arg-type]


def _span_contains(basis: np.ndarray, axis: int) -> float:
    """Length of the projection of the unit axis onto span(basis) (1 = inside the span)."""
    e = np.zeros(6)
    e[axis] = 1.0
    return float(np.linalg.norm(basis @ e))


@pytest.mark.parametrize(
    "text, axis", [("move left", 1), ("go higher", 2), ("go forward", 0), ("shift left", 1)]
)
def test_trained_lilac_basis_reproduces_the_word_direction(
    trained: dict[str, TrainResult],
    synthetic: Dataset,
    encoder: HashedWordsEncoder,
    text: str,
    axis: int,
) -> None:
    """A correction is context free (alpha 0): its basis must contain its direction for any
    state. A random 2-D subspace of R^6 contains an axis to ~0.58 on average."""
    model = trained["lilac"].model
    lang = torch.from_numpy(encoder.encode([text]))
    states = torch.from_numpy(synthetic.demos[0].states[:4])
    basis = model.basis(states, lang.expand(4, -1), torch.zeros(4)).detach().numpy()
    for b in basis:
        assert _span_contains(b, axis) > 0.95, (text, b)


def test_trained_lilac_reaches_towards_the_object(
    trained: dict[str, TrainResult], synthetic: Dataset, encoder: HashedWordsEncoder
) -> None:
    """The task needs the state: the best stick input reproduces "towards the cube"."""
    model = trained["lilac"].model
    states = torch.from_numpy(np.concatenate([d.states for d in synthetic.demos[:3]]))
    lang = torch.from_numpy(encoder.encode(["reach the cube"])).expand(len(states), -1)
    basis = model.basis(states, lang, torch.ones(len(states))).detach().numpy()
    offset = states.numpy()[:, 17:20]
    target = np.zeros((len(states), 6))
    target[:, :3] = offset / np.linalg.norm(offset, axis=1, keepdims=True)
    captured = np.linalg.norm(np.einsum("bkd,bd->bk", basis, target), axis=1)
    assert np.median(captured) > 0.9


def test_training_reports_heldout_figures(trained: dict[str, TrainResult]) -> None:
    lilac = trained["lilac"].metrics["heldout"]
    assert lilac["action_cosine"] > 0.85 and lilac["best_z_cosine"] > 0.9
    assert set(lilac["action_mse_by_subset"]) == {
        "task_seen_phrasing",
        "correction_seen_phrasing",
        "task_heldout_phrasing",
        "correction_heldout_phrasing",
    }
    assert trained["lila"].data["kinds"] == ["task"]  # LILA and BC never see corrections
    assert trained["bc"].metrics["heldout"]["gripper_accuracy"] == 1.0
    history = trained["lilac"].history
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert "shift left" not in trained["lilac"].train_texts  # held-out phrasing never trained


def test_training_is_deterministic(synthetic: Dataset, encoder: HashedWordsEncoder) -> None:
    cfg = TrainConfig(model="lila", epochs=3, hidden=16, batch=64, device="cpu", seed=3)
    a, b = train(synthetic, encoder, cfg), train(synthetic, encoder, cfg)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]


def test_state_norm_does_not_amplify_features_that_never_vary() -> None:
    # A feature constant in the demos (gripper roll) must not turn a small run-time wobble into
    # a huge input: 0.03 rad off the training value stays under one unit.
    from ifagent_ros.core.latent_actions.models import STD_FLOOR, StateNorm

    states = torch.randn(500, 3, generator=torch.Generator().manual_seed(0))
    states[:, 1] = 0.7  # never varies
    norm = StateNorm(3)
    norm.fit(states)
    assert norm.std[1] == pytest.approx(STD_FLOOR)
    assert norm.std[0] == pytest.approx(float(states[:, 0].std()), rel=1e-5)
    wobble = torch.tensor([[0.0, 0.7 + 0.03, 0.0]])
    assert abs(float(norm(wobble)[0, 1])) < 1.0
