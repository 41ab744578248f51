"""The campaign runner: scenario -> episodes -> run folder, resumable.

    result = run_campaign("scenarios/lilac_tabletop.yaml", "runs/lilac", workers=4)

Plan: load and expand the scenario, write ``scenario.yaml`` and ``campaign.json`` into the run
folder. A rerun into the same folder must be the same scenario file (same SHA-256); its
finished episodes (``episode.json`` parses) are kept and not run again, partial ones are
cleared and rerun. ``campaign.json`` is replaced atomically after every episode, so killing the
runner at any moment leaves a readable folder that the same command resumes.

Run: local worker threads (``local_pool.py``), Ray tasks (``ray_backend.py``) or, for a real
robot, one episode at a time with an operator (``real_robot.py``); each episode is
:func:`~ifagent_ros.core.campaign.episode_job.run_episode`. Stops: Ctrl-C / SIGTERM (children
are killed, finished episodes kept, exit 130), disk full (no new episodes, exit 4).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ifagent_ros.core.campaign.episode_job import (
    DiskFullError,
    EpisodeJob,
    MetricsFn,
    check_episode_defaults,
    check_free_space,
    utc_now,
    write_json_atomic,
)
from ifagent_ros.core.campaign.local_pool import LocalPool, PoolEvent
from ifagent_ros.core.campaign.progress import ConditionTally, Progress, tally
from ifagent_ros.core.campaign.real_robot import (
    ConsoleOperator,
    Operator,
    RealParamsError,
    check_real_params,
    real_specs,
)
from ifagent_ros.core.campaign.run_folder import (
    EXIT_DISK_FULL,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CampaignError,
    load_finished,
    plan_folder,
    probe_writable,
    select_specs,
)
from ifagent_ros.core.campaign.types import CampaignIndex, CampaignRow, EpisodeRecord, EpisodeSpec

__all__ = ["CampaignError", "CampaignResult", "load_finished", "run_campaign"]



@dataclass
class CampaignResult:
    name: str
    out: Path
    total: int                      # episodes selected (scenario x --conditions x --episodes)
    finished: int                   # of those with an episode.json, resumed ones included
    ran: int                        # finished by this invocation
    resumed: int                    # finished before this invocation
    failed: int
    invalid: int
    skipped: int                    # real mode: skipped by the operator
    conditions: dict[str, ConditionTally]
    wall_s: float
    workers: int
    backend: str
    stopped: str | None = None      # None | interrupted | disk_full | quit | error
    exit_code: int = EXIT_OK
    message: str = ""
    records: dict[str, EpisodeRecord] = field(default_factory=dict, repr=False)

    @property
    def episodes_per_hour(self) -> float:
        return 3600.0 * self.ran / self.wall_s if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "out": str(self.out), "episodes": self.total,
            "finished": self.finished, "ran": self.ran, "resumed": self.resumed,
            "failed": self.failed, "invalid": self.invalid, "skipped": self.skipped,
            "success_rate": {c: t.rate for c, t in self.conditions.items()},
            "successes": {c: t.successes for c, t in self.conditions.items()},
            "wall_s": round(self.wall_s, 3),
            "episodes_per_hour": round(self.episodes_per_hour, 2),
            "workers": self.workers, "backend": self.backend, "stopped": self.stopped,
            "exit_code": self.exit_code}


class _Run:
    """One invocation's state; the main thread alone mutates it and writes campaign.json."""

    def __init__(self, out: Path, index: CampaignIndex, records: dict[str, EpisodeRecord],
                 progress: Progress) -> None:
        self.out, self.index, self.records, self.progress = out, index, records, progress
        self.ran = self.skipped = 0
        self.stopped: str | None = None
        self.message = ""
        self.started = time.monotonic()

    def write_index(self) -> None:
        rows = []
        for row in self.index.episodes:
            rec = self.records.get(row.episode_id)
            rows.append(row.model_copy(update={"status": rec.status, "success": rec.success})
                        if rec else row.model_copy(update={"status": "pending",
                                                           "success": False}))
        wall = time.monotonic() - self.started
        runner = dict(self.index.runner, episodes_per_hour=round(3600 * self.ran / wall, 2)
                      if wall > 0 else 0.0)
        self.index = self.index.model_copy(update={
            "episodes": rows, "updated_at": utc_now(), "runner": runner})
        try:
            write_json_atomic(self.out / "campaign.json", self.index)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self.stop_for("disk_full", f"disk full while writing campaign.json: {exc}")

    def stop_for(self, reason: str, message: str) -> None:
        if self.stopped is None or self.stopped == "quit":
            self.stopped, self.message = reason, message

    def handle(self, event: PoolEvent) -> None:
        if event.kind == "started":
            self.progress.episode_started()
        elif event.kind == "done" and event.record is not None:
            self.records[event.record.spec.episode_id] = event.record
            self.ran += 1
            self.write_index()
            self.progress.episode_ended(event.record, event.wall_s)
        elif event.kind == "interrupted":
            self.progress.episode_ended(None, 0.0)
        elif event.kind == "disk_full":
            self.progress.episode_ended(None, 0.0)
            self.stop_for("disk_full", event.message)
        elif event.kind == "error":
            self.progress.episode_ended(None, 0.0)
            self.stop_for("error", f"episode {event.job.spec.episode_id}: {event.message}")


def _run_real(run: _Run, jobs: list[EpisodeJob], operator: Operator,
              stop: threading.Event) -> None:
    from ifagent_ros.core.campaign.episode_job import run_episode

    for job in jobs:
        if stop.is_set() or run.stopped:
            return
        decision = operator.before_episode(job.spec)
        if decision == "quit":
            run.stop_for("quit", "quit by the operator")
            return
        if decision == "skip":
            run.skipped += 1
            run.progress.skipped += 1
            continue
        run.progress.episode_started()
        t0 = time.monotonic()
        try:
            record = run_episode(job, stop=stop, verdict=operator.verdict)
        except DiskFullError as exc:
            run.handle(PoolEvent("disk_full", job, message=str(exc)))
            return
        run.handle(PoolEvent("done", job, record, time.monotonic() - t0))


def run_campaign(
    scenario_path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    ray: str | None = None,
    episodes: int | None = None,
    conditions: Sequence[str] | None = None,
    real: str | os.PathLike[str] | None = None,
    episode_command: Sequence[str] | None = None,
    metrics_fn: MetricsFn | None = None,
    operator: Operator | None = None,
    progress: TextIO | None = sys.stderr,
    min_free_mb: float = 200.0,
    domain_range: tuple[int, int] | None = None,
    stop: threading.Event | None = None,
) -> CampaignResult:
    """Run (or resume) a campaign; :class:`CampaignError` when it cannot start.

    ``episode_command``: argv prefix of the episode process (the episode folder is appended;
    default ``python -m ifagent_ros.campaign_episode``). ``metrics_fn``: default
    ``core.campaign.metrics.episode_metrics``. ``workers``: episodes at once (default 1; with
    ``ray``: at most this many tasks, default the cluster's CPUs, 2 for ``ray="local"``).
    ``real``: the robot's params file (real mode;
    ``operator`` default: the console). ``stop``: set it to interrupt like Ctrl-C.
    """
    from ifagent_ros.core.campaign import scenario as sc  # lazy: scenario pulls in sim readers

    if workers is not None and workers < 1:
        raise CampaignError(f"--workers {workers}: need at least 1")
    scenario_file = Path(scenario_path).expanduser().resolve()
    real_sections = None
    if real is not None:
        if ray is not None:
            raise CampaignError("--real runs one episode at a time with an operator: drop --ray")
        workers = 1
        try:
            real_sections = check_real_params(real)
        except RealParamsError as exc:
            raise CampaignError(str(exc)) from None
    try:
        scenario = sc.load_scenario(scenario_file)
        all_specs = sc.expand(scenario, campaign_name=scenario.name, real=real is not None)
    except sc.ScenarioError as exc:
        raise CampaignError(str(exc)) from None
    if real_sections is not None:
        try:
            all_specs = real_specs(all_specs, real, real_sections)
        except RealParamsError as exc:
            raise CampaignError(str(exc)) from None
    selected = select_specs(all_specs, episodes, conditions)
    sha = sc.scenario_sha256(scenario_file)
    out_dir = Path(out if out is not None else Path("runs") / scenario.name).expanduser()
    probe_writable(out_dir)
    previous = plan_folder(out_dir, scenario_file, sha, real is not None)
    records = load_finished(out_dir, all_specs)
    jobs_specs = [s for s in selected if s.episode_id not in records]
    try:
        check_episode_defaults(
            metrics=bool(jobs_specs) and metrics_fn is None,
            command=bool(jobs_specs) and episode_command is None)
    except ImportError as exc:
        raise CampaignError(f"this installation cannot run episodes: {exc}") from None
    backend = None
    if ray is not None:
        from ifagent_ros.core.campaign.ray_backend import RayBackend, RayUnavailable

        try:
            backend = RayBackend(ray, workers)
        except RayUnavailable as exc:
            raise CampaignError(str(exc)) from None
    backend_name = backend.description if backend else ("real" if real else "local")
    n_workers = backend.in_flight if backend else (workers or 1)
    try:
        now = utc_now()
        index = CampaignIndex(
            name=scenario.name, scenario_file=str(scenario_file), scenario_sha256=sha,
            real=real is not None, created_at=previous.created_at if previous else now,
            updated_at=now,
            episodes=[CampaignRow(episode_id=s.episode_id, condition=s.condition, index=s.index,
                                  status="pending") for s in all_specs],
            runner={"workers": n_workers, "backend": backend_name, "min_free_mb": min_free_mb,
                    "real_params": str(Path(real).resolve()) if real else None})
        stop = stop or threading.Event()
        prog = Progress(progress, total=len(selected), workers=n_workers)
        run = _Run(out_dir, index, records, prog)
        run.write_index()  # first: a folder with campaign.json is a campaign (resumable)
        target = out_dir / "scenario.yaml"
        if not target.exists() or target.resolve() != scenario_file:
            try:
                shutil.copyfile(scenario_file, target)
            except OSError as exc:
                raise CampaignError(f"cannot write {target}: {exc}",
                                    EXIT_DISK_FULL if exc.errno == errno.ENOSPC else EXIT_USAGE)
        prog.resumed(records[s.episode_id] for s in selected if s.episode_id in records)
        jobs = [EpisodeJob(
            spec=s, episode_dir=str((out_dir / "episodes" / s.episode_id).resolve()),
            command=tuple(episode_command) if episode_command else None, metrics_fn=metrics_fn,
            domain_range=domain_range, isolate_domain=real is None, min_free_mb=min_free_mb)
            for s in jobs_specs]
        _execute(run, jobs, n_workers, backend, real is not None, operator, stop, min_free_mb)
    finally:
        if backend is not None:
            backend.shutdown()
    return _result(run, scenario.name, out_dir, selected, n_workers, backend_name)


def _execute(run: _Run, jobs: list[EpisodeJob], workers: int, backend: Any, real: bool,
             operator: Operator | None, stop: threading.Event, min_free_mb: float) -> None:
    pool: LocalPool | None = None
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if on_main else None
    if on_main:  # SIGTERM (a scheduler, `kill`) stops like Ctrl-C: children die, folder stays
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if jobs:
            check_free_space(run.out, min_free_mb)
        if not jobs:
            pass
        elif real:
            _run_real(run, jobs, operator or ConsoleOperator(), stop)
        elif backend is not None:
            for event in backend.events(jobs, lambda: run.stopped is not None):
                run.handle(event)
        else:
            pool = LocalPool(jobs, workers, stop)
            for event in pool.events():
                run.handle(event)
                if run.stopped:
                    pool.stop_launching()
        if stop.is_set():  # a caller's stop event (the API's Ctrl-C)
            run.stop_for("interrupted", "interrupted")
    except DiskFullError as exc:
        run.stop_for("disk_full", str(exc))
    except KeyboardInterrupt:
        stop.set()
        run.stop_for("interrupted", "interrupted")
        if backend is not None:
            backend.cancel()
        if pool is not None:
            pool.join()
            for event in pool.drain():  # episodes that finished while we were stopping
                if event.kind == "done":
                    run.handle(event)
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)
        run.progress.close()
        run.write_index()


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _result(run: _Run, name: str, out: Path, selected: list[EpisodeSpec], workers: int,
            backend: str) -> CampaignResult:
    finished = {s.episode_id: run.records[s.episode_id] for s in selected
                if s.episode_id in run.records}
    conditions = tally(finished.values(), dict.fromkeys(s.condition for s in selected))
    n_finished = len(finished)
    resume_hint = f"{n_finished}/{len(selected)} episodes finished and kept in {out}"
    exit_code, message = EXIT_OK, run.message
    if run.stopped == "interrupted":
        exit_code = EXIT_INTERRUPTED
        message = f"interrupted: {resume_hint}; rerun the same command to resume"
    elif run.stopped == "disk_full":
        exit_code = EXIT_DISK_FULL
        message = (f"{run.message}; stopped launching episodes: {n_finished} finished episodes "
                   f"kept in {out}; free space and rerun to resume")
    elif run.stopped == "quit":
        message = f"quit by the operator: {resume_hint}; rerun the same command to resume"
    elif run.stopped == "error":
        exit_code = EXIT_ERROR
        message = f"stopped: {run.message}; {resume_hint}; rerun to resume"
    return CampaignResult(
        name=name, out=out, total=len(selected), finished=n_finished, ran=run.ran,
        resumed=n_finished - run.ran, failed=sum(t.failed for t in conditions.values()),
        invalid=sum(t.invalid for t in conditions.values()), skipped=run.skipped,
        conditions=conditions, wall_s=time.monotonic() - run.started, workers=workers,
        backend=backend, stopped=run.stopped, exit_code=exit_code, message=message,
        records=finished)
