"""Stand-ins for the campaign's collaborators, so the runner is tested fast and alone.

- The episode program (``python fake_episode.py EPISODE_DIR``): behaves like
  ``ifagent_ros.campaign_episode`` per its mode: ``ok`` (run.json + a tiny bag), ``slow``
  (sleeps ``slow_s`` first), ``crash`` (exit 3 after a few log lines), ``hang`` (never ends; its
  child ``sleep`` too), ``hang_hard`` (also ignores SIGTERM), ``corrupt_bag`` (exit 0, bag
  unreadable), ``no_run_json`` (exit 0, nothing written). The mode comes from the spec
  (``task.episode["fake"]``, set by the fake scenario) or ``IFAGENT_FAKE_MODES`` (JSON
  ``{episode_id: mode}``), which wins. Real mode (``spec.real``): creates ``awaiting_verdict``
  and waits for ``verdict.json`` as the real one does.
- A scenario format (``load_scenario``/``expand``/``scenario_sha256``/``ScenarioError``), put in
  place of ``core.campaign.scenario``'s by :func:`install`.
- :func:`fake_metrics`, the metrics of the fake bag (``MetricsError`` on a corrupt one).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
COMMAND = (sys.executable, str(Path(__file__).resolve()))


class ScenarioError(ValueError):
    pass


class MetricsError(Exception):
    pass


# ---- scenario -------------------------------------------------------------------------------

def write_scenario(path: Path, *, name: str = "fake", conditions: tuple[str, ...] = ("a", "b"),
                   episodes: int = 2, modes: dict[str, str] | None = None, slow_s: float = 0.0,
                   wall_limit_s: float = 60.0, success: dict[str, bool] | None = None) -> Path:
    """A fake scenario file; ``modes``/``success`` by episode id (default ok / success)."""
    path.write_text(yaml.safe_dump({
        "name": name, "conditions": list(conditions), "episodes": episodes,
        "modes": modes or {}, "slow_s": slow_s, "wall_limit_s": wall_limit_s,
        "success": success or {}}), encoding="utf-8")
    return path


def load_scenario(path: str | Path) -> SimpleNamespace:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario file: {exc.strerror}") from None
    if not isinstance(data, dict) or "name" not in data:
        raise ScenarioError(f"{Path(path).name}:1: a scenario needs a name")
    if data.get("checkpoint") and not Path(data["checkpoint"]).exists():
        raise ScenarioError(f"{Path(path).name}:1: model {data['checkpoint']} does not exist")
    return SimpleNamespace(**data)


def expand(scenario: Any, *, campaign_name: str | None = None, real: bool = False) -> list:
    from ifagent_ros.core.campaign.types import EpisodeSpec, TaskSpec

    specs = []
    for cond in scenario.conditions:
        for i in range(scenario.episodes):
            eid = f"{cond}-{i:04d}"
            fake = {"mode": scenario.modes.get(eid, "ok"), "slow_s": scenario.slow_s,
                    "success": scenario.success.get(eid, True)}
            specs.append(EpisodeSpec(
                campaign=campaign_name or scenario.name, episode_id=eid, condition=cond,
                index=i, seed=i, scene_seed=1000 + i,
                task=TaskSpec(kind="shared_autonomy", family="push", episode={"fake": fake}),
                params_file="/nonexistent/sim.yaml", nodes=["sim_node", "sim_user_node"],
                overrides={"sim_node": {"seed": 1000 + i}, "executor_node": {"x": 1}},
                wall_limit_s=float(scenario.wall_limit_s), real=real))
    return specs


def scenario_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def install(setattr_: Any = setattr) -> None:
    """Replace the scenario API that the runner uses (pass ``monkeypatch.setattr`` in tests)."""
    from ifagent_ros.core.campaign import scenario

    for name in ("load_scenario", "expand", "scenario_sha256", "ScenarioError"):
        setattr_(scenario, name, globals()[name])


def install_defaults() -> None:
    """Also make the fakes the runner's default episode command and metrics (for a CLI run in a
    subprocess: ``python -c 'import fake_episode; fake_episode.install_defaults(); ...'``)."""
    from ifagent_ros.core.campaign import episode_job

    install()
    episode_job.default_episode_command = lambda: COMMAND
    episode_job._default_metrics = lambda: fake_metrics


# ---- metrics --------------------------------------------------------------------------------

def fake_metrics(bag_dir: Path, spec: Any, operator_verdict: dict | None = None
                 ) -> SimpleNamespace:
    path = Path(bag_dir) / "fake.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetricsError(f"{bag_dir}: no bag") from None
    except ValueError as exc:
        raise MetricsError(f"{path}: truncated or corrupt ({exc})") from None
    success, valid = bool(data["success"]), True
    if operator_verdict is not None:
        success, valid = bool(operator_verdict["success"]), bool(operator_verdict["valid"])
    return SimpleNamespace(success=success, valid=valid,
                           values={"time_to_success_s": 1.5, "domain_id": spec.domain_id},
                           trajectory={"t": [0.0, 1.0], "x": [0.1, 0.2]})


# ---- the episode program ----------------------------------------------------------------------

def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def main(argv: list[str]) -> int:
    folder = Path(argv[1])
    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    fake = spec["task"]["episode"].get("fake", {})
    mode = json.loads(os.environ.get("IFAGENT_FAKE_MODES") or "{}").get(
        spec["episode_id"], fake.get("mode", "ok"))
    _write(folder / "fake_env.json", {
        "pid": os.getpid(), "pgid": os.getpgid(0), "mode": mode,
        "ROS_DOMAIN_ID": os.environ.get("ROS_DOMAIN_ID"),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE")})
    print(f"fake episode {spec['episode_id']} mode {mode} domain {spec['domain_id']}", flush=True)
    if mode == "crash":
        print("Traceback (most recent call last):\nRuntimeError: boom: simulated crash",
              file=sys.stderr, flush=True)
        return 3
    if mode in ("hang", "hang_hard"):
        if mode == "hang_hard":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "1000"])  # same process group: must die with us
        (folder / "grandchild.pid").write_text(str(child.pid))
        print("hanging", flush=True)
        while True:
            time.sleep(1.0)
    if mode == "slow":
        time.sleep(float(fake.get("slow_s", 1.0)))
    if mode == "no_run_json":
        return 0
    success = bool(fake.get("success", True))
    end_reason = "done"
    if spec.get("real"):
        (folder / "awaiting_verdict").touch()
        while not (folder / "verdict.json").exists():
            time.sleep(0.02)
        verdict = json.loads((folder / "verdict.json").read_text(encoding="utf-8"))
        success, end_reason = bool(verdict["success"]), "operator"
    bag = folder / "bag"
    bag.mkdir()
    (bag / "metadata.yaml").write_text("rosbag2_bagfile_information: {}\n")
    if mode == "corrupt_bag":
        (bag / "fake.json").write_text('{"succ')
    else:
        _write(bag / "fake.json", {"success": success})
    _write(folder / "run.json", {
        "episode_id": spec["episode_id"], "end_reason": end_reason, "wall_s": 0.1,
        "startup_s": 0.01, "episode_time_s": 0.09, "real_time_factor": 1.0,
        "nodes_alive": spec["nodes"], "bag_messages": 3, "bag_bytes": 120})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
