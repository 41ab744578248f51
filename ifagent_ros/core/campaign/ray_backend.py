"""Ray backend: each episode is a Ray task (``num_cpus=1``) running the very same
:func:`~ifagent_ros.core.campaign.episode_job.run_episode` as a local worker (episode process,
metrics, ``episode.json``) on whichever machine Ray picks, and returning the record.

    --ray local      a private single-machine Ray (``num_cpus`` = --workers, default 2)
    --ray auto       the cluster this machine belongs to (``ray start`` / ``RAY_ADDRESS``)
    --ray HOST:PORT  that cluster's GCS address (or ``ray://HOST:10001`` for Ray Client)

Multi-machine: every worker machine writes its episodes straight into the run folder, so the
folder (``--out``) must be on a filesystem shared by all of them (NFS, CephFS, ...) at the same
path, and each machine needs this package and its models at the same paths as the driver (the
same checkout on the shared filesystem, or the same image). Domain ids are allocated on the
worker machine (``/tmp/ifagent-domains`` is machine-local), so tasks never share a domain.
The driver alone writes ``campaign.json``.
"""

from __future__ import annotations

import importlib
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ifagent_ros.core.campaign.episode_job import DiskFullError, EpisodeJob, run_episode
from ifagent_ros.core.campaign.local_pool import PoolEvent
from ifagent_ros.core.campaign.types import EpisodeRecord

__all__ = ["RayBackend", "RayUnavailable"]

LOCAL_DEFAULT_CPUS = 2
PROBE_TIMEOUT_S = 3.0
GCS_DEFAULT_PORT = 6379
CLIENT_DEFAULT_PORT = 10001


class RayUnavailable(RuntimeError):
    """Ray is not installed or the cluster cannot be reached; the message says what to do."""


def _hint() -> str:
    return "run without --ray to use local workers (--workers N)"


def _probe(address: str) -> None:
    """Fail fast on a closed port: ray.init would retry for minutes before giving up."""
    client = address.startswith("ray://")
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host:
        host, port = hostport, str(CLIENT_DEFAULT_PORT if client else GCS_DEFAULT_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT_S):
            pass
    except (OSError, ValueError) as exc:
        raise RayUnavailable(f"Ray at {address} is unreachable ({exc}); {_hint()}") from None


def _episode_task(job: EpisodeJob) -> tuple[str, float]:
    """Runs on the Ray worker. The record travels as JSON (no pickled pydantic classes)."""
    t0 = time.monotonic()
    record = run_episode(job)
    return record.model_dump_json(), time.monotonic() - t0


class RayBackend:
    """Connects on construction (:class:`RayUnavailable` otherwise); :meth:`events` runs jobs
    with at most ``in_flight`` tasks submitted, so stopping leaves little to cancel."""

    def __init__(self, address: str, workers: int | None = None) -> None:
        try:
            self.ray = importlib.import_module("ray")
        except ImportError as exc:
            raise RayUnavailable(
                f"Ray is not installed ({exc}); install it (.venv/bin/pip install ray) or "
                f"{_hint()}") from None
        self.address = address
        self._owns_cluster = address == "local"
        if self.ray.is_initialized():
            self.ray.shutdown()
        try:
            if address == "local":
                self.ray.init(address="local", num_cpus=workers or LOCAL_DEFAULT_CPUS,
                              include_dashboard=False, log_to_driver=False)
            else:
                if address != "auto":
                    _probe(address)
                self.ray.init(address=address, log_to_driver=False)
        except RayUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - ConnectionError, RuntimeError, ValueError...
            raise RayUnavailable(f"Ray at {address} is unreachable ({exc}); {_hint()}") from None
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        self.in_flight = max(1, min(workers, cpus) if workers else cpus)
        self._remote = self.ray.remote(num_cpus=1, max_retries=0)(_episode_task)
        self._refs: dict[Any, EpisodeJob] = {}

    @property
    def description(self) -> str:
        return f"ray ({self.address})"

    def _send_by_value(self, jobs: Sequence[EpisodeJob]) -> None:
        # A metrics function from outside the package (a test, a script) is not importable on
        # the workers: ship its module's code with the task instead of a reference to it.
        for job in jobs:
            module = getattr(job.metrics_fn, "__module__", None)
            if module and module != "__main__" and not module.startswith("ifagent_ros"):
                import sys

                self.ray.cloudpickle.register_pickle_by_value(sys.modules[module])

    def events(self, jobs: Sequence[EpisodeJob], stop_launching: Any) -> Iterator[PoolEvent]:
        """``stop_launching()`` -> True: submit no more (disk full); running tasks finish."""
        self._send_by_value(jobs)
        pending = list(jobs)
        while pending or self._refs:
            while pending and len(self._refs) < self.in_flight and not stop_launching():
                job = pending.pop(0)
                self._refs[self._remote.remote(job)] = job
                yield PoolEvent("started", job)
            if not self._refs:
                break
            ready, _ = self.ray.wait(list(self._refs), num_returns=1, timeout=0.2)
            for ref in ready:
                job = self._refs.pop(ref)
                try:
                    text, wall_s = self.ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - RayTaskError wraps the worker's error
                    cause = getattr(exc, "cause", None) or exc
                    if isinstance(cause, DiskFullError) or isinstance(exc, DiskFullError):
                        yield PoolEvent("disk_full", job, message=str(cause))
                    else:
                        yield PoolEvent("error", job, message=f"{type(cause).__name__}: {cause}")
                    continue
                yield PoolEvent("done", job, EpisodeRecord.model_validate_json(text), wall_s)

    def cancel(self) -> list[EpisodeJob]:
        """Kill the running tasks (their worker processes; the episode processes follow by
        PR_SET_PDEATHSIG). Returns their jobs: their folders stay partial."""
        jobs = list(self._refs.values())
        for ref in list(self._refs):
            try:
                self.ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - already finished or gone
                pass
        self._refs.clear()
        return jobs

    def shutdown(self) -> None:
        if self.ray.is_initialized():
            self.ray.shutdown()
