"""Shared fixtures: a synthetic dataset and tiny trained models (trained once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import write_synthetic  # noqa: E402

from ifagent_ros.core.latent_actions.dataset import Dataset, load_dataset  # noqa: E402
from ifagent_ros.core.latent_actions.encoders import HashedWordsEncoder  # noqa: E402
from ifagent_ros.core.latent_actions.training import TrainConfig, TrainResult, train  # noqa: E402

TINY = {"epochs": 60, "hidden": 32, "batch": 64, "lr": 3e-3, "patience": 60, "device": "cpu"}


@pytest.fixture(scope="session")
def encoder() -> HashedWordsEncoder:
    return HashedWordsEncoder(64)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synthetic") / "data")


@pytest.fixture(scope="session")
def synthetic(synthetic_root: Path) -> Dataset:
    return load_dataset(synthetic_root)


@pytest.fixture(scope="session")
def trained(synthetic: Dataset, encoder: HashedWordsEncoder) -> dict[str, TrainResult]:
    return {
        kind: train(synthetic, encoder, TrainConfig(model=kind, **TINY))
        for kind in ("lilac", "lila", "bc")
    }
