"""`ifagent eval r2r` on any folder of the R2R format."""

import argparse
import json

from r2r_world import write_world

from ifagent_ros.cli.eval import r2r as cli_eval_r2r


def run(argv):
    parser = argparse.ArgumentParser()
    cli_eval_r2r.add_arguments(parser)
    return cli_eval_r2r.run(parser.parse_args(argv))


def test_json_figures_for_every_planner(tmp_path, capsys):
    root = write_world(tmp_path / "r2r", split="val_seen")
    out = tmp_path / "episodes.jsonl"
    assert run(["--data", str(root), "--planner", "all", "--json",
                "--episodes-out", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["planner"] == "rule" and figures["split"] == "val_seen"
    for key in ("success_rate", "spl", "ne_m", "osr", "ndtw", "sdtw", "tl_m", "episodes",
                "plan_p50_ms", "plan_p99_ms"):
        assert key in figures
    assert figures["success_rate"] == 100.0 and figures["episodes"] == 1
    assert set(figures["by_planner"]) == {"rule", "stop", "random", "nearest-object"}
    assert figures["by_planner"]["stop"]["success_rate"] == 0.0
    assert any(line.startswith("rule") for line in lines)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 4 and rows[0]["trajectory"][0] == "S"


def test_clear_errors(tmp_path, capsys):
    assert run(["--data", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    root = write_world(tmp_path / "r2r", split="train")
    assert run(["--data", str(root), "--split", "val_seen"]) == 2
    assert "R2R_val_seen.json" in capsys.readouterr().err
    (root / "scans" / "toyhouse.json").unlink()
    assert run(["--data", str(root), "--split", "train"]) == 2
    assert "scan file not found" in capsys.readouterr().err


def test_llm_planner_needs_a_backend(tmp_path):
    root = write_world(tmp_path / "r2r", split="val_seen")
    try:
        run(["--data", str(root), "--planner", "llm"])
    except SystemExit as exc:
        assert "--llm-url" in str(exc)
    else:
        raise AssertionError("expected SystemExit")
