"""`ifagent campaign run|report|compare|gap`: arguments, exit codes, output (fake episodes)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "core" / "campaign"))
import fake_episode  # noqa: E402

from ifagent_ros.cli import main  # noqa: E402
from ifagent_ros.core.campaign import episode_job  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fakes(monkeypatch):
    fake_episode.install(monkeypatch.setattr)
    monkeypatch.setattr(episode_job, "default_episode_command", lambda: fake_episode.COMMAND)
    monkeypatch.setattr(episode_job, "_default_metrics", lambda: fake_episode.fake_metrics)


def test_run_prints_a_summary_and_json_last(tmp_path, capsys, fakes):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", success={"b-0000": False})
    out = tmp_path / "run"
    code = main(["campaign", "run", str(scenario), "--out", str(out), "--workers", "2",
                 "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["episodes"] == 4 and summary["finished"] == 4 and summary["failed"] == 0
    assert summary["success_rate"] == {"a": 1.0, "b": 0.5}
    assert summary["workers"] == 2 and summary["backend"] == "local"
    assert summary["episodes_per_hour"] > 0 and summary["wall_s"] > 0
    assert "campaign fake: 4/4 episodes finished" in captured.err
    assert "b                success 1/2 (50%)" in captured.err
    assert (out / "campaign.json").exists()


def test_run_without_json_prints_the_summary_on_stdout(tmp_path, capsys, fakes):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", conditions=("a",), episodes=1)
    assert main(["campaign", "run", str(scenario), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("campaign fake: 1/1 episodes finished") and "{" not in out


def test_default_out_is_runs_slash_the_scenario_name(tmp_path, capsys, fakes, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml", name="demo", conditions=("a",),
                                           episodes=1)
    assert main(["campaign", "run", str(scenario), "--episodes", "1", "--conditions", "a"]) == 0
    assert (tmp_path / "runs" / "demo" / "episodes" / "a-0000" / "episode.json").exists()


def test_bad_scenario_exits_2_with_the_loaders_message(tmp_path, capsys):
    # the real scenario loader: its file:line message reaches the user unchanged
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nepisodes: [\n")
    assert main(["campaign", "run", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ifagent campaign run: bad.yaml:") and "not valid YAML" in err


def test_unwritable_out_and_ray_unreachable_exit_2(tmp_path, capsys, fakes):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    (tmp_path / "file").write_text("x")
    assert main(["campaign", "run", str(scenario), "--out", str(tmp_path / "file" / "r")]) == 2
    assert "cannot write the run folder --out" in capsys.readouterr().err
    pytest.importorskip("ray")
    assert main(["campaign", "run", str(scenario), "--out", str(tmp_path / "r"),
                 "--ray", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "Ray at 127.0.0.1:1 is unreachable" in err and "--workers N" in err


def test_disk_full_exits_4(tmp_path, capsys, fakes, monkeypatch):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    assert main(["campaign", "run", str(scenario), "--out", str(tmp_path / "r"),
                 "--min-free-mb", str(10**12)]) == 4
    assert "free space and rerun to resume" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--workers", "0"], ["--episodes", "x"],
                                  ["--conditions", ","]])
def test_bad_arguments_are_usage_errors(tmp_path, capsys, args):
    with pytest.raises(SystemExit) as exc:
        main(["campaign", "run", str(tmp_path / "s.yaml"), *args])
    assert exc.value.code == 2


def test_real_mode_refuses_an_unarmed_params_file(tmp_path, capsys, fakes):
    scenario = fake_episode.write_scenario(tmp_path / "s.yaml")
    robot = tmp_path / "robot.yaml"
    robot.write_text("executor_node:\n  ros__parameters:\n    require_deadman: false\n")
    assert main(["campaign", "run", str(scenario), "--real", str(robot)]) == 2
    err = capsys.readouterr().err
    assert "refusing a real-robot campaign" in err and "require_deadman" in err


def test_report_compare_gap_run_their_verb_modules(monkeypatch, capsys):
    calls: list[tuple[str, list]] = []
    for verb, nargs in (("report", 1), ("compare", 2), ("gap", 2)):
        fake = types.ModuleType(f"ifagent_ros.cli.campaign.{verb}")

        def add(parser, nargs=nargs):
            parser.add_argument("runs", nargs=nargs)
            parser.add_argument("--flag", action="store_true")

        def run(args, verb=verb):
            calls.append((verb, args.runs))
            return 5
        fake.add_arguments = add
        fake.run = run
        monkeypatch.setitem(sys.modules, f"ifagent_ros.cli.campaign.{verb}", fake)
    assert main(["campaign", "report", "runs/a"]) == 5
    assert main(["campaign", "compare", "runs/a", "runs/b", "--flag"]) == 5
    assert main(["campaign", "gap", "runs/sim", "runs/real"]) == 5
    assert calls == [("report", ["runs/a"]), ("compare", ["runs/a", "runs/b"]),
                     ("gap", ["runs/sim", "runs/real"])]


def test_campaign_help_lists_the_verbs(capsys):
    with pytest.raises(SystemExit):
        main(["campaign", "--help"])
    out = capsys.readouterr().out
    for verb in ("run", "report", "compare", "gap"):
        assert verb in out
