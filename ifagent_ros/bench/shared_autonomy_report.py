"""Figures, table, files and plots of the shared-autonomy evaluation (``bench/shared_autonomy.py``).

* :func:`summarize`: per condition x task and per condition: success rate with its Wilson 95 %
  interval, median time to success (successful episodes), stick effort, corrections, limit
  interventions, mode switches and button presses per episode, controller step time; LILAC's
  speed-up over teleop as the ratio of median times on the episodes (same task, same scene)
  that both succeeded, overall and per task, with a seeded percentile-bootstrap 95 % interval
  over those paired episodes (:func:`speedup_interval`).
* :func:`format_table`, :func:`write_outputs` (``results.json``, ``episodes.csv``, PNG plots).
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.bench.shared_autonomy import EpisodeResult
from ifagent_ros.core.campaign.stats import wilson

GOAL_SUCCESS = 0.9
GOAL_SPEEDUP = 1.5
BOOTSTRAP_RESAMPLES = 5000
BOOTSTRAP_SEED = 0


def _median(xs: Sequence[float]) -> float | None:
    return round(float(statistics.median(xs)), 3) if xs else None


def _mean(xs: Sequence[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if xs else None


def _cell(eps: Sequence[EpisodeResult]) -> dict[str, Any]:
    times = [e.time_to_success_s for e in eps if e.time_to_success_s is not None]
    ci = wilson(sum(bool(e.success) for e in eps), len(eps))
    return {
        "episodes": len(eps),
        "success_rate": round(sum(e.success for e in eps) / len(eps), 4) if eps else None,
        "success_ci95": None if ci is None else [round(ci.low, 4), round(ci.high, 4)],
        "median_time_s": _median(times),
        "effort_stick_s": _mean([e.stick_effort for e in eps]),
        "corrections_per_episode": _mean([e.corrections for e in eps]),
        "reverts_per_episode": _mean([e.reverts for e in eps]),
        "interventions_per_episode": _mean([e.interventions for e in eps]),
        "mode_switches_per_episode": _mean([e.mode_switches for e in eps]),
        "button_presses_per_episode": _mean([e.button_presses for e in eps]),
        "latent_fraction": _mean([e.latent_fraction for e in eps]),
        "ends": {k: sum(e.end == k for e in eps) for k in sorted({e.end for e in eps})},
    }


def paired_times(results: Sequence[EpisodeResult], fast: str, slow: str,
                 task: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Times to success of ``fast`` and ``slow`` on the episodes (task, index) both succeeded,
    in the same order."""
    def times(cond: str) -> dict[tuple[str, int], float]:
        return {(e.task, e.index): e.time_to_success_s for e in results
                if e.condition == cond and e.time_to_success_s is not None
                and (task is None or e.task == task)}
    a, b = times(fast), times(slow)
    both = sorted(set(a) & set(b))
    return (np.array([a[k] for k in both], dtype=float),
            np.array([b[k] for k in both], dtype=float))


def speedup(results: Sequence[EpisodeResult], fast: str, slow: str,
            task: str | None = None) -> tuple[float | None, int]:
    """median(slow times) / median(fast times) over the episodes both succeeded; and how many."""
    a, b = paired_times(results, fast, slow, task)
    if not a.size:
        return None, 0
    return round(float(np.median(b)) / float(np.median(a)), 3), int(a.size)


def speedup_interval(results: Sequence[EpisodeResult], fast: str, slow: str,
                     task: str | None = None, *, n_boot: int = BOOTSTRAP_RESAMPLES,
                     seed: int = BOOTSTRAP_SEED, level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of :func:`speedup`: the paired episodes (both succeeded)
    resampled with replacement as pairs, with a seeded generator (same results, same interval).
    None with fewer than two pairs (one pair has no spread to resample)."""
    a, b = paired_times(results, fast, slow, task)
    if a.size < 2:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, a.size, (n_boot, a.size))
    ratios = np.median(b[idx], axis=1) / np.median(a[idx], axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return [round(float(low), 3), round(float(high), 3)]


def summarize(results: Sequence[EpisodeResult], skipped: Mapping[str, str] | None = None,
              model_timing: Mapping[str, Mapping[str, Any]] | None = None
              ) -> dict[str, Any]:
    conditions = list(dict.fromkeys(e.condition for e in results))
    tasks = list(dict.fromkeys(e.task for e in results))
    per_task = {c: {t: _cell([e for e in results if e.condition == c and e.task == t])
                    for t in tasks} for c in conditions}
    overall = {c: _cell([e for e in results if e.condition == c]) for c in conditions}
    for c in conditions:
        us = np.concatenate([np.asarray(e.controller_step_us, dtype=float)
                             for e in results if e.condition == c] or [np.zeros(0)])
        overall[c]["controller_step_p50_us"] = round(float(np.percentile(us, 50)), 1) \
            if us.size else None
        overall[c]["controller_step_p99_us"] = round(float(np.percentile(us, 99)), 1) \
            if us.size else None
    out: dict[str, Any] = {"conditions": conditions, "tasks": tasks, "per_task": per_task,
                           "overall": overall, "skipped": dict(skipped or {}),
                           "model_timing": {k: dict(v) for k, v in (model_timing or {}).items()}}
    sp, n = speedup(results, "lilac", "teleop")
    out["lilac_speedup_vs_teleop"] = sp
    out["lilac_speedup_pairs"] = n
    out["lilac_speedup_ci95"] = speedup_interval(results, "lilac", "teleop")
    out["lilac_speedup_per_task"] = {t: speedup(results, "lilac", "teleop", t)[0] for t in tasks}
    out["lilac_speedup_per_task_ci95"] = {t: speedup_interval(results, "lilac", "teleop", t)
                                          for t in tasks}
    out["user_models"] = sorted({getattr(e, "user_model", "sim") for e in results})
    if "lilac" in overall:
        ok = (overall["lilac"]["success_rate"] or 0.0) >= GOAL_SUCCESS and \
            sp is not None and sp >= GOAL_SPEEDUP
        out["goal_met"] = ok
    return out


def flat_figures(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The one JSON object of ``--json``: ``<condition>_<figure>`` keys plus the speed-up."""
    figs: dict[str, Any] = {}
    for c, cell in summary["overall"].items():
        for k in ("episodes", "success_rate", "success_ci95", "median_time_s", "effort_stick_s",
                  "corrections_per_episode", "interventions_per_episode",
                  "mode_switches_per_episode", "button_presses_per_episode",
                  "controller_step_p50_us", "controller_step_p99_us"):
            figs[f"{c}_{k}"] = cell.get(k)
    for c, t in summary.get("model_timing", {}).items():
        figs[f"{c}_model_p50_us"] = round(float(t["p50_us"]), 2)
        figs[f"{c}_model_p99_us"] = round(float(t["p99_us"]), 2)
    figs["lilac_speedup_vs_teleop"] = summary.get("lilac_speedup_vs_teleop")
    figs["lilac_speedup_ci95"] = summary.get("lilac_speedup_ci95")
    figs["lilac_speedup_pairs"] = summary.get("lilac_speedup_pairs")
    figs["user_models"] = list(summary.get("user_models", []))
    figs["per_task"] = {c: {t: {k: v for k, v in cell.items() if k != "ends"}
                            for t, cell in cells.items()}
                        for c, cells in summary["per_task"].items()}
    figs["lilac_speedup_per_task"] = dict(summary.get("lilac_speedup_per_task", {}))
    figs["lilac_speedup_per_task_ci95"] = dict(summary.get("lilac_speedup_per_task_ci95", {}))
    if "goal_met" in summary:
        figs["goal_met"] = summary["goal_met"]
    figs["skipped_conditions"] = sorted(summary.get("skipped", {}))
    return figs


def _fmt(v: Any, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def _ci(ci: Sequence[float] | None, spec: str) -> str:
    return "" if ci is None else f"[{format(ci[0], spec)}, {format(ci[1], spec)}]"


def format_table(summary: Mapping[str, Any]) -> str:
    head = (f"{'condition':<9} {'task':<17} {'n':>3} {'success':>8} {'95% CI':>12} "
            f"{'median s':>9} {'effort':>7} {'corr/ep':>8} {'interv/ep':>10} {'modes/ep':>9}")
    lines = []
    if summary.get("user_models"):
        lines.append(f"user model: {', '.join(summary['user_models'])}")
    lines += [head, "-" * len(head)]
    for c in summary["conditions"]:
        rows = [*summary["per_task"][c].items(), ("ALL", summary["overall"][c])]
        for t, cell in rows:
            lines.append(
                f"{c:<9} {t:<17} {cell['episodes']:>3} {_fmt(cell['success_rate'], '.0%'):>8} "
                f"{_ci(cell.get('success_ci95'), '.0%'):>12} "
                f"{_fmt(cell['median_time_s'], '.1f'):>9} {_fmt(cell['effort_stick_s'], '.1f'):>7} "
                f"{_fmt(cell['corrections_per_episode']):>8} "
                f"{_fmt(cell['interventions_per_episode'], '.1f'):>10} "
                f"{_fmt(cell['mode_switches_per_episode'], '.1f'):>9}")
        lines.append("")
    for c in summary["conditions"]:
        o = summary["overall"][c]
        if o.get("controller_step_p50_us") is not None:
            lines.append(f"{c}: controller step p50 {o['controller_step_p50_us']:.0f} us, "
                         f"p99 {o['controller_step_p99_us']:.0f} us")
    for c, t in summary.get("model_timing", {}).items():
        lines.append(f"{c}: model inference per step p50 {t['p50_us']:.1f} us, p99 "
                     f"{t['p99_us']:.1f} us (goal <= 200 us)")
    sp = summary.get("lilac_speedup_vs_teleop")
    if sp is not None:
        ci = summary.get("lilac_speedup_ci95")
        ci_text = f", 95% CI {_ci(ci, '.2f')}" if ci else ", no interval from one pair"
        lines.append(f"LILAC speed-up over teleop: {sp:.2f}x{ci_text} (median time on the "
                     f"{summary['lilac_speedup_pairs']} episodes both succeeded; goal >= "
                     f"{GOAL_SPEEDUP}x)")
        for t, v in summary.get("lilac_speedup_per_task", {}).items():
            if v is not None:
                tci = summary.get("lilac_speedup_per_task_ci95", {}).get(t)
                lines.append(f"  {t}: {v:.2f}x {_ci(tci, '.2f')}".rstrip())
    for c, why in summary.get("skipped", {}).items():
        lines.append(f"skipped {c}: {why}")
    return "\n".join(lines)


def write_outputs(out_dir: str | Path, results: Sequence[EpisodeResult],
                  summary: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "csv": out / "episodes.csv",
             "success_png": out / "success.png", "time_png": out / "time_to_success.png"}
    paths["json"].write_text(json.dumps({"meta": dict(meta), "summary": summary,
                                         "figures": flat_figures(summary)}, indent=1) + "\n")
    rows = [r.row() for r in results]
    with paths["csv"].open("w", newline="") as f:
        if rows:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    _plots(paths, results, summary)
    return paths


def _plots(paths: Mapping[str, Path], results: Sequence[EpisodeResult],
           summary: Mapping[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conds, tasks = summary["conditions"], summary["tasks"]
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(tasks) + 2), 4))
    width = 0.8 / max(len(conds), 1)
    x = np.arange(len(tasks) + 1)
    for i, c in enumerate(conds):
        vals = [summary["per_task"][c][t]["success_rate"] or 0.0 for t in tasks]
        vals.append(summary["overall"][c]["success_rate"] or 0.0)
        ax.bar(x + (i - (len(conds) - 1) / 2) * width, vals, width, label=c)
    ax.set_xticks(x, [*tasks, "all"], rotation=20)
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1.05)
    ax.axhline(GOAL_SUCCESS, color="k", lw=0.8, ls="--")
    ax.legend(fontsize=8)
    ax.set_title("Shared autonomy: success per condition and task")
    fig.tight_layout()
    fig.savefig(paths["success_png"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, 1.5 * len(conds) + 2), 4))
    data = [[e.time_to_success_s for e in results if e.condition == c and e.success]
            for c in conds]
    ax.boxplot([d if d else [np.nan] for d in data])
    ax.set_xticks(np.arange(1, len(conds) + 1), conds)
    ax.set_ylabel("time to success (sim s)")
    ax.set_title("Time to success (successful episodes, all tasks)")
    fig.tight_layout()
    fig.savefig(paths["time_png"], dpi=100)
    plt.close(fig)
