"""The report of a campaign run folder: ``summary.json`` (every figure, unit-named keys) and a
self-contained ``report.html`` (plots as PNG data URIs, no scripts, no external resources).

Reads only ``campaign.json`` and ``episodes/*/episode.json`` (plus each episode's optional
``trajectory.json`` and ``snapshot.png`` for the gallery), as the contract in ``types.py`` says.
Success rates count ``ok`` episodes only: ``failed`` ones (crashed, hung, unreadable bag) and
``invalid`` ones (the operator voided them) are counted and listed apart, with their reasons.
Plots: ``report_plots.py``; the page: ``report_html.py``.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ifagent_ros.core.campaign.run_folder import CampaignError
from ifagent_ros.core.campaign.stats import (
    factor_association,
    fisher_exact_p,
    summary_stats,
    wilson,
)
from ifagent_ros.core.campaign.types import CampaignIndex, EpisodeRecord

__all__ = ["GALLERY_MAX", "METRIC_DIRECTIONS", "WATCHDOG_GOAL_MS", "RunData", "load_run",
           "json_ready", "load_trajectory", "metric_values", "numeric", "success_counts",
           "summarize", "write_report"]

SUMMARY_SCHEMA = "ifagent.campaign.summary/1"
WATCHDOG_GOAL_MS = 150.0   # the arm stops within 150 ms of its command stream going silent
GALLERY_MAX = 12

# Continuous metrics the report tabulates and compare/gap test: +1 higher is better, -1 lower is
# better, 0 neither (path length: longer is not worse by itself; SPL judges it).
METRIC_DIRECTIONS: dict[str, int] = {
    "episode_time_s": -1, "time_to_success_s": -1, "path_length_m": 0, "spl": 1,
    "navigation_error_m": -1, "stick_effort_s": -1, "corrections": -1,
    "limit_interventions": -1, "joint_speed_peak_ratio": -1, "joint_acc_peak_ratio": -1,
    "command_speed_peak_ratio": -1, "command_acc_peak_ratio": -1,
    "joint_limit_violations": -1, "estop_reaction_ms": -1, "watchdog_reaction_ms": -1,
    "brake_from_kill_ms": -1, "nodes_crashed": -1, "perception_position_error_m": -1,
    "perception_recall": 1,
}


@dataclass
class RunData:
    """A loaded run folder. ``records``: the readable ``episode.json`` s, in campaign order;
    ``pending``: episode ids of the index without one; ``warnings``: what was skipped and why."""

    path: Path
    index: CampaignIndex
    records: list[EpisodeRecord]
    pending: list[str]
    warnings: list[str]

    @property
    def conditions(self) -> list[str]:
        names = [row.condition for row in self.index.episodes]
        names += [r.spec.condition for r in self.records]
        return list(dict.fromkeys(names))

    def folder(self, episode_id: str) -> Path:
        return self.path / "episodes" / episode_id

    def ok(self, condition: str | None = None) -> list[EpisodeRecord]:
        return [r for r in self.records if r.status == "ok"
                and (condition is None or r.spec.condition == condition)]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_run(path: str | Path) -> RunData:
    """Read a run folder; :class:`CampaignError` (exit code 2) when it is not one. A corrupt
    ``episode.json`` is skipped with a warning naming it."""
    run_dir = Path(path)
    if not run_dir.exists():
        raise CampaignError(f"run folder {run_dir} does not exist")
    if not run_dir.is_dir():
        raise CampaignError(f"{run_dir} is not a folder (give a run folder, e.g. runs/NAME)")
    index_path = run_dir / "campaign.json"
    if not index_path.is_file():
        raise CampaignError(f"{run_dir} has no campaign.json: not a campaign run folder "
                            "(`ifagent campaign run` writes one)")
    try:
        index = CampaignIndex.model_validate_json(index_path.read_bytes())
    except (OSError, ValueError, ValidationError) as exc:
        raise CampaignError(f"{index_path} is unreadable: {_first_line(exc)}") from None

    ids = [row.episode_id for row in index.episodes]
    episodes_dir = run_dir / "episodes"
    if episodes_dir.is_dir():  # finished episodes the index does not list yet (runner killed)
        known = set(ids)
        ids += sorted(p.name for p in episodes_dir.iterdir()
                      if p.name not in known and (p / "episode.json").is_file())
    records: list[EpisodeRecord] = []
    pending: list[str] = []
    warnings: list[str] = []
    for episode_id in ids:
        file = episodes_dir / episode_id / "episode.json"
        if not file.is_file():
            pending.append(episode_id)
            continue
        try:
            record = EpisodeRecord.model_validate_json(file.read_bytes())
        except (OSError, ValueError, ValidationError) as exc:
            warnings.append(f"skipped {file}: unreadable episode.json ({_first_line(exc)})")
            continue
        if record.spec.episode_id != episode_id:
            warnings.append(f"skipped {file}: it is episode {record.spec.episode_id!r}, "
                            f"not {episode_id!r}")
            continue
        records.append(record)
    return RunData(run_dir, index, records, pending, warnings)


def numeric(value: Any) -> float | None:
    """A finite number (bools are not numbers here), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def metric_values(records: list[EpisodeRecord], key: str) -> list[float]:
    return [v for r in records if (v := numeric(r.metrics.get(key))) is not None]


def success_counts(records: list[EpisodeRecord]) -> tuple[int, int]:
    """(successes, ok episodes)."""
    ok = [r for r in records if r.status == "ok"]
    return sum(r.success for r in ok), len(ok)


def _rate(k: int, n: int) -> dict[str, Any]:
    ci = wilson(k, n)
    return {"n": n, "successes": k, "rate": k / n if n else None,
            "ci95_low": ci.low if ci else None, "ci95_high": ci.high if ci else None}


def _reason(record: EpisodeRecord) -> str:
    """Why an episode did not succeed, in one line."""
    if record.failure_reason:
        return record.failure_reason.strip().splitlines()[0] if record.failure_reason.strip() \
            else "failed (no reason given)"
    if record.status == "invalid":
        note = record.metrics.get("operator_note")
        return f"marked invalid by the operator{': ' + str(note) if note else ''}"
    parts = []
    if record.metrics.get("end_reason"):
        parts.append(f"ended: {record.metrics['end_reason']}")
    if record.spec.faults:
        parts.append("faults: " + ", ".join(f.kind for f in record.spec.faults))
    return "; ".join(parts) or "not successful"


def _status_block(run: RunData, status: str) -> dict[str, Any]:
    chosen = [r for r in run.records if r.status == status]
    reasons = Counter(_reason(r) for r in chosen)
    return {"count": len(chosen),
            "by_reason": dict(reasons.most_common()),
            "by_condition": {c: sum(r.spec.condition == c for r in chosen)
                             for c in run.conditions},
            "episodes": [{"episode_id": r.spec.episode_id, "condition": r.spec.condition,
                          "reason": _reason(r)} for r in chosen]}


def _drivers(run: RunData) -> dict[str, Any]:
    ok = run.ok()
    names = list(dict.fromkeys(k for r in ok for k in r.spec.randomization))
    factors, skipped = [], {}
    for name in names:
        pairs = [(v, r.success) for r in ok
                 if (v := numeric(r.spec.randomization.get(name))) is not None]
        if len(pairs) < len([r for r in ok if name in r.spec.randomization]):
            skipped[name] = "some values are not numbers"
        if not pairs:
            continue
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        factors.append({"factor": name, **factor_association(xs, ys)})
    factors.sort(key=lambda f: (f["p_value"] is None, f["p_value"] or 0.0, f["factor"]))
    kinds = list(dict.fromkeys(f.kind for r in ok for f in r.spec.faults))
    faults = []
    for kind in kinds:
        has = [r for r in ok if any(f.kind == kind for f in r.spec.faults)]
        has_ids = {r.spec.episode_id for r in has}
        hasnt = [r for r in ok if r.spec.episode_id not in has_ids]
        (kw, nw), (ko, no) = success_counts(has), success_counts(hasnt)
        fired = sum(kind in (r.metrics.get("faults_fired") or []) for r in has)
        faults.append({"fault": kind, "with": _rate(kw, nw), "without": _rate(ko, no),
                       "fired": fired, "fisher_p": fisher_exact_p(ko, no, kw, nw)})
    faults.sort(key=lambda f: (f["fisher_p"] is None, f["fisher_p"] or 0.0, f["fault"]))
    return {"pooled_over_conditions": True, "factors": factors, "factors_skipped": skipped,
            "faults": faults}


def load_trajectory(folder: Path) -> tuple[dict[str, list[list[float]]] | None, str | None]:
    """(trajectory, None) or (None, why there is none to draw)."""
    file = folder / "trajectory.json"
    if not file.is_file():
        return None, "no trajectory.json"
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"trajectory.json unreadable ({_first_line(exc)})"
    for key, width in (("ee_xyz", 4), ("base_xy", 3)):
        rows = data.get(key) if isinstance(data, dict) else None
        if rows:
            if not all(isinstance(p, list) and len(p) >= width
                       and all(numeric(v) is not None for v in p[:width]) for p in rows):
                return None, f"trajectory.json: {key} rows are not [t, ...] numbers"
            return {key: [[float(v) for v in p[:width]] for p in rows]}, None
    return None, "trajectory.json holds no ee_xyz or base_xy points"


def _gallery(run: RunData) -> dict[str, Any]:
    failed = [r for r in run.records if r.status == "failed"
              or (r.status == "ok" and not r.success)]
    shown = []
    for r in failed[:GALLERY_MAX]:
        folder = run.folder(r.spec.episode_id)
        _, why = load_trajectory(folder)
        shown.append({"episode_id": r.spec.episode_id, "condition": r.spec.condition,
                      "status": r.status, "reason": _reason(r),
                      "snapshot": (folder / "snapshot.png").is_file(),
                      "trajectory": why is None, "trajectory_problem": why})
    return {"failed_total": len(failed), "shown": len(shown), "episodes": shown}


def _interventions(records: list[EpisodeRecord]) -> dict[str, Any]:
    counts = metric_values(records, "limit_interventions")
    by_limit: Counter[str] = Counter()
    for r in records:
        for limit, n in (r.metrics.get("interventions") or {}).items():
            if numeric(n) is not None:
                by_limit[str(limit)] += int(n)
    return {"n": len(counts), "total": int(sum(counts)),
            "mean_per_episode": sum(counts) / len(counts) if counts else None,
            "episodes_with_any": sum(c > 0 for c in counts), "by_limit": dict(by_limit)}


def _p50_max(values: list[float], key: str) -> dict[str, float | None]:
    s = summary_stats(values)
    return {f"{key}_p50": s["median"], f"{key}_max": s["max"], f"{key}_n": s["n"]}


def _safety(records: list[EpisodeRecord]) -> dict[str, Any]:
    speed = metric_values(records, "joint_speed_peak_ratio")
    acc = metric_values(records, "joint_acc_peak_ratio")
    watchdog = metric_values(records, "watchdog_reaction_ms")
    crashed = metric_values(records, "nodes_crashed")
    cmd_speed = metric_values(records, "command_speed_peak_ratio")
    cmd_acc = metric_values(records, "command_acc_peak_ratio")
    return {"joint_speed_peak_ratio_max": max(speed) if speed else None,
            "joint_acc_peak_ratio_max": max(acc) if acc else None,
            "command_speed_peak_ratio_max": max(cmd_speed) if cmd_speed else None,
            "command_acc_peak_ratio_max": max(cmd_acc) if cmd_acc else None,
            "joint_limit_violations_total": int(sum(metric_values(records,
                                                                  "joint_limit_violations"))),
            **_p50_max(watchdog, "watchdog_reaction_ms"),
            "watchdog_reaction_ms_goal": WATCHDOG_GOAL_MS,
            "watchdog_meets_goal": (max(watchdog) <= WATCHDOG_GOAL_MS) if watchdog else None,
            **_p50_max(metric_values(records, "estop_reaction_ms"), "estop_reaction_ms"),
            **_p50_max(metric_values(records, "brake_from_kill_ms"), "brake_from_kill_ms"),
            "nodes_crashed_total": int(sum(crashed)),
            "episodes_with_crashed_nodes": sum(c > 0 for c in crashed)}


def _faults(records: list[EpisodeRecord]) -> dict[str, Any]:
    """Every fault's outcome (``fault_outcomes`` of the episodes), and per fault kind: fired,
    safe / unsafe / unknown, the arm's peak in the fault windows, rejections, brake times."""
    rows, kinds = [], {}
    for r in records:
        for o in r.metrics.get("fault_outcomes") or []:
            if not isinstance(o, dict):
                continue
            rows.append({"episode_id": r.spec.episode_id, "condition": r.spec.condition, **o})
            k = kinds.setdefault(str(o.get("kind")), {"fired": 0, "safe": 0, "unsafe": 0,
                                                       "unknown": 0, "peaks": [],
                                                       "rejected": 0, "brakes": []})
            k["fired"] += 1
            k[{True: "safe", False: "unsafe"}.get(o.get("safe"), "unknown")] += 1
            if numeric(o.get("arm_speed_peak_ratio")) is not None:
                k["peaks"].append(float(o["arm_speed_peak_ratio"]))
            k["rejected"] += int(numeric(o.get("commands_rejected")) or 0)
            if numeric(o.get("brake_ms")) is not None:
                k["brakes"].append(float(o["brake_ms"]))
    by_kind = {kind: {"fired": k["fired"], "safe": k["safe"], "unsafe": k["unsafe"],
                      "unknown": k["unknown"],
                      "arm_speed_peak_ratio_max": max(k["peaks"]) if k["peaks"] else None,
                      "commands_rejected_total": k["rejected"],
                      **_p50_max(k["brakes"], "brake_ms")}
               for kind, k in sorted(kinds.items())}
    return {"by_kind": by_kind, "episodes": rows}


def _runtime(run: RunData) -> dict[str, Any]:
    runs = [r.run for r in run.records if r.run is not None]
    wall = [x.wall_s for x in runs]
    rtf = summary_stats([x.real_time_factor for x in runs])
    return {"episodes": len(run.records), "episodes_pending": len(run.pending),
            "episodes_with_run_json": len(runs), "wall_s_total": float(sum(wall)),
            "wall_s_median": summary_stats(wall)["median"],
            "startup_s_median": summary_stats([x.startup_s for x in runs])["median"],
            "real_time_factor_median": rtf["median"], "real_time_factor_min": rtf["min"],
            # the cost of an episode per second it simulates: CPU and bag size
            "cpu_s_per_episode_s_median": summary_stats(
                [x.cpu_s / x.episode_time_s for x in runs
                 if x.cpu_s is not None and x.episode_time_s > 0])["median"],
            "bag_mb_per_episode_s_median": summary_stats(
                [x.bag_bytes / 1e6 / x.episode_time_s for x in runs
                 if x.bag_bytes and x.episode_time_s > 0])["median"],
            "created_at": run.index.created_at, "updated_at": run.index.updated_at,
            "runner": run.index.runner}


def json_ready(value: Any) -> Any:
    """``value`` with every NaN / infinity replaced by None (strict JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def summarize(run: RunData) -> dict[str, Any]:
    """Every figure of the report, JSON-ready."""
    conds = run.conditions
    statuses = Counter(r.status for r in run.records)
    per_cond = {c: run.ok(c) for c in conds}
    return json_ready({
        "schema": SUMMARY_SCHEMA, "campaign": run.index.name, "run_dir": str(run.path),
        "real": run.index.real, "scenario_file": run.index.scenario_file,
        "scenario_sha256": run.index.scenario_sha256,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "conditions": conds,
        "counts": {"episodes_indexed": len(run.index.episodes), "finished": len(run.records),
                   "ok": statuses["ok"], "failed": statuses["failed"],
                   "invalid": statuses["invalid"], "pending": len(run.pending),
                   "unreadable": len(run.warnings)},
        "success": {c: _rate(*success_counts(per_cond[c])) for c in conds},
        "failed": _status_block(run, "failed"),
        "invalid": _status_block(run, "invalid"),
        "time_to_success_s": {c: summary_stats(metric_values(per_cond[c], "time_to_success_s"))
                              for c in conds},
        "metrics": {c: {m: summary_stats(metric_values(per_cond[c], m))
                        for m in METRIC_DIRECTIONS} for c in conds},
        "failure_drivers": _drivers(run),
        "gallery": _gallery(run),
        "limit_interventions": {c: _interventions(per_cond[c]) for c in conds},
        "safety": {"all": _safety(run.ok()), **{c: _safety(per_cond[c]) for c in conds}},
        "faults": _faults(run.ok()),
        "runtime": _runtime(run),
        "warnings": list(run.warnings),
    })


@dataclass
class ReportResult:
    html_path: Path
    summary_path: Path
    summary: dict[str, Any]
    warnings: list[str]


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_report(run_dir: str | Path, html_path: str | Path | None = None,
                 summary_path: str | Path | None = None) -> ReportResult:
    """Load, summarize, plot and write; default outputs go into the run folder."""
    from ifagent_ros.core.campaign.report_html import render_html

    run = load_run(run_dir)
    summary = summarize(run)
    html_out = Path(html_path) if html_path else run.path / "report.html"
    json_out = Path(summary_path) if summary_path else run.path / "summary.json"
    for out in (html_out, json_out):
        if not out.parent.is_dir():
            raise CampaignError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        _write_atomic(json_out, json.dumps(summary, indent=2, allow_nan=False) + "\n")
        _write_atomic(html_out, render_html(run, summary))
    except OSError as exc:
        raise CampaignError(f"cannot write the report: {exc}", exit_code=1) from None
    return ReportResult(html_out, json_out, summary, list(run.warnings))
