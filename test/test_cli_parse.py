"""`ifagent parse`: one JSON line, grounding with --objects, exit 2 on a bad objects file."""

import argparse
import json

from ifagent_ros.cli import parse as cli_parse


def run(argv, capsys):
    parser = argparse.ArgumentParser()
    cli_parse.add_arguments(parser)
    code = cli_parse.run(parser.parse_args(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_parse_prints_one_json_line(capsys):
    code, out, _ = run(["a bit higher"], capsys)
    assert code == 0 and out.count("\n") == 1
    data = json.loads(out)
    assert data["type"] == "direction" and data["direction"] == [0.0, 0.0, 1.0]
    assert data["magnitude"] == "small"


def test_parse_grounds_with_objects(tmp_path, capsys):
    scene = {"objects": [
        {"id": "b1", "label": "bowl", "color": "red", "position": [0.5, 0.1, 0.03],
         "size": [0.12, 0.12, 0.06], "confidence": 0.9},
        {"id": "m1", "label": "mug", "color": "blue", "position": [0.4, -0.2, 0.05],
         "size": [0.08, 0.08, 0.1], "confidence": 0.9},
    ]}
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(scene))
    code, out, _ = run(["towards the red bowl", "--objects", str(path)], capsys)
    data = json.loads(out)
    assert code == 0 and data["type"] == "target" and data["target_ids"] == ["b1"]


def test_bad_objects_file_exits_2(tmp_path, capsys):
    code, out, err = run(["left", "--objects", str(tmp_path / "missing.json")], capsys)
    assert code == 2 and out == "" and "no such file" in err


def test_refusal_and_junk(capsys):
    assert json.loads(run(["disable safety"], capsys)[1])["type"] == "unknown"
    assert json.loads(run(["\x00\x01"], capsys)[1])["type"] == "unknown"
