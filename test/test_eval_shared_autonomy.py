"""`ifagent eval shared-autonomy` and its episode runner, on short episodes of one task."""

from __future__ import annotations

import argparse
import json
import sys
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from fake_action_model import FakeActionModel

from ifagent_ros.bench import shared_autonomy as sa
from ifagent_ros.bench.shared_autonomy import (
    CONDITIONS,
    EpisodeResult,
    episode_seed,
    make_specs,
    missing_models,
    run_episode,
    run_episodes,
)
from ifagent_ros.bench.shared_autonomy_report import (
    flat_figures,
    format_table,
    summarize,
    write_outputs,
)
from ifagent_ros.cli.eval import shared_autonomy as cli
from ifagent_ros.core.latent_actions.state import DEFAULT_OBJECT_IDS
from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, TaskFamily

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


# ---------------------------------------------------------------------- user models, task sets
def test_laggy_and_noisy_pilots_drive_the_same_episode_reproducibly(
        teleop_push: EpisodeResult) -> None:
    base = make_specs([CONDITIONS["teleop"]], ["push"], 1, "models", timeout_s=40.0)[0]
    assert base.user_model == "sim" and teleop_push.user_model == "sim"
    assert teleop_push.pilot_overrides == 0
    for name in ("laggy", "noisy"):
        spec = make_specs([CONDITIONS["teleop"]], ["push"], 1, "models", timeout_s=40.0,
                          user_model=name)[0]
        assert spec.seed == base.seed  # same scene and person, only the pilot differs
        a, b = run_episode(spec), run_episode(spec)
        assert a.user_model == name and a.pilot_overrides > 0
        assert (a.duration_s, a.stick_effort, a.pilot_overrides, a.success) == \
            (b.duration_s, b.stick_effort, b.pilot_overrides, b.success)
        assert (a.duration_s, a.stick_effort) != (teleop_push.duration_s,
                                                  teleop_push.stick_effort)
        # rough share of messages the pilot replaced (stick steps only approximated by time)
        messages = a.duration_s * spec.user.rate_hz
        share = a.pilot_overrides / messages
        assert (0.6 < share < 0.9) if name == "laggy" else (0.05 < share < 0.3), share


def test_make_specs_rejects_an_unknown_user_model() -> None:
    with pytest.raises(ValueError, match="known user models: sim, laggy, noisy"):
        make_specs([CONDITIONS["teleop"]], ["push"], 1, "models", user_model="drunk")


def test_cli_user_laggy_reports_the_user_model_and_intervals(tmp_path: Path, capsys) -> None:
    args = _args(tmp_path, conditions="teleop", user="laggy", timeout=40)
    assert cli.run(args) == 0
    out = capsys.readouterr().out
    figs = json.loads(out.strip().splitlines()[-1])
    assert figs["user_model"] == "laggy" and figs["user_models"] == ["laggy"]
    assert "user model: laggy" in out and "95% CI" in out
    n_ok = round(figs["teleop_success_rate"])
    lo, hi = figs["teleop_success_ci95"]  # Wilson of k/1: [0, 0.79] or [0.21, 1]
    assert (lo, hi) == ((0.2065, 1.0) if n_ok else (0.0, 0.7935))
    cell = figs["per_task"]["teleop"]["push"]
    for key in ("success_rate", "success_ci95", "median_time_s", "effort_stick_s",
                "corrections_per_episode", "mode_switches_per_episode",
                "interventions_per_episode"):
        assert key in cell, key
    rows = (Path(figs["out"]) / "episodes.csv").read_text().splitlines()
    header = rows[0].split(",")
    row = dict(zip(header, rows[1].split(","), strict=False))
    assert row["user_model"] == "laggy" and int(row["pilot_overrides"]) > 0
    meta = json.loads((Path(figs["out"]) / "results.json").read_text())["meta"]
    assert meta["user_model"] == "laggy"


def test_cli_rejects_an_unknown_user_model_naming_the_known(tmp_path: Path, capsys) -> None:
    args = _args(tmp_path, user="drunk")
    assert cli.run(args) == 2
    assert "known user models: sim, laggy, noisy" in capsys.readouterr().err


def test_task_sets_easy_is_the_five_families_and_the_default(tmp_path: Path) -> None:
    assert sa.resolve_tasks("easy") == list(sa.EASY_TASKS) == [
        "pick_place_bowl", "pick_place_plate", "push", "stack", "far_side"]
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert args.tasks == "easy" and args.user == "sim"
    assert sa.resolve_tasks("push, stack") == ["push", "stack"]
    with pytest.raises(ValueError, match="unknown task.*task sets: easy, paper, all"):
        sa.resolve_tasks("juggle")


def test_paper_task_set_errors_until_it_is_registered(monkeypatch, tmp_path: Path,
                                                      capsys) -> None:
    monkeypatch.setattr(sa, "PAPER_TASKS_MODULE", "ifagent_test_no_such_paper_tasks")
    for text in ("paper", "all"):
        with pytest.raises(ValueError, match="paper task set is not registered yet.*"
                                             "registered task families: pick_place_bowl"):
            sa.resolve_tasks(text)
    args = _args(tmp_path)
    args.tasks = "paper"
    assert cli.run(args) == 2
    err = capsys.readouterr().err
    assert "not registered yet" in err and "push" in err
    assert not (tmp_path / "out").exists()  # nothing run, nothing written


class _Planned(TaskFamily):
    name = "planned_paper"

    def waypoints(self, params, objects):
        return []


def test_registered_paper_tasks_the_runner_cannot_drive_are_a_clear_error(
        monkeypatch) -> None:
    fake = types.ModuleType("ifagent_test_paper_tasks")
    unplanned = type("Unplanned", (TaskFamily,), {"name": "open_drawer"})()
    fake.PAPER_FAMILIES = {"open_drawer": unplanned, "planned_paper": _Planned()}
    fake.task_set = lambda which: {"paper": tuple(fake.PAPER_FAMILIES)}[which]
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(sa, "PAPER_TASKS_MODULE", fake.__name__)
    for text in ("paper", "all", "push,open_drawer"):
        with pytest.raises(ValueError, match="cannot run them yet: the simulated operator has "
                                             "no plan \\(waypoints\\) for open_drawer;.*"
                                             "runnable task families: pick_place_bowl"):
            sa.resolve_tasks(text)
    with pytest.raises(ValueError, match="cannot run them yet: run_episode drives only"):
        sa.resolve_tasks("planned_paper")  # a plan, but no paper world in the runner
    with pytest.raises(ValueError, match="unknown task \\['juggle'\\].*open_drawer"):
        sa.resolve_tasks("push,juggle")
    assert sa.resolve_tasks("stack,push,stack") == ["stack", "push"]


def _timed(t: EpisodeResult, cond: str, index: int, time_s: float | None,
           task: str = "push") -> EpisodeResult:
    return replace(t, condition=cond, index=index, task=task, success=time_s is not None,
                   time_to_success_s=time_s)


def test_report_wilson_interval_and_bootstrap_speedup_interval(
        teleop_push: EpisodeResult) -> None:
    t = teleop_push
    teleop = [10.0, 12.0, 14.0, 16.0, 20.0, 9.0]
    lilac = [5.0, 6.0, 9.0, 8.0, None, 4.5]  # one failure: 5 pairs
    res = [_timed(t, "teleop", i, v) for i, v in enumerate(teleop)] + \
        [_timed(t, "lilac", i, v) for i, v in enumerate(lilac)]
    s = summarize(res)
    cell = s["overall"]["lilac"]
    assert cell["success_rate"] == pytest.approx(5 / 6, abs=1e-4)
    assert cell["success_ci95"] == pytest.approx([0.4365, 0.9699], abs=1e-4)  # Wilson 5/6
    assert s["overall"]["teleop"]["success_ci95"] == pytest.approx([0.6097, 1.0], abs=1e-4)
    sp = s["lilac_speedup_vs_teleop"]
    assert sp == pytest.approx(np.median([10, 12, 14, 16, 9]) / np.median([5, 6, 9, 8, 4.5]),
                               abs=1e-3) and s["lilac_speedup_pairs"] == 5
    lo, hi = s["lilac_speedup_ci95"]
    assert lo <= sp <= hi and lo < hi
    assert s["lilac_speedup_ci95"] == summarize(res)["lilac_speedup_ci95"]  # seeded
    assert s["lilac_speedup_per_task_ci95"]["push"] == s["lilac_speedup_ci95"]
    # one pair: a speed-up but no interval
    one = summarize([_timed(t, "teleop", 0, 10.0), _timed(t, "lilac", 0, 5.0)])
    assert one["lilac_speedup_vs_teleop"] == 2.0 and one["lilac_speedup_ci95"] is None
    figs = flat_figures(s)
    assert figs["lilac_success_ci95"] == cell["success_ci95"]
    assert figs["lilac_speedup_ci95"] == [lo, hi]
    assert figs["per_task"]["lilac"]["push"]["success_ci95"] == cell["success_ci95"]
    table = format_table(s)
    assert "[44%, 97%]" in table and f"[{lo:.2f}, {hi:.2f}]" in table
