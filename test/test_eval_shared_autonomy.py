"""`ifagent eval shared-autonomy` and its episode runner, on short episodes of one task."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fake_action_model import FakeActionModel

from ifagent_ros.bench.shared_autonomy import (
    CONDITIONS,
    EpisodeResult,
    episode_seed,
    make_specs,
    missing_models,
    run_episode,
    run_episodes,
)
from ifagent_ros.bench.shared_autonomy_report import flat_figures, summarize, write_outputs
from ifagent_ros.cli.eval import shared_autonomy as cli
from ifagent_ros.core.latent_actions.state import DEFAULT_OBJECT_IDS
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES

MODELS = Path(__file__).resolve().parents[1] / "models"


class PlaneModel(FakeActionModel):
    """A latent model whose instruction basis spans an oblique horizontal plane only (so the
    user must say "down"/"up"), and whose correction basis moves along the primitive; as BC it
    drives forward and down."""

    def __init__(self, kind: str = "lilac") -> None:
        super().__init__(kind, DEFAULT_OBJECT_IDS, known=(),
                         action=np.array([0.3, 0.0, -0.3, 0.0, 0.0, 0.0]), p_close=0.0)
        self.name = f"plane-{kind}"

    def embed(self, text: str) -> np.ndarray:  # any sentence is known: it gets a new slot
        if text not in self.known:
            self.known.append(text)
        v = np.zeros(64, np.float32)
        v[self.known.index(text)] = 1.0
        return v

    def novelty(self, text: str) -> float:
        return 1.0

    def basis_for(self, text: str) -> np.ndarray:
        for p in PRIMITIVES.values():
            if text in p.phrasings("heldout") + p.phrasings("train"):
                return np.stack([p.twist, np.roll(p.twist, 1)])
        c, s = np.cos(0.5), np.sin(0.5)
        return np.array([[c, s, 0, 0, 0, 0], [-s, c, 0, 0, 0, 0.0]])


def fake_loader(path: str) -> PlaneModel:
    return PlaneModel("bc" if Path(path).stem == "bc" else Path(path).stem)


def _args(tmp_path: Path, **kw) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    argv = ["--episodes", "1", "--tasks", "push", "--workers", "1", "--out",
            str(tmp_path / "out"), "--json", "--quiet"]
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    return parser.parse_args(argv)


def test_seeds_are_shared_across_conditions_and_differ_across_episodes() -> None:
    specs = make_specs(list(CONDITIONS.values()), ["push", "stack"], 3, "models")
    by_cond: dict[str, list[int]] = {}
    for s in specs:
        by_cond.setdefault(s.condition.name, []).append(s.seed)
    assert len({tuple(v) for v in by_cond.values()}) == 1
    assert len(set(by_cond["teleop"])) == 6
    assert episode_seed("push", 0) == episode_seed("push", 0) != episode_seed("push", 1)


@pytest.fixture(scope="module")
def teleop_push() -> EpisodeResult:
    return run_episode(make_specs([CONDITIONS["teleop"]], ["push"], 1, "models",
                                  timeout_s=40.0)[0])


def test_teleop_episode_succeeds_and_is_deterministic(teleop_push: EpisodeResult) -> None:
    spec = make_specs([CONDITIONS["teleop"]], ["push"], 1, "models", timeout_s=40.0)[0]
    a, b = teleop_push, run_episode(spec)
    assert a.success and a.end == "success" and a.time_to_success_s is not None
    assert a.mode_switches >= 1 and a.stick_effort > 0 and a.corrections == 0
    assert (a.time_to_success_s, a.stick_effort, a.interventions) == \
        (b.time_to_success_s, b.stick_effort, b.interventions)


def test_latent_conditions_with_a_fake_model_run_and_only_lilac_speaks() -> None:
    conds = [CONDITIONS["lila"], CONDITIONS["lilac"], CONDITIONS["bc"]]
    specs = [replace(s, timeout_s=12.0) for s in make_specs(conds, ["push"], 1, "models")]
    res = {r.condition: r for r in run_episodes(specs, workers=1, loader=fake_loader)}
    assert res["lilac"].corrections >= 1 and res["lilac"].said
    assert all(t in PRIMITIVES["down"].phrasings("heldout") for t in res["lilac"].said[:1])
    assert res["lila"].corrections == 0 and res["bc"].corrections == 0
    for r in res.values():
        assert r.latent_fraction > 0.5, r  # the model drove, not the teleop fallback
        assert r.controller_step_us and r.duration_s <= 12.0 + 0.05
    summary = summarize(list(res.values()))
    assert summary["overall"]["lilac"]["corrections_per_episode"] >= 1


def test_missing_checkpoint_is_skipped_with_the_train_command(tmp_path: Path) -> None:
    why = missing_models([CONDITIONS["lilac"], CONDITIONS["teleop"]], tmp_path)
    assert set(why) == {"lilac"}
    assert str(tmp_path / "lilac.pt") in why["lilac"] and "ifagent train --model lilac" in \
        why["lilac"]


def test_cli_writes_results_csv_plots_and_one_json_object(tmp_path: Path, capsys) -> None:
    args = _args(tmp_path, conditions="teleop,lilac", models=tmp_path / "no_models",
                 timeout=40)
    assert cli.run(args) == 0
    captured = capsys.readouterr()
    figs = json.loads(captured.out.strip().splitlines()[-1])
    assert figs["teleop_success_rate"] == 1.0 and figs["teleop_episodes"] == 1
    assert figs["teleop_median_time_s"] > 0 and figs["skipped_conditions"] == ["lilac"]
    assert "ifagent train --model lilac" in captured.err
    out = Path(figs["out"])
    for name in ("results.json", "episodes.csv", "success.png", "time_to_success.png"):
        assert (out / name).stat().st_size > 0, name
    data = json.loads((out / "results.json").read_text())
    assert data["summary"]["per_task"]["teleop"]["push"]["episodes"] == 1
    assert (out / "episodes.csv").read_text().count("\n") == 2


def test_report_speedup_uses_episodes_both_succeeded(tmp_path: Path,
                                                    teleop_push: EpisodeResult) -> None:
    t = teleop_push
    fast = replace(t, condition="lilac", time_to_success_s=t.time_to_success_s / 2)
    failed = replace(t, condition="lilac", index=1, success=False, time_to_success_s=None)
    summary = summarize([t, fast, failed])
    assert summary["lilac_speedup_vs_teleop"] == pytest.approx(2.0, rel=1e-3)
    assert summary["lilac_speedup_pairs"] == 1
    assert summary["overall"]["lilac"]["success_rate"] == 0.5
    figs = flat_figures(summary)
    assert figs["lilac_speedup_vs_teleop"] == summary["lilac_speedup_vs_teleop"]
    paths = write_outputs(tmp_path, [t, fast, failed], summary, {"test": True})
    assert paths["success_png"].stat().st_size > 0


def test_cli_rejects_unknown_task(tmp_path: Path) -> None:
    args = _args(tmp_path)
    args.tasks = "juggle"
    assert cli.run(args) == 2


def test_real_lilac_model_runs_an_episode(tmp_path: Path, capsys) -> None:
    args = _args(tmp_path, conditions="lilac", models=MODELS, timeout=30)
    assert cli.run(args) == 0
    figs = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figs["lilac_episodes"] == 1 and figs["lilac_model_p50_us"] > 0
