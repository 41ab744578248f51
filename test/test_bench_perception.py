"""`ifagent bench perception`: a tiny run of the benchmark, its matching and its CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from ifagent_ros.bench.perception import (
    PerceptionBenchConfig,
    goal_met,
    match,
    run_perception_bench,
)
from ifagent_ros.core.schemas import PerceivedObject

REPO = Path(__file__).resolve().parents[1]
CLI_KEYS = {"recall", "precision", "centroid_error_median_m", "color_accuracy", "fps_640x480",
            "fps_320x240", "id_switches_per_100_frames"}


def _gt(x: float, y: float, size: float = 0.04) -> dict:
    return {"position": (x, y, 0.02), "size": (size, size, 0.04), "label": "block",
            "color": "red"}


def _obj(i: int, x: float, y: float) -> PerceivedObject:
    return PerceivedObject(id=f"obj_{i}", label="block", color="red", position=(x, y, 0.02),
                           size=(0.04, 0.04, 0.04), confidence=0.9)


def test_match_hungarian_within_gate() -> None:
    gt = [_gt(0.4, 0.0), _gt(0.5, 0.0), _gt(0.6, 0.3, size=0.16)]
    objs = [_obj(0, 0.51, 0.0), _obj(1, 0.41, 0.005), _obj(2, 0.9, 0.9), _obj(3, 0.66, 0.3)]
    # The 16 cm object's gate is half its footprint (8 cm): 6 cm away still matches.
    assert match(gt, objs) == {0: 1, 1: 0, 2: 3}


def test_match_gate_and_empty_lists() -> None:
    assert match([_gt(0.4, 0.0)], [_obj(0, 0.44, 0.0)]) == {}  # 4 cm > 3 cm gate
    assert match([_gt(0.4, 0.0)], [_obj(0, 0.425, 0.0)]) == {0: 0}
    assert match([], [_obj(0, 0.4, 0.0)]) == {}
    assert match([_gt(0.4, 0.0)], []) == {}
    # One detection between two objects goes to the nearer one only.
    assert match([_gt(0.4, 0.0), _gt(0.45, 0.0)], [_obj(0, 0.44, 0.0)]) == {1: 0}


def test_goal_met_directions() -> None:
    assert goal_met("recall", 0.99) is True and goal_met("recall", 0.5) is False
    assert goal_met("centroid_error_median_m", 0.005) is True
    assert goal_met("centroid_error_median_m", 0.02) is False
    assert goal_met("precision", 0.5) is None and goal_met("recall", None) is None


def test_small_bench_run_figures() -> None:
    cfg = PerceptionBenchConfig(scenes=2, track_scenes=1, track_frames=5,
                                grounding_expressions=0)
    done = []
    result = run_perception_bench(cfg, progress=lambda k, n: done.append((k, n)))
    assert done == [(1, 2), (2, 2)]
    fig = result.figures()
    assert {"scenes", "visible_objects", "recall", "precision", "centroid_error_median_m",
            "centroid_error_p95_m", "color_accuracy", "shape_accuracy", "tracked_frames",
            "id_switches_per_100_frames", "fps_640x480", "fps_320x240", "p50_ms_640x480",
            "p95_ms_640x480", "p50_ms_320x240", "p95_ms_320x240"} <= set(fig)
    assert fig["scenes"] == 2 and fig["tracked_frames"] == 5
    assert fig["visible_objects"] >= 6  # at least 3 objects per scene
    assert fig["recall"] >= 0.9
    assert fig["precision"] >= 0.8
    assert 0.0 <= fig["centroid_error_median_m"] <= 0.02
    assert fig["color_accuracy"] >= 0.8
    assert fig["id_switches_per_100_frames"] is not None
    assert fig["fps_640x480"] > 0 and fig["fps_320x240"] > 0
    assert not any(k.startswith("grounding_") for k in fig)
    json.dumps(fig)  # plain JSON


def test_cli_bench_perception_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "bench", "perception", "--scenes", "2",
         "--track-scenes", "1", "--track-frames", "3", "--expressions", "0", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    fig = json.loads(last)
    assert isinstance(fig, dict) and CLI_KEYS <= set(fig)
    assert fig["scenes"] == 2 and fig["tracked_frames"] == 3
    assert fig["recall"] is not None and math.isfinite(fig["recall"])


def test_cli_bench_perception_rejects_bad_counts() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "bench", "perception", "--scenes", "0",
         "--expressions", "0"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "must be" in proc.stderr
