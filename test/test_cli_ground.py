"""`ifagent ground` and `ifagent eval grounding`: one JSON line, file errors with exit code 2."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ifagent_ros.cli import ground as cli_ground
from ifagent_ros.cli.eval import grounding as cli_eval_grounding

REPO = Path(__file__).resolve().parent.parent
OBJECTS = [
    {"id": "red_l", "label": "block", "color": "red", "position": [0.5, 0.2, 0.02],
     "size": [0.04, 0.04, 0.04], "confidence": 0.9},
    {"id": "red_r", "label": "block", "color": "red", "position": [0.5, -0.2, 0.02],
     "size": [0.04, 0.04, 0.04], "confidence": 0.9, "last_seen": 12.5},
    {"id": "bowl", "label": "bowl", "color": "blue", "position": [0.7, 0.0, 0.03],
     "size": [0.15, 0.15, 0.06], "confidence": 0.8},
]


def write(tmp_path: Path, data: Any, name: str = "objects.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def ground(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str]:
    parser = argparse.ArgumentParser()
    cli_ground.add_arguments(parser)
    code = cli_ground.run(parser.parse_args(argv))
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]) if code == 0 else lines, err


def test_prints_one_json_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"objects": OBJECTS})
    code, out, err = ground(["--objects", str(path), "the blue bowl"], capsys)
    assert code == 0 and err == ""
    assert out == {"ids": ["bowl"], "ambiguous": False, "question": None, "message": None}
    code, out, _ = ground(["--objects", str(path), "Pick up the red block, please"], capsys)
    assert out["ambiguous"] is True and sorted(out["ids"]) == ["red_l", "red_r"]
    assert out["question"] == "Which red block: the left or the right one?"
    code, out, _ = ground(["--objects", str(path), "le bloc rouge"], capsys)
    assert out["ids"] == [] and "'bloc'" in out["message"]


def test_flip_left_right(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"objects": OBJECTS})
    _, out, _ = ground(["--objects", str(path), "the leftmost block"], capsys)
    assert out["ids"] == ["red_l"]
    _, out, _ = ground(["--objects", str(path), "the leftmost block", "--flip-left-right"], capsys)
    assert out["ids"] == ["red_r"]


def test_object_list_with_stamp_and_extra_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = {"version": 1, "stamp": 3.0, "frame_id": "base_link", "source": "geometric",
            "objects": OBJECTS, "status": "ok"}
    _, out, _ = ground(["--objects", str(write(tmp_path, full)), "the blue bowl"], capsys)
    assert out["ids"] == ["bowl"]
    loose = {"objects": OBJECTS, "note": "hand-made"}  # no stamp: only the objects are checked
    _, out, _ = ground(["--objects", str(write(tmp_path, loose)), "the blue bowl"], capsys)
    assert out["ids"] == ["bowl"]
    typo = dict(full, colour="red")  # with a stamp, the whole ObjectList must be valid
    code, _, err = ground(["--objects", str(write(tmp_path, typo)), "the blue bowl"], capsys)
    assert code == 2 and "colour" in err


def test_nan_positions_are_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps({"objects": OBJECTS}).replace("[0.5, -0.2, 0.02]", "[NaN, -0.2, 0.02]")
    _, out, _ = ground(["--objects", str(write(tmp_path, text)), "the red block"], capsys)
    assert out["ids"] == ["red_l"] and not out["ambiguous"]


@pytest.mark.parametrize("content, problem", [
    (None, "no such file"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", '"objects" list'),
    (json.dumps({"objects": [{"id": "x", "label": "block"}]}), "invalid object list"),
    (json.dumps({"objects": [dict(OBJECTS[0], confidence=3.0)]}), "confidence"),
])
def test_bad_files_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, problem: str
) -> None:
    path = tmp_path / "scene.json" if content is None else write(tmp_path, content, "scene.json")
    code, out, err = ground(["--objects", str(path), "the red block"], capsys)
    assert code == 2 and out == []
    assert str(path) in err and problem in err


def test_through_the_ifagent_command(tmp_path: Path) -> None:
    path = write(tmp_path, {"objects": OBJECTS})
    result = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "ground", "--objects", str(path),
         "the red block on the right"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["ids"] == ["red_r"]
    missing = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "ground", "--objects", str(tmp_path / "no.json"),
         "it"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert missing.returncode == 2 and "no.json" in missing.stderr


def test_eval_grounding_prints_a_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    cli_eval_grounding.add_arguments(parser)
    code = cli_eval_grounding.run(parser.parse_args(["--n", "50", "--json"]))
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert any(line.startswith("overall") for line in lines)
    figures = json.loads(lines[-1])
    assert figures["n_expressions"] == 50 and figures["grounding_accuracy"] >= 0.95
    assert "grounding_accuracy_reference" in figures and "grounding_accuracy_space" in figures
    code = cli_eval_grounding.run(
        parser.parse_args(["--n", "10", "--min-accuracy", "1.01"])
    )
    assert code == 1


def test_eval_through_the_ifagent_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "eval", "grounding", "--n", "40", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["n_expressions"] == 40
