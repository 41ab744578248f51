"""The machine-local ROS domain allocator: no id is ever held twice at once, across threads and
processes; ids come back when their holder dies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ifagent_ros.core.campaign.domains import (
    DEFAULT_DOMAIN_RANGE,
    DomainAllocator,
    DomainError,
    domain_range_from_env,
    parse_domain_range,
)

REPO = Path(__file__).resolve().parents[3]

def hold(lock_dir: Path, marks: Path, rounds: int) -> None:
    """Take an id, claim it with an O_EXCL marker file (which fails if another holder has the
    same id now: then a violation file is left), keep it a moment, give it back."""
    alloc = DomainAllocator((200, 202), lock_dir)
    for _ in range(rounds):
        with alloc.acquire(timeout_s=60, poll_s=0.001) as lease:
            mark = marks / str(lease.domain_id)
            try:
                fd = os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                (marks / f"violation-{os.getpid()}-{time.monotonic_ns()}").touch()
                continue
            os.close(fd)
            time.sleep(0.002)
            mark.unlink()


def test_threads_and_processes_never_share_an_id(tmp_path):
    # 3 processes x 3 threads... 6 holders, 3 ids: plenty of contention
    lock_dir, marks = tmp_path / "locks", tmp_path / "marks"
    marks.mkdir()
    script = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
              f"from pathlib import Path; from test_domains import hold; "
              f"hold(Path({str(lock_dir)!r}), Path({str(marks)!r}), 40)")
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=REPO) for _ in range(3)]
    threads = [threading.Thread(target=hold, args=(lock_dir, marks, 40)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for p in procs:
        assert p.wait(timeout=120) == 0
    assert not [p.name for p in marks.iterdir()]  # no violation, every marker removed


def test_distinct_ids_until_exhausted_then_a_clear_error(tmp_path):
    alloc = DomainAllocator((10, 12), tmp_path)
    leases = [alloc.acquire(timeout_s=0) for _ in range(3)]
    assert sorted(lease.domain_id for lease in leases) == [10, 11, 12]
    assert DomainAllocator((10, 12), tmp_path).try_acquire() is None
    with pytest.raises(DomainError, match="every ROS domain id in 10-12 is held"):
        alloc.acquire(timeout_s=0)
    leases[1].release()
    again = alloc.acquire(timeout_s=0)
    assert again.domain_id == leases[1].domain_id
    for lease in leases + [again]:
        lease.release()


def test_id_is_freed_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from ifagent_ros.core.campaign.domains import DomainAllocator\n"
         f"lease = DomainAllocator((30, 30), {str(tmp_path)!r}).acquire()\n"
         "print(lease.domain_id, flush=True)\n"
         "time.sleep(600)\n"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "30"
        assert DomainAllocator((30, 30), tmp_path).try_acquire() is None
    finally:
        holder.kill()
        holder.wait()
    lease = DomainAllocator((30, 30), tmp_path).try_acquire()
    assert lease is not None and lease.domain_id == 30
    lease.release()


def test_range_from_the_environment():
    assert domain_range_from_env({}) == DEFAULT_DOMAIN_RANGE == (40, 99)
    assert domain_range_from_env({"IFAGENT_CAMPAIGN_DOMAINS": " 5-7 "}) == (5, 7)
    for bad in ("5", "7-5", "a-b", "0-300", "-1-3"):
        with pytest.raises(DomainError, match="IFAGENT_CAMPAIGN_DOMAINS"):
            parse_domain_range(bad)


def test_unusable_lock_directory_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DomainError, match="cannot use the domain lock directory"):
        DomainAllocator((1, 2), blocker / "locks").try_acquire()


def test_lease_records_its_holder(tmp_path):
    with DomainAllocator((50, 50), tmp_path).acquire() as lease:
        assert lease.held
        assert (tmp_path / "50.lock").read_text().strip() == str(os.getpid())
    assert not lease.held
    again = DomainAllocator((50, 50), tmp_path).try_acquire()  # released: free again
    assert again is not None
    again.release()
