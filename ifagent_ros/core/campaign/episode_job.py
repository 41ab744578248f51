"""One episode from start to finish, wherever it runs: a local worker thread or a Ray task.

:func:`run_episode` clears the episode folder, takes a ROS domain id (``domains.py``), writes
``spec.json``, runs the episode process (``python -m ifagent_ros.campaign_episode DIR`` unless a
command is given) in its own process group with its output in ``log.txt``, kills it at the
spec's wall limit, computes the metrics from its bag and writes ``episode.json`` last. A crash,
a hang or an unreadable bag makes a *failed* record, never an exception: the campaign goes on.
Exceptions are kept for what must stop the campaign: :class:`DiskFullError` and
:class:`EpisodeInterrupted` (the runner asked its workers to stop).

Children never outlive the runner: the episode process gets ``PR_SET_PDEATHSIG`` (SIGTERM when
the thread that started it dies; Linux), and its whole process group is killed when it ends.
"""

from __future__ import annotations

import ctypes
import errno
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ifagent_ros.core.campaign.domains import DomainAllocator, DomainLease
from ifagent_ros.core.campaign.provenance import git_commit, runtime_versions
from ifagent_ros.core.campaign.types import EpisodeRecord, EpisodeRun, EpisodeSpec

__all__ = [
    "DiskFullError",
    "EpisodeInterrupted",
    "EpisodeJob",
    "check_episode_defaults",
    "check_free_space",
    "default_episode_command",
    "disk_full_guard",
    "run_episode",
    "utc_now",
    "write_json_atomic",
]

KILL_GRACE_S = 5.0        # SIGTERM at the wall limit, SIGKILL this much later
STOP_GRACE_S = 2.0        # the same when the runner is interrupted (Ctrl-C)
LOG_TAIL_LINES = 12
AWAITING_VERDICT = "awaiting_verdict"   # real mode: the episode process waits for verdict.json
VERDICT_FILE = "verdict.json"

# (bag_dir, spec, operator_verdict) -> EpisodeMetrics-like (success, valid, values, trajectory)
MetricsFn = Callable[..., Any]
# real mode: asked once the episode runs; returns {"success", "valid", "note"}
VerdictFn = Callable[[EpisodeSpec], dict[str, Any]]


class DiskFullError(RuntimeError):
    """The disk of the run folder is (nearly) full: stop launching episodes."""


class EpisodeInterrupted(RuntimeError):
    """The runner stopped this episode (Ctrl-C, SIGTERM, quit); its folder is left partial."""


def default_episode_command() -> tuple[str, ...]:
    # Resolved where the episode runs: a Ray worker uses its own interpreter.
    return (sys.executable, "-m", "ifagent_ros.campaign_episode")


@dataclass(frozen=True)
class EpisodeJob:
    """Everything :func:`run_episode` needs; picklable, so a Ray task can carry it."""

    spec: EpisodeSpec
    episode_dir: str
    command: tuple[str, ...] | None = None     # the episode dir is appended; None: default
    metrics_fn: MetricsFn | None = None        # None: core.campaign.metrics.episode_metrics
    domain_range: tuple[int, int] | None = None  # None: IFAGENT_CAMPAIGN_DOMAINS or 40..99
    # False (real robot): keep the caller's ROS_DOMAIN_ID and discovery, the robot lives there
    isolate_domain: bool = True
    min_free_mb: float = 200.0


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write, then rename over ``path``: a reader (or a kill) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    text = data.model_dump_json(indent=2) if hasattr(data, "model_dump_json") else json.dumps(
        data, indent=2)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_free_space(path: Path, min_free_mb: float) -> None:
    free_mb = shutil.disk_usage(path).free / 2**20
    if free_mb < min_free_mb:
        raise DiskFullError(
            f"disk full: {free_mb:.0f} MB free under {path}, below --min-free-mb {min_free_mb:g}")


@contextmanager
def disk_full_guard(where: Path) -> Iterator[None]:
    """OSError ENOSPC/EDQUOT while writing -> :class:`DiskFullError` (the campaign stops)."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"disk full while writing under {where}: {exc}") from exc
        raise


def _pdeathsig_preexec() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:  # runs in the child between fork and exec: keep it tiny
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return preexec


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid
    except (ProcessLookupError, PermissionError):
        pass


class _Supervisor:
    """Watches the episode process in a thread: kills its group at the wall limit or on stop,
    so the calling thread may block elsewhere (the operator's verdict prompt)."""

    def __init__(self, proc: subprocess.Popen, wall_limit_s: float,
                 stop: threading.Event | None) -> None:
        self.proc, self.wall_limit_s, self.stop = proc, wall_limit_s, stop
        self.abort = threading.Event()
        self.hung = self.stopped = False
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._watch, name="episode-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        deadline = self.started + self.wall_limit_s
        while self.proc.poll() is None:
            if self.abort.is_set() or (self.stop is not None and self.stop.is_set()):
                self.stopped = True
                self._kill(STOP_GRACE_S)
            elif time.monotonic() >= deadline:
                self.hung = True
                self._kill(KILL_GRACE_S)
            else:
                try:
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
        _signal_group(self.proc, signal.SIGKILL)  # sweep what the episode left in its group

    def _kill(self, grace_s: float) -> None:
        _signal_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(self.proc, signal.SIGKILL)
            self.proc.wait()

    def wait(self) -> tuple[int, float]:
        self._thread.join()
        return int(self.proc.returncode), time.monotonic() - self.started


def log_tail(log: Path, lines: int = LOG_TAIL_LINES, max_chars: int = 2000) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 16 * max_chars))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])[-max_chars:]


def _exit_text(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def _with_tail(reason: str, log: Path) -> str:
    tail = log_tail(log)
    return f"{reason}; last lines of log.txt:\n{tail}" if tail else f"{reason} (log.txt empty)"


def _run_process(job: EpisodeJob, spec: EpisodeSpec, folder: Path, lease: DomainLease | None,
                 stop: threading.Event | None, verdict: VerdictFn | None
                 ) -> tuple[int, float, bool, dict[str, Any] | None]:
    """(returncode, wall_s, hung, operator verdict) of the episode process."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if lease is not None:
        env.update(ROS_DOMAIN_ID=str(lease.domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
        env.pop("ROS_STATIC_PEERS", None)
    command = [*(job.command or default_episode_command()), str(folder)]
    with open(folder / "log.txt", "wb") as log:
        proc = subprocess.Popen(  # our own interpreter/module, no shell
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True, preexec_fn=_pdeathsig_preexec())
    watch = _Supervisor(proc, spec.wall_limit_s, stop)
    given: dict[str, Any] | None = None
    try:
        if verdict is not None:
            flag = folder / AWAITING_VERDICT
            while proc.poll() is None and not flag.exists():
                time.sleep(0.05)
            if proc.poll() is None:
                given = dict(verdict(spec))
                write_json_atomic(folder / VERDICT_FILE, given)
        returncode, wall_s = watch.wait()
    except BaseException:
        watch.abort.set()
        watch.wait()
        raise
    if watch.stopped:
        raise EpisodeInterrupted(f"episode {spec.episode_id} stopped by the runner")
    return returncode, wall_s, watch.hung, given


def _read_run(folder: Path) -> tuple[EpisodeRun | None, str | None]:
    path = folder / "run.json"
    if not path.exists():
        return None, "no run.json"
    try:
        return EpisodeRun.model_validate_json(path.read_text(encoding="utf-8")), None
    except (OSError, ValueError, ValidationError) as exc:
        return None, f"run.json unreadable: {str(exc).splitlines()[0]}"


def _default_metrics() -> MetricsFn:
    from ifagent_ros.core.campaign.metrics import episode_metrics  # lazy: the bag readers

    return episode_metrics


def check_episode_defaults(*, metrics: bool, command: bool) -> None:
    """ImportError (naming the module) when a default the jobs will use is not installed."""
    if metrics:
        _default_metrics()
    if command:
        argv = default_episode_command()
        if len(argv) >= 3 and argv[1] == "-m" and importlib.util.find_spec(argv[2]) is None:
            raise ImportError(f"No module named {argv[2]!r} (the episode process)")


def _measure(job: EpisodeJob, spec: EpisodeSpec, folder: Path,
             given: dict[str, Any] | None) -> dict[str, Any]:
    """Fields of the record from the bag: status, success, metrics (or failure_reason)."""
    metrics_fn = job.metrics_fn or _default_metrics()
    try:
        measured = metrics_fn(folder / "bag", spec, operator_verdict=given)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise
        return {"status": "failed", "failure_reason": f"metrics: cannot read the bag: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a corrupt bag fails the episode, not the campaign
        name = type(exc).__name__
        label = "metrics" if name.endswith("MetricsError") or name == "MissingTopicsError" else (
            f"metrics crashed ({name})")
        return {"status": "failed", "failure_reason": f"{label}: {exc}"}
    write_json_atomic(folder / "trajectory.json", dict(measured.trajectory or {}))
    valid = bool(measured.valid)
    return {"status": "ok" if valid else "invalid",
            "success": bool(measured.success) and valid, "metrics": dict(measured.values)}


def run_episode(job: EpisodeJob, *, stop: threading.Event | None = None,
                verdict: VerdictFn | None = None) -> EpisodeRecord:
    """Run one episode into ``job.episode_dir`` and return its (written) record."""
    folder = Path(job.episode_dir)
    with disk_full_guard(folder):
        folder.parent.mkdir(parents=True, exist_ok=True)
    check_free_space(folder.parent, job.min_free_mb)
    with disk_full_guard(folder):
        if folder.exists():  # a partial episode of an earlier, killed run
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        lease = (DomainAllocator(job.domain_range).acquire() if job.isolate_domain else None)
        try:
            domain_id = lease.domain_id if lease else int(os.environ.get("ROS_DOMAIN_ID") or 0)
            spec = job.spec.model_copy(update={"domain_id": domain_id})
            write_json_atomic(folder / "spec.json", spec)
            returncode, wall_s, hung, given = _run_process(job, spec, folder, lease, stop, verdict)
        finally:
            if lease is not None:
                lease.release()
        run, run_problem = _read_run(folder)
        log = folder / "log.txt"
        fields: dict[str, Any]
        if hung:
            fields = {"status": "failed",
                      "failure_reason": _with_tail(
                          f"hung: killed after {spec.wall_limit_s:g} s (the wall limit)", log)}
        elif returncode != 0:
            said = f": {run.error}" if run is not None and run.error else ""
            fields = {"status": "failed", "failure_reason": _with_tail(
                f"episode process failed: {_exit_text(returncode)}{said}", log)}
        elif run is None:
            fields = {"status": "failed", "failure_reason": _with_tail(
                f"episode process exited 0 but left {run_problem}", log)}
        elif run.end_reason == "error":
            fields = {"status": "failed", "failure_reason": f"episode error: {run.error}"}
        elif given is not None and not given.get("valid", True):
            fields = {"status": "invalid"}  # operator: the trial does not count
        else:
            fields = _measure(job, spec, folder, given)
        if given is not None and not given.get("valid", True):
            fields["status"] = "invalid"
            fields["success"] = False
        if given is not None and fields["status"] != "failed":
            fields.setdefault("metrics", {})["operator_note"] = str(given.get("note") or "")
        record = EpisodeRecord(
            spec=spec, run=run, versions=runtime_versions(), git_commit=git_commit(),
            finished_at=utc_now(), bag="bag" if (folder / "bag").is_dir() else None, **fields)
        write_json_atomic(folder / "episode.json", record)  # last: "this episode is finished"
    return record
