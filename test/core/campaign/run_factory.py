"""Synthetic campaign run folders with known numbers, for the report / compare / gap tests.

:func:`write_run` writes ``campaign.json`` and ``episodes/<id>/episode.json`` (plus optional
``trajectory.json`` and ``snapshot.png``) for a list of :class:`Ep`; :func:`standard_run` is the
run most tests read, with its answers in the docstring.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.campaign.types import (
    CampaignIndex,
    CampaignRow,
    EpisodeRecord,
    EpisodeRun,
    EpisodeSpec,
    FaultSpec,
    TaskSpec,
)

STAMP = "2025-01-01T00:00:00+00:00"


@dataclass
class Ep:
    """One synthetic episode; ``metrics`` are written as they are (success is added)."""

    condition: str
    success: bool
    status: str = "ok"                    # ok | failed | invalid | pending (no episode.json)
    failure_reason: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    randomization: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    wall_s: float = 20.0
    real_time_factor: float = 2.0
    trajectory: dict[str, Any] | None = None
    snapshot: bool = False
    operator_note: str | None = None


def tiny_png(path: Path, colour: tuple[int, int, int] = (200, 40, 40)) -> None:
    from PIL import Image

    Image.new("RGB", (64, 48), colour).save(path, format="PNG")


def write_run(out: Path, episodes: list[Ep], *, name: str = "fake", real: bool = False,
              runner: dict[str, Any] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    counters: dict[str, int] = {}
    rows = []
    for i, ep in enumerate(episodes):
        index = counters.get(ep.condition, 0)
        counters[ep.condition] = index + 1
        episode_id = f"{ep.condition}-{index:04d}"
        rows.append(CampaignRow(episode_id=episode_id, condition=ep.condition, index=index,
                                status="pending" if ep.status == "pending" else ep.status,
                                success=ep.success))
        if ep.status == "pending":
            continue
        spec = EpisodeSpec(
            campaign=name, episode_id=episode_id, condition=ep.condition, index=index,
            seed=1000 + i, scene_seed=index, task=TaskSpec(kind="shared_autonomy"),
            params_file="/nonexistent/sim.yaml", randomization=dict(ep.randomization),
            faults=[FaultSpec(kind=k, target="shared_autonomy_node" if k == "kill_node"
                              else None) for k in ep.faults], real=real)
        metrics = {"success": ep.success, **ep.metrics}
        if ep.operator_note is not None:
            metrics["operator_note"] = ep.operator_note
        run = EpisodeRun(episode_id=episode_id, end_reason="done", wall_s=ep.wall_s,
                         startup_s=2.0, episode_time_s=(ep.wall_s - 2.0) * ep.real_time_factor,
                         real_time_factor=ep.real_time_factor, cpu_s=0.9 * (ep.wall_s - 2.0),
                         bag_bytes=int((ep.wall_s - 2.0) * ep.real_time_factor * 1e6))
        record = EpisodeRecord(spec=spec, status=ep.status, success=ep.success,
                               failure_reason=ep.failure_reason,
                               metrics=metrics if ep.status != "failed" else {},
                               run=run, finished_at=STAMP)
        folder = out / "episodes" / episode_id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "spec.json").write_text(spec.model_dump_json(indent=1), encoding="utf-8")
        if ep.trajectory is not None:
            (folder / "trajectory.json").write_text(json.dumps(ep.trajectory), encoding="utf-8")
        if ep.snapshot:
            tiny_png(folder / "snapshot.png")
        (folder / "episode.json").write_text(record.model_dump_json(indent=1), encoding="utf-8")
    index = CampaignIndex(name=name, scenario_file=f"/nonexistent/{name}.yaml",
                          scenario_sha256="ab" * 32, real=real, created_at=STAMP,
                          updated_at=STAMP, episodes=rows,
                          runner=runner if runner is not None else {"workers": 2})
    (out / "campaign.json").write_text(index.model_dump_json(indent=1), encoding="utf-8")
    return out


def _traj(i: int) -> dict[str, Any]:
    t = np.linspace(0, 5, 20)
    return {"ee_xyz": [[float(a), 0.4 + 0.05 * np.cos(a + i), 0.1 * np.sin(a), 0.3]
                       for a in t]}


def _outcomes(i: int) -> list[dict[str, Any]]:
    kill = {"kind": "kill_node", "at_s": 3.0, "duration_s": 0.0, "target": "shared_autonomy_node",
            "window_s": 1.0, "arm_speed_peak_ratio": 0.3, "limit_violations": 0,
            "executor_modes": ["braking", "holding"], "commands_rejected": 0,
            "brake_ms": 120.0 + 10 * (i - 7), "safe": True}
    if i < 9:
        return [kill]
    return [kill, {"kind": "freeze_camera", "at_s": 10.0, "duration_s": 5.0, "target": None,
                   "window_s": 6.0, "arm_speed_peak_ratio": 1.2, "limit_violations": 2,
                   "executor_modes": ["moving"], "commands_rejected": 3, "safe": False}]


def standard_run(out: Path, *, name: str = "standard") -> Path:
    """Known answers:

    - ``lilac``: 10 ok episodes, 7 successes (Wilson 95% [0.397, 0.892]); time_to_success_s
      10, 11, ..., 16 (median 13); limit_interventions 1 each ({"velocity": 1}); episodes 7, 8,
      9 have a kill_node fault and are the failures, watchdog_reaction_ms 80, 90, 100; their
      fault_outcomes: the kill (brake_ms 120, 130, 140; safe) and on 9 also a freeze_camera
      with the arm at 1.2 x its limit (unsafe).
    - ``teleop``: 10 ok episodes, 4 successes; time_to_success_s 20..23; limit_interventions 3
      each ({"velocity": 2, "workspace": 1}); joint_speed_peak_ratio 0.5 + 0.05 * index (max
      0.95); command_speed_peak_ratio 0.45 + 0.05 * index (max 0.9); joint_limit_violations 1
      on index 9.
    - plus 2 ``failed`` episodes (condition lilac; reason "hung: killed after 60 s") and 1
      ``invalid`` one (teleop, operator note "robot bumped"), and 1 pending (teleop).
    - ``light_scale`` = 0.3 + 0.07 * index drives failure: the failures are the highest light
      scales of each condition. ``friction`` is a permutation of 0..0.9 unrelated to success.
    - Unsuccessful ok episodes have a trajectory; lilac-0008 also a snapshot.
    """
    eps: list[Ep] = []
    for i in range(10):
        ok = i < 7
        eps.append(Ep(
            "lilac", ok,
            metrics={"time_to_success_s": 10.0 + i if ok else None, "episode_time_s": 30.0 + i,
                     "limit_interventions": 1, "interventions": {"velocity": 1},
                     "joint_speed_peak_ratio": 0.4, "joint_limit_violations": 0,
                     "watchdog_reaction_ms": 80.0 + 10 * (i - 7) if not ok else None,
                     "nodes_crashed": 0, "stick_effort_s": 5.0 + i,
                     "faults_fired": ["kill_node"] if not ok else [],
                     "fault_outcomes": [] if ok else _outcomes(i)},
            randomization={"friction": 0.1 * ((i * 7 + 3) % 10), "light_scale": 0.3 + 0.07 * i},
            faults=["kill_node"] if not ok else [],
            trajectory=None if ok else _traj(i), snapshot=(not ok and i % 2 == 0)))
    for i in range(10):
        light = 0.3 + 0.07 * i
        ok = light < 0.55
        eps.append(Ep(
            "teleop", ok,
            metrics={"time_to_success_s": 20.0 + i if ok else None, "episode_time_s": 40.0 + i,
                     "limit_interventions": 3, "interventions": {"velocity": 2, "workspace": 1},
                     "joint_speed_peak_ratio": 0.5 + 0.05 * i,
                     "command_speed_peak_ratio": 0.45 + 0.05 * i,
                     "joint_limit_violations": 1 if i == 9 else 0, "nodes_crashed": 0,
                     "stick_effort_s": 20.0 + i},
            randomization={"friction": 0.1 * ((i * 3 + 1) % 10), "light_scale": light},
            trajectory=None if ok else _traj(i)))
    eps += [Ep("lilac", False, status="failed", failure_reason="hung: killed after 60 s\nlog..."),
            Ep("lilac", False, status="failed", failure_reason="hung: killed after 60 s"),
            Ep("teleop", False, status="invalid", operator_note="robot bumped"),
            Ep("teleop", False, status="pending")]
    return write_run(out, eps, name=name)


def continuous_run(out: Path, *, name: str, success: dict[str, tuple[int, int]],
                   times: dict[str, list[float]], seed: int = 0) -> Path:
    """Per condition: ``success[c] = (k, n)`` and ``times[c]`` the time_to_success_s /
    episode_time_s values of the n episodes (cycled)."""
    eps = []
    for cond, (k, n) in success.items():
        vals = times[cond]
        for i in range(n):
            t = vals[i % len(vals)]
            eps.append(Ep(cond, i < k, metrics={"episode_time_s": t,
                                                "time_to_success_s": t if i < k else None}))
    return write_run(out, eps, name=name)
