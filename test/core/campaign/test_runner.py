"""The campaign runner with a fake episode program, fake scenario and fake metrics
(``fake_episode.py``): workers, crashes, hangs, resume, bad input, Ray."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import fake_episode
import pytest

from ifagent_ros.core.campaign import episode_job, runner
from ifagent_ros.core.campaign.runner import CampaignError, run_campaign
from ifagent_ros.core.campaign.types import CampaignIndex, EpisodeRecord, EpisodeSpec

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def fake_scenario_api(monkeypatch):
    fake_episode.install(monkeypatch.setattr)


def run(scenario: Path, out: Path, **kw):
    kw.setdefault("episode_command", fake_episode.COMMAND)
    kw.setdefault("metrics_fn", fake_episode.fake_metrics)
    kw.setdefault("progress", io.StringIO())
    return run_campaign(scenario, out, **kw)


def record(out: Path, eid: str) -> EpisodeRecord:
    return EpisodeRecord.model_validate_json((out / "episodes" / eid / "episode.json").read_text())


def index(out: Path) -> CampaignIndex:
    return CampaignIndex.model_validate_json((out / "campaign.json").read_text())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_four_episodes_two_workers_write_the_run_folder(tmp_path):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", success={"b-0001": False})
    out = tmp_path / "run"
    stream = io.StringIO()
    result = run(scenario, out, workers=2, progress=stream)

    assert (result.total, result.finished, result.ran, result.failed) == (4, 4, 4, 0)
    assert result.exit_code == 0 and result.stopped is None
    assert {c: (t.successes, t.counted) for c, t in result.conditions.items()} == {
        "a": (2, 2), "b": (1, 2)}
    assert (out / "scenario.yaml").read_bytes() == scenario.read_bytes()
    idx = index(out)
    assert idx.name == "fake" and idx.scenario_sha256 == fake_episode.scenario_sha256(scenario)
    assert [(r.episode_id, r.status, r.success) for r in idx.episodes] == [
        ("a-0000", "ok", True), ("a-0001", "ok", True), ("b-0000", "ok", True),
        ("b-0001", "ok", False)]
    assert idx.runner["workers"] == 2 and idx.runner["backend"] == "local"
    domains = set()
    for eid in ("a-0000", "a-0001", "b-0000", "b-0001"):
        folder = out / "episodes" / eid
        rec = record(out, eid)
        spec = EpisodeSpec.model_validate_json((folder / "spec.json").read_text())
        env = json.loads((folder / "fake_env.json").read_text())
        assert spec.domain_id is not None and rec.spec.domain_id == spec.domain_id
        assert env["ROS_DOMAIN_ID"] == str(spec.domain_id)
        assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
        assert env["pgid"] == env["pid"]  # its own process group
        assert rec.metrics["domain_id"] == spec.domain_id
        assert json.loads((folder / "trajectory.json").read_text())["x"] == [0.1, 0.2]
        assert rec.run is not None and rec.run.bag_messages == 3 and rec.bag == "bag"
        assert rec.versions["python"] and rec.versions["ifagent_ros"] == "0.1.0"
        assert rec.finished_at.endswith("+00:00")
        assert "mode ok" in (folder / "log.txt").read_text()
        domains.add(spec.domain_id)
    assert len(domains) >= 1
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("[campaign] 4/4 done | success 3 (75%)")
    summary = result.to_json()
    assert summary["success_rate"] == {"a": 1.0, "b": 0.5} and summary["backend"] == "local"


def test_crash_fails_the_episode_and_the_campaign_goes_on(tmp_path):
    scenario = fake_episode.write_scenario(
        tmp_path / "s.yaml", conditions=("a",), episodes=3,
        modes={"a-0000": "crash", "a-0001": "corrupt_bag", "a-0002": "no_run_json"})
    out = tmp_path / "run"
    result = run(scenario, out, workers=2)
    assert (result.finished, result.failed) == (3, 3) and result.exit_code == 0
    crash = record(out, "a-0000")
    assert crash.status == "failed" and not crash.success
    assert crash.failure_reason.startswith("episode process failed: exit code 3")
    assert "boom: simulated crash" in crash.failure_reason  # the log tail
    corrupt = record(out, "a-0001")
    assert corrupt.status == "failed"
    assert corrupt.failure_reason.startswith("metrics: ") and "corrupt" in corrupt.failure_reason
    nothing = record(out, "a-0002")
    assert "no run.json" in nothing.failure_reason
    assert [r.status for r in index(out).episodes] == ["failed"] * 3


def test_hang_is_killed_at_the_wall_limit_with_its_children(tmp_path, monkeypatch):
    monkeypatch.setattr(episode_job, "KILL_GRACE_S", 0.5)
    scenario = fake_episode.write_scenario(
        tmp_path / "s.yaml", conditions=("a",), episodes=3, wall_limit_s=1.0,
        modes={"a-0000": "hang", "a-0001": "hang_hard"})
    out = tmp_path / "run"
    result = run(scenario, out, workers=3)
    assert result.failed == 2 and result.finished == 3
    for eid in ("a-0000", "a-0001"):
        rec = record(out, eid)
        assert rec.status == "failed"
        assert rec.failure_reason.startswith("hung: killed after 1 s")
        assert "hanging" in rec.failure_reason  # log tail
        grandchild = int((out / "episodes" / eid / "grandchild.pid").read_text())
        assert not _alive(grandchild)  # the whole process group went
    assert record(out, "a-0002").status == "ok"


def _index_mtime(out: Path) -> float:
    return (out / "campaign.json").stat().st_mtime_ns


def test_resume_after_the_runner_is_killed(tmp_path):
    scenario = fake_episode.write_scenario(
        tmp_path / "s.yaml", conditions=("a",), episodes=4, slow_s=0.6,
        modes={f"a-{i:04d}": "slow" for i in range(4)})
    out = tmp_path / "run"
    driver = ("import sys; import fake_episode; fake_episode.install_defaults(); "
              "from ifagent_ros.cli import main; sys.exit(main(sys.argv[1:]))")
    cmd = [sys.executable, "-c", driver, "campaign", "run", str(scenario), "--out", str(out),
           "--workers", "1"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fake_episode.__file__).parent), str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = list(out.glob("episodes/*/episode.json"))
            if len(done) >= 2:
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no cleanup at all
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("episodes/*/episode.json")}
    assert 2 <= len(finished) < 4
    CampaignIndex.model_validate_json((out / "campaign.json").read_text())  # never torn
    # the running episode died with the runner (PR_SET_PDEATHSIG), leaving a partial folder
    for folder in out.glob("episodes/*"):
        if folder.name not in finished and (folder / "fake_env.json").exists():
            pid = json.loads((folder / "fake_env.json").read_text())["pid"]
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
            assert not _alive(pid)

    rerun = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: {len(finished)}/4 finished" in rerun.stderr
    summary = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert summary["finished"] == 4 and summary["ran"] == 4 - len(finished)
    for eid, mtime in finished.items():
        assert (out / "episodes" / eid / "episode.json").stat().st_mtime_ns == mtime
    assert [r.status for r in index(out).episodes] == ["ok"] * 4


def test_rerun_with_another_scenario_file_is_refused(tmp_path):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=1)
    out = tmp_path / "run"
    assert run(scenario, out).finished == 1
    fake_episode.write_scenario(scenario, conditions=("a",), episodes=2)
    with pytest.raises(CampaignError, match="different scenario file") as err:
        run(scenario, out)
    assert "--out" in str(err.value) and err.value.exit_code == 2


def test_finished_campaign_reruns_nothing_and_partial_folder_is_rerun(tmp_path):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=2)
    out = tmp_path / "run"
    run(scenario, out)
    partial = out / "episodes" / "a-0001"
    (partial / "episode.json").unlink()
    (partial / "stale.txt").write_text("left by a killed run")
    result = run(scenario, out)
    assert (result.ran, result.resumed, result.finished) == (1, 1, 2)
    assert not (partial / "stale.txt").exists() and record(out, "a-0001").status == "ok"
    assert run(scenario, out).ran == 0


def test_unwritable_out_and_foreign_folder(tmp_path):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CampaignError, match="cannot write the run folder --out"):
        run(scenario, blocker / "run")
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("x")
    with pytest.raises(CampaignError, match="not empty and has no campaign.json"):
        run(scenario, foreign)
    assert (foreign / "chapter1.tex").exists()


def test_scenario_error_and_bad_selection(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("checkpoint: /nonexistent/model.pt\nname: x\n")
    with pytest.raises(CampaignError, match="model /nonexistent/model.pt does not exist"):
        run(bad, tmp_path / "run")
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    with pytest.raises(CampaignError, match="--conditions: c not in the scenario"):
        run(scenario, tmp_path / "run", conditions=["c"])
    with pytest.raises(CampaignError, match="--episodes 3: the scenario has 2"):
        run(scenario, tmp_path / "run", episodes=3)
    result = run(scenario, tmp_path / "run", episodes=1, conditions=["b"])
    assert list(result.records) == ["b-0000"]
    assert [r.status for r in index(tmp_path / "run").episodes] == [
        "pending", "pending", "ok", "pending"]


DiskUsage = namedtuple("DiskUsage", "total used free")


def test_disk_full_stops_launching_and_keeps_what_is_done(tmp_path, monkeypatch):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=4)
    out = tmp_path / "run"
    calls = {"n": 0}

    def disk_usage(path):
        calls["n"] += 1  # the start check, then one check before each episode
        return DiskUsage(10**12, 0, 10**12 if calls["n"] <= 3 else 10 * 2**20)

    monkeypatch.setattr(episode_job.shutil, "disk_usage", disk_usage)
    result = run(scenario, out, workers=1)
    assert result.exit_code == 4 and result.stopped == "disk_full"
    assert result.finished == 2
    assert "disk full" in result.message and "2 finished episodes kept" in result.message
    assert "free space and rerun to resume" in result.message
    assert [r.status for r in index(out).episodes] == ["ok", "ok", "pending", "pending"]
    assert not (out / "episodes" / "a-0002" / "episode.json").exists()


def test_enospc_while_writing_stops_the_campaign(tmp_path, monkeypatch):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=3)
    real_write = episode_job.write_json_atomic

    def write(path, data):
        if path.name == "trajectory.json" and "a-0001" in str(path):
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(episode_job, "write_json_atomic", write)
    result = run(scenario, tmp_path / "run", workers=1)
    assert result.exit_code == 4 and result.finished == 1
    assert "No space left" in result.message


def test_stop_event_interrupts_kills_children_and_keeps_finished(tmp_path):
    scenario = fake_episode.write_scenario(
        tmp_path / "s.yaml", conditions=("a",), episodes=3, modes={"a-0001": "hang"})
    out = tmp_path / "run"
    stop = threading.Event()

    def stop_when_hanging():
        while not (out / "episodes" / "a-0001" / "grandchild.pid").exists():
            time.sleep(0.02)
        stop.set()

    threading.Thread(target=stop_when_hanging, daemon=True).start()
    result = run(scenario, out, workers=1, stop=stop)
    assert result.exit_code == 130 and result.finished == 1
    assert "rerun the same command to resume" in result.message
    grandchild = int((out / "episodes" / "a-0001" / "grandchild.pid").read_text())
    assert not _alive(grandchild)
    assert [r.status for r in index(out).episodes] == ["ok", "pending", "pending"]


def test_missing_default_episode_module_is_a_clear_error(tmp_path, monkeypatch):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    monkeypatch.setattr(episode_job, "default_episode_command",
                        lambda: (sys.executable, "-m", "ifagent_ros.no_such_episode_module"))
    with pytest.raises(CampaignError, match="no_such_episode_module"):
        run_campaign(scenario, tmp_path / "run", metrics_fn=fake_episode.fake_metrics,
                     progress=None)


def test_ray_local_two_episodes(tmp_path):
    pytest.importorskip("ray", reason="ray is in requirements.txt; CI installs it")
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=2)
    out = tmp_path / "run"
    result = run(scenario, out, ray="local", workers=2)
    assert result.backend == "ray (local)" and result.workers == 2
    assert result.finished == 2 and result.failed == 0 and result.exit_code == 0
    assert [r.status for r in index(out).episodes] == ["ok", "ok"]
    assert record(out, "a-0000").metrics["time_to_success_s"] == 1.5


def test_ray_unreachable_is_a_clear_message(tmp_path):
    pytest.importorskip("ray")
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    with pytest.raises(CampaignError) as err:
        run(scenario, tmp_path / "run", ray="127.0.0.1:1")
    assert str(err.value).startswith("Ray at 127.0.0.1:1 is unreachable (")
    assert "run without --ray to use local workers (--workers N)" in str(err.value)
    assert err.value.exit_code == 2


def test_ray_not_installed_is_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    with pytest.raises(CampaignError, match="Ray is not installed .*run without --ray"):
        run(scenario, tmp_path / "run", ray="local")


def test_result_json_counts_invalid_apart(tmp_path):
    # the JSON summary is what --json prints: one object, rates per condition
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=1)
    summary = run(scenario, tmp_path / "run").to_json()
    assert set(summary) >= {"episodes", "finished", "failed", "success_rate", "wall_s",
                            "episodes_per_hour", "workers", "backend"}
    assert summary["episodes"] == 1 and summary["success_rate"] == {"a": 1.0}
    assert runner.EXIT_INTERRUPTED == 130


def test_sigterm_stops_like_ctrl_c(tmp_path):
    # the runner in a subprocess gets SIGTERM while an episode hangs
    scenario = fake_episode.write_scenario(
        tmp_path / "s.yaml", conditions=("a",), episodes=2, modes={"a-0001": "hang"})
    out = tmp_path / "run"
    driver = ("import sys; import fake_episode; fake_episode.install_defaults(); "
              "from ifagent_ros.cli import main; sys.exit(main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(fake_episode.__file__).parent), str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", driver, "campaign", "run", str(scenario),
                             "--out", str(out)], env=env, stderr=subprocess.PIPE, text=True)
    flag = out / "episodes" / "a-0001" / "grandchild.pid"
    deadline = time.monotonic() + 60
    while not flag.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: 1/2 episodes finished" in err and "rerun the same command" in err
    assert not _alive(int(flag.read_text()))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_updating_line_on_a_terminal(tmp_path):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=2,
                                           modes={"a-0001": "crash"})
    out = tmp_path / "run"
    run(scenario, out)
    (out / "episodes" / "a-0001" / "episode.json").unlink()  # rerun one: "resuming" shows
    stream = _Tty()
    run(scenario, out, progress=stream)
    text = stream.getvalue()
    assert text.startswith("resuming: 1/2 finished\n")
    frames = text.split("\n", 1)[1].split("\r")
    assert all("\n" not in f for f in frames[:-1]) and text.endswith("\n")  # redrawn in place
    assert frames[-1].strip() == "[campaign] 2/2 done | success 1 (50%) | running 0 | failed 1 " \
                                 "| ETA 0s"
