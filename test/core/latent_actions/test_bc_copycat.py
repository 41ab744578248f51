"""BC must not copy its own last action through the features its demos hold constant.

In the tabletop demos the scripted expert holds the gripper pointing down to ~1 mrad; what the
six orientation features vary is the executor's tracking wobble, a trace of the action being
executed. The first shipped BC read it (first-layer weights 3-10x those of any other input), and
in closed loop a 1 degree tilt, made by its own small angular errors within a second, flipped its
vertical command and ran the arm into the workspace limits (0 % success, ~2,900 limit
interventions per episode). Here a synthetic reach task carries the same trace: the action is a
function of the object offset, and the orientation slots hold ``pointing down + 0.002 * action``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ifagent_ros.core.latent_actions.checkpoint import load_model, save_checkpoint
from ifagent_ros.core.latent_actions.dataset import DatasetMeta, DatasetWriter, load_dataset
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder
from ifagent_ros.core.latent_actions.kinds.bc import IGNORED_STD, quiet_features
from ifagent_ros.core.latent_actions.models import STD_FLOOR
from ifagent_ros.core.latent_actions.training import TrainConfig, TrainResult, train

STATE_DIM = 20  # 17 robot features + one object
ROT = slice(10, 16)  # the two rotation-matrix columns of state.build_state
DOWN = np.array([1.0, 0.0, 0.0, 0.0, -1.0, 0.0])
PHRASINGS = {"reach": {"train": ["reach the {obj}", "go to the {obj}", "move to the {obj}"],
                       "heldout": ["approach the {obj}"]}}


def _write(root: Path, demos: int = 30, steps: int = 40) -> Path:
    rng = np.random.default_rng(0)
    meta = DatasetMeta(object_ids=("cube",), state_dim=STATE_DIM, action_rate_hz=10.0,
                       scene="synthetic copycat", phrasings=PHRASINGS)
    with DatasetWriter(root, meta) as writer:
        for i in range(demos):
            split = "heldout" if i % 10 == 0 else "train"
            states = rng.normal(size=(steps, STATE_DIM))
            offset = states[:, 17:20]
            actions = np.zeros((steps, 6))
            actions[:, :3] = (offset / np.linalg.norm(offset, axis=1, keepdims=True)
                              * rng.uniform(0.3, 1.0, (steps, 1)))
            states[:, ROT] = DOWN + 0.002 * np.hstack([actions[:, :3], actions[:, :3]])
            texts = PHRASINGS["reach"][split]
            writer.add_demo(states.astype(np.float32), actions.astype(np.float32),
                            np.zeros(steps, np.float32), task="reach", kind="task",
                            text=texts[i % len(texts)].format(obj="cube"), split=split,
                            alpha=1.0, seed=i, params={"obj": "cube"})
    return root


@pytest.fixture(scope="module")
def encoder() -> HashedWordsEncoder:
    return HashedWordsEncoder(64)


@pytest.fixture(scope="module")
def copycat_bc(tmp_path_factory: pytest.TempPathFactory,
               encoder: HashedWordsEncoder) -> TrainResult:
    ds = load_dataset(_write(tmp_path_factory.mktemp("copycat") / "data"))
    cfg = TrainConfig(model="bc", epochs=60, hidden=32, batch=64, lr=3e-3, patience=60,
                      device="cpu")
    return train(ds, encoder, cfg)


def _probe_states() -> np.ndarray:
    s = np.random.default_rng(1).normal(size=(200, STATE_DIM))
    s[:, ROT] = DOWN
    return s.astype(np.float32)


def _tilted(s: np.ndarray, by: float = 0.02) -> np.ndarray:
    """About a 1 degree tilt: the rotation columns' z components move by ``by``."""
    t = s.copy()
    t[:, 12] += by
    t[:, 15] += by
    return t


def test_a_one_degree_tilt_does_not_move_the_policy(copycat_bc: TrainResult,
                                                    encoder: HashedWordsEncoder) -> None:
    model = copycat_bc.model
    s = _probe_states()
    lang = torch.from_numpy(encoder.encode(["reach the cube"])).expand(len(s), -1)
    with torch.no_grad():
        a0, _ = model(torch.from_numpy(s), lang)
        a1, _ = model(torch.from_numpy(_tilted(s)), lang)
    change = (a1 - a0)[:, :3].norm(dim=1)
    assert float(change.max()) < 1e-3  # the copying BC moved by 0.84 on average, 1.3 at most
    # ... and it still reads the real signal: towards the object
    offset = torch.from_numpy(s[:, 17:20])
    cos = torch.nn.functional.cosine_similarity(a0[:, :3], offset, dim=1)
    assert float(cos.mean()) > 0.95


def test_the_quiet_features_are_the_ones_fitted_blind(copycat_bc: TrainResult) -> None:
    std = copycat_bc.model.state_norm.std.numpy()
    assert list(quiet_features(std)) == list(range(10, 16))
    others = np.delete(std, range(10, 16))
    assert np.all(others >= STD_FLOOR) and np.all(others < IGNORED_STD)


def test_the_saved_checkpoint_is_blind_to_them_too(copycat_bc: TrainResult, tmp_path: Path,
                                                   encoder: HashedWordsEncoder) -> None:
    paths = save_checkpoint(copycat_bc, tmp_path)
    loaded = load_model(paths["pt"], encoder=encoder)
    lang = encoder.embed("reach the cube")
    s = _probe_states()
    for row, tilted in zip(s[:20], _tilted(s[:20], 0.2)):
        a0, p0 = loaded.action(row, lang, np.array([0.0, 0.7]), 1.0)
        a1, p1 = loaded.action(tilted, lang, np.array([0.0, 0.7]), 1.0)
        np.testing.assert_allclose(a1, a0, atol=1e-4)
        assert p1 == pytest.approx(p0, abs=1e-4)
