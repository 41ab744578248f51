"""``ActionModel.action``: the one call the controller makes, for every kind of model.

The controller used to ask a latent model for its basis and a BC policy for its action and do
the rest itself. These tests keep that old formula here, written out, and check on tiny
untrained models built from an ``ArchConfig`` that the controller's twists through ``action``
are bit-for-bit the same, including shaping by a spoken correction and the speed factor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from fake_action_model import fake_fk

from ifagent_ros.core.latent_actions.checkpoint import (
    encoder_device,
    load_action_model,
    save_checkpoint,
)
from ifagent_ros.core.latent_actions.conditioning import (
    is_orthonormal,
    orthonormal_rows,
    shape_basis,
)
from ifagent_ros.core.latent_actions.controller import (
    SharedAutonomyConfig,
    SharedAutonomyController,
)
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder
from ifagent_ros.core.latent_actions.interface import (
    ActionModel,
    ModelOutputError,
    latent_action,
    policy_action,
)
from ifagent_ros.core.latent_actions.kinds import get_model_kind
from ifagent_ros.core.latent_actions.models import ArchConfig, build_model
from ifagent_ros.core.latent_actions.runtime import LoadedModel
from ifagent_ros.core.latent_actions.state import ActionScale, state_dim

Q = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]
OBJECTS = {"red_block": (0.5, 0.1, 0.02)}
INSTRUCTION = "pick up the red block"
TEXTS = [INSTRUCTION, "a bit more to the left", "faster", "twist left"]
T0 = 100.0


def tiny_model(kind: str, seed: int = 0) -> LoadedModel:
    """An untrained model of ``kind`` from its config, with a non-trivial state norm."""
    torch.manual_seed(seed)
    enc = HashedWordsEncoder(16)
    ids = ("red_block",)
    arch = ArchConfig(kind, state_dim(ids), enc.dim, hidden=16)  # type: ignore[arg-type]
    net = build_model(arch)
    with torch.no_grad():
        net.state_norm.mean.normal_()
        net.state_norm.std.uniform_(0.5, 2.0)
    payload = {
        "arch": arch.to_dict(),
        "state_layout": {"object_ids": list(ids), "state_dim": arch.state_dim},
        "action_scale": {"linear": 0.15, "angular": 0.6},
        "train_texts": TEXTS,
        "train_embeddings": enc.encode(TEXTS),
        "card": json.dumps({"name": f"tiny-{kind}"}),
    }
    weights = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    return get_model_kind(kind).runtime(payload, weights, enc, Path(f"tiny-{kind}.pt"))


class Recorder:
    """The model, recording what the controller asks ``action`` for."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self.asked: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def action(self, state: np.ndarray, lang: np.ndarray, stick: np.ndarray, alpha: float,
               shaping: Any = None) -> tuple[np.ndarray, float | None]:
        self.asked.append((state.copy(), np.array(lang), np.array(stick), alpha, shaping))
        return self.model.action(state, lang, stick, alpha, shaping)


def old_twist(model: LoadedModel, state: np.ndarray, lang: np.ndarray, z: np.ndarray,
              alpha: float, shaping: Any, speed: float) -> np.ndarray:
    """The controller's formula before ``action`` (basis() for latent models, act() for BC)."""
    if model.kind == "bc":
        action, _ = model.policy(state, lang)  # type: ignore[attr-defined]
        a = np.asarray(action, dtype=float).reshape(-1)
        if shaping is not None:
            w, d = shaping
            a = (1.0 - w) * a + w * d * max(float(np.linalg.norm(a)), 1.0)
    else:
        basis = np.asarray(model.basis(state, lang, alpha), dtype=float)  # type: ignore[attr-defined]
        if not is_orthonormal(basis):
            basis = orthonormal_rows(basis)
        if shaping is not None:
            shaped = shape_basis(basis, shaping[1], shaping[0])
            if shaped is not None:
                basis = shaped[0]
        a = z @ basis
    return ActionScale(0.15, 0.6).to_twist(a) * speed


@pytest.mark.parametrize("kind", ["lilac", "lila", "bc"])
def test_controller_twists_through_action_equal_the_old_formula(kind: str) -> None:
    model = Recorder(tiny_model(kind))
    assert isinstance(model.model, ActionModel)
    ctl = SharedAutonomyController(SharedAutonomyConfig(max_linear_speed=100.0,
                                                        max_angular_speed=100.0),
                                   model, forward_kinematics=fake_fk)  # type: ignore[arg-type]
    ctl.on_instruction(INSTRUCTION, T0)
    sticks = [(1.0, 0.0), (0.0, -1.0), (0.6, 0.45), (-0.3, 0.9)]
    checked = shaped = 0
    t = T0
    for phase in ("instruction", "a bit more to the left", "faster", "twist left"):
        if phase != "instruction":
            from ifagent_ros.core.language.parser import CorrectionParser

            c = CorrectionParser().parse(phase, objects=[])
            ctl.on_correction(c.model_copy(update={"text": phase}), t)
        for lx, ly in sticks:
            t += 0.01
            ctl.on_joy([lx, ly, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0] * 11, t)
            ctl.on_joint_state(np.asarray(Q) + 0.01 * len(model.asked), t, 0.08)
            ctl.on_objects(OBJECTS, t, t)
            n = len(model.asked)
            out = ctl.step(t)
            assert out.status["mode"] == model.interface, out.status["reason"]
            assert len(model.asked) == n + 1
            state, lang, z, alpha, shaping = model.asked[-1]
            want = old_twist(model.model, state, lang, z, alpha, shaping, ctl.speed_scale)
            np.testing.assert_array_equal(out.twist, want)
            assert np.any(want != 0.0)
            checked += 1
            shaped += shaping is not None
    assert checked == 16 and shaped >= 4  # the directional corrections did shape the motion
    assert ctl.speed_scale > 1.0  # "faster" was applied


def test_a_policy_gives_its_gripper_probability_and_a_latent_model_none() -> None:
    bc, lilac = tiny_model("bc"), tiny_model("lilac")
    state = np.linspace(-1.0, 1.0, bc.state_dim).astype(np.float32)
    lang = bc.embed(INSTRUCTION)
    a, p = bc.action(state, lang, np.array([0.2, 0.0]), 1.0)
    ref_a, ref_p = bc.policy(state, lang)
    np.testing.assert_array_equal(a, ref_a)
    assert p == ref_p and 0.0 < p < 1.0
    a, p = lilac.action(state, lang, np.array([0.2, -0.5]), 1.0)
    np.testing.assert_array_equal(a, np.array([0.2, -0.5]) @ lilac.basis(state, lang, 1.0))
    assert p is None


def test_latent_action_checks_repairs_and_shapes_the_basis() -> None:
    ex, ey, ez = np.eye(6)[:3]
    z = np.array([0.0, 1.0])
    np.testing.assert_allclose(latent_action(np.stack([2 * ex, ex + ey]), z), ey, atol=1e-12)
    with pytest.raises(ModelOutputError, match="degenerate"):
        latent_action(np.stack([ex, ex]), z)
    with pytest.raises(ModelOutputError, match="NaN or mis-shaped"):
        latent_action(np.full((2, 6), np.nan), z)
    with pytest.raises(ModelOutputError, match="NaN or mis-shaped"):
        latent_action(np.eye(6)[:3], z)
    with pytest.raises(ModelOutputError, match="stick"):
        latent_action(np.stack([ex, ez]), np.array([np.inf, 0.0]))
    shaped = latent_action(np.stack([ex, ez]), np.array([1.0, 0.0]), (1.0, ey))
    np.testing.assert_allclose(shaped, ey, atol=1e-12)  # full weight: row 0 becomes +y


def test_policy_action_checks_and_blends_towards_the_shaping() -> None:
    ex, ey = np.eye(6)[:2]
    a, p = policy_action(0.5 * ex, 0.25, (0.5, ey))
    np.testing.assert_allclose(a, 0.25 * ex + 0.5 * ey)  # |a| < 1: the direction at unit size
    assert p == 0.25
    for bad in ((np.full(6, np.nan), 0.1), (np.zeros(5), 0.1), (ex, float("nan"))):
        with pytest.raises(ModelOutputError, match="NaN or a wrong shape"):
            policy_action(*bad)


def test_a_wrong_answer_from_action_degrades_like_a_failing_model() -> None:
    class Broken:
        kind, interface, object_ids = "lila", "latent", ("red_block",)
        state_dim = state_dim(object_ids)

        def embed(self, text: str) -> np.ndarray:
            return np.ones(4, np.float32)

        def action(self, *args: Any) -> tuple[np.ndarray, float | None]:
            return np.zeros(5), None

    ctl = SharedAutonomyController(model=Broken(), forward_kinematics=fake_fk)  # type: ignore[arg-type]
    ctl.on_instruction(INSTRUCTION, T0)
    ctl.on_joy([1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0] * 11, T0)
    ctl.on_joint_state(Q, T0, 0.08)
    ctl.on_objects(OBJECTS, T0, T0)
    out = ctl.step(T0)
    assert out.status["mode"] == "hold" and np.all(out.twist == 0.0)
    assert "NaN or a wrong shape" in out.status["reason"]


def test_load_action_model_says_why_there_is_none(tmp_path: Path) -> None:
    assert load_action_model("") == (None, "no model_path: end-effector teleop")
    model, why = load_action_model(tmp_path / "nope.pt")
    assert model is None and why is not None and "no such model file" in why
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    model, why = load_action_model(tmp_path / "junk.pt", device="auto")
    assert model is None and why is not None and "unreadable" in why
    assert encoder_device("cpu") == "cpu" and encoder_device("cuda") == "cuda"
    assert encoder_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")


def test_load_action_model_loads_a_checkpoint_of_each_kind(trained: dict[str, Any],
                                                          tmp_path: Path) -> None:
    for kind, runtime in (("lilac", "LatentModel"), ("bc", "PolicyModel")):
        path = save_checkpoint(trained[kind], tmp_path, name=f"tiny-{kind}")["pt"]
        model, why = load_action_model(str(path), device="cpu")
        assert why is None and type(model).__name__ == runtime and model.kind == kind
