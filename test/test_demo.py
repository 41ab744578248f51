"""`make demo` end to end: the scripted operator puts the gripper on the block, outputs exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ifagent_ros.core.recording import bag_summary

REPO = Path(__file__).resolve().parent.parent


def test_demo_reaches_the_block_and_writes_bag_plot_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "demo", "--out", str(out), "--timeout", "60",
         "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["reached"] is True
    assert summary["final_distance_m"] <= summary["tolerance_m"]
    # Read back from the bag: the executor never commanded more than its joint speed limit; the
    # simulated arm's PD tracking may overshoot that a little (more when the CPU is loaded and the
    # simulator catches up), but stays far below the hardware's limit.
    assert 0.0 < summary["peak_commanded_joint_speed_ratio"] <= 1.0 + 1e-9
    assert 0.0 < summary["peak_joint_speed_hardware_ratio"] <= 1.0
    for name in ("ee_path.png", "camera.png", "summary.json"):
        assert (out / name).stat().st_size > 200, name
    topics = bag_summary(out / "bag")
    for topic in ("/joy", "/joint_states", "/ifagent/ee_twist_cmd", "/sim/ground_truth",
                  "/panda_arm_controller/joint_trajectory", "/ifagent/executor/status",
                  "/camera/color/image_raw", "/camera/depth/image_raw", "/clock"):
        assert topics.get(topic, {}).get("count", 0) > 0, topic
