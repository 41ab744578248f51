"""ROS domain ids for concurrent episodes: a machine-local allocator built on lock files.

Every episode graph runs in a ROS domain of its own, so two episodes (of one campaign, of two
campaigns, or two Ray tasks that landed on the same machine) never see each other's topics.
An id is held by an exclusive ``fcntl.flock`` on ``/tmp/ifagent-domains/<id>.lock``. The kernel
drops the lock when the holder closes the file or dies, so a killed runner never leaks ids
(a lock *file* may stay behind; an unlocked file is free).

flock locks belong to the open file description, so two leases taken by threads of one process
exclude each other exactly like leases of two processes.

The range is ``IFAGENT_CAMPAIGN_DOMAINS="lo-hi"`` (inclusive), default 40..99: ROS 2 on Linux
maps domain ids above 101 to ports in the ephemeral range, and low ids are what people use by
hand (0 is everyone's default).
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DEFAULT_DOMAIN_RANGE",
    "DEFAULT_LOCK_DIR",
    "DomainAllocator",
    "DomainError",
    "DomainLease",
    "domain_range_from_env",
]

DEFAULT_DOMAIN_RANGE = (40, 99)
DEFAULT_LOCK_DIR = Path("/tmp/ifagent-domains")
ENV_RANGE = "IFAGENT_CAMPAIGN_DOMAINS"
MAX_DOMAIN_ID = 232  # ROS 2 / DDS upper bound of a domain id


class DomainError(RuntimeError):
    """No domain id can be handed out (bad range, lock directory unusable, all busy)."""


def parse_domain_range(text: str, *, where: str = ENV_RANGE) -> tuple[int, int]:
    """``"40-99"`` -> (40, 99); anything else is a :class:`DomainError` naming the problem."""
    parts = text.strip().split("-")
    try:
        lo, hi = (int(p) for p in parts)
    except ValueError:
        raise DomainError(f"{where}={text!r}: expected 'lo-hi' with integers, e.g. '40-99'")
    if not 0 <= lo <= hi <= MAX_DOMAIN_ID:
        raise DomainError(
            f"{where}={text!r}: need 0 <= lo <= hi <= {MAX_DOMAIN_ID} (ROS domain ids)")
    return lo, hi


def domain_range_from_env(environ: dict[str, str] | None = None) -> tuple[int, int]:
    env = os.environ if environ is None else environ
    text = env.get(ENV_RANGE, "").strip()
    return parse_domain_range(text) if text else DEFAULT_DOMAIN_RANGE


@dataclass
class DomainLease:
    """One held domain id; :meth:`release` (or leaving the ``with`` block) frees it."""

    domain_id: int
    _fd: int | None = field(default=None, repr=False)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            # Closing drops the flock; the file stays (unlinking would race with a new holder).
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DomainLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class DomainAllocator:
    """Hands out domain ids in ``[lo, hi]`` that no other lease on this machine holds."""

    def __init__(
        self,
        domain_range: tuple[int, int] | None = None,
        lock_dir: str | os.PathLike[str] = DEFAULT_LOCK_DIR,
    ) -> None:
        lo, hi = domain_range_from_env() if domain_range is None else domain_range
        if not 0 <= lo <= hi <= MAX_DOMAIN_ID:
            raise DomainError(f"domain range {lo}-{hi}: need 0 <= lo <= hi <= {MAX_DOMAIN_ID}")
        self.lo, self.hi = lo, hi
        self.lock_dir = Path(lock_dir)
        # Start the scan at a per-process offset: concurrent runners then rarely probe the
        # same files, and a freshly released id is not immediately reused by the next episode
        # (late DDS traffic of the old graph never meets the new one).
        self._next = os.getpid() % (hi - lo + 1)
        self._mutex = threading.Lock()

    def _try(self, domain_id: int) -> DomainLease | None:
        path = self.lock_dir / f"{domain_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:  # another user's lock file: flock works on a read-only fd
            fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        try:  # the holder's pid, for whoever wonders who holds the id
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass
        return DomainLease(domain_id, fd)

    def try_acquire(self) -> DomainLease | None:
        """A free id now, or None when every id of the range is held."""
        try:
            self.lock_dir.mkdir(parents=True, exist_ok=True)
            # A shared /tmp directory: other users' runners must be able to lock ids too.
            if self.lock_dir.stat().st_uid == os.getuid():
                os.chmod(self.lock_dir, 0o1777)
        except OSError as exc:
            raise DomainError(f"cannot use the domain lock directory {self.lock_dir}: {exc}")
        n = self.hi - self.lo + 1
        with self._mutex:
            start, self._next = self._next, (self._next + 1) % n
        for k in range(n):
            domain_id = self.lo + (start + k) % n
            try:
                lease = self._try(domain_id)
            except OSError as exc:
                raise DomainError(f"cannot lock {self.lock_dir / f'{domain_id}.lock'}: {exc}")
            if lease is not None:
                return lease
        return None

    def acquire(self, timeout_s: float = 60.0, poll_s: float = 0.2) -> DomainLease:
        """A free id, waiting up to ``timeout_s`` for one to be released."""
        deadline = time.monotonic() + timeout_s
        while True:
            lease = self.try_acquire()
            if lease is not None:
                return lease
            if time.monotonic() >= deadline:
                raise DomainError(
                    f"every ROS domain id in {self.lo}-{self.hi} is held by another episode on "
                    f"this machine (locks in {self.lock_dir}); run fewer workers or widen "
                    f"{ENV_RANGE}")
            time.sleep(poll_s)
