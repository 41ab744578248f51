"""`ifagent train` end to end on the synthetic dataset (tiny epochs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ifagent_ros.cli import train as cli_train
from ifagent_ros.core.latent_actions.checkpoint import load_model


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_train.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_train_writes_checkpoint_card_and_json(
    synthetic_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args(
        "--model",
        "bc",
        "--data",
        str(synthetic_root),
        "--out",
        str(tmp_path),
        "--epochs",
        "3",
        "--hidden",
        "16",
        "--device",
        "cpu",
        "--encoder",
        "hashed-words:64",
        "--quiet",
        "--json",
    )
    assert cli_train.run(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(out[-1])
    assert figures["model"] == "bc" and figures["epochs_run"] == 3
    assert 0 <= figures["heldout_action_mse"] and figures["inference_p50_us"] > 0
    for suffix in (".pt", ".md", ".json"):
        assert (tmp_path / f"bc{suffix}").is_file()
    card = json.loads((tmp_path / "bc.json").read_text())
    assert card["inference"]["p99_us"] == pytest.approx(figures["inference_p99_us"])
    assert load_model(tmp_path / "bc.pt").kind == "bc"


def test_train_without_a_dataset_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args(
        "--model",
        "lilac",
        "--data",
        str(tmp_path / "none"),
        "--out",
        str(tmp_path),
        "--encoder",
        "hashed-words:8",
    )
    assert cli_train.run(args) == 2
    assert "index.json: missing" in capsys.readouterr().err
    assert not any(tmp_path.glob("*.pt"))
