"""`ifagent demo`: sim + executor + teleop, driven by a scripted gamepad onto a named block.

Brings the graph of ``config/sim.yaml`` up headless in one process on a private DDS domain, records
every topic into an MCAP bag, waits for the scripted operator to finish, then reads the bag back and
prints a summary; ``runs/demo/`` gets the bag, ``ee_path.png``, ``camera.png`` and ``summary.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

DEMO_NODES = ["sim_node", "executor_node", "teleop_node", "scripted_gamepad_node", "recorder_node"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params", default="config/sim.yaml", help="ROS 2 params file of the graph"
    )
    parser.add_argument(
        "--target", default="red_block", help="id of the block to put the gripper on"
    )
    parser.add_argument("--out", default="runs/demo", help="output folder (replaced)")
    parser.add_argument(
        "--timeout", type=float, default=90.0, help="give up after this many seconds"
    )
    parser.add_argument("--seed", type=int, default=0, help="scene randomization seed")
    parser.add_argument("--domain-id", type=int, default=None)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.bringup import start_graph
    from ifagent_ros.cli.up import resolve_params_path
    from ifagent_ros.core.recording.teleop_metrics import load_episode, summarize

    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    bag = out / "bag"
    params = resolve_params_path(args.params)
    overrides: dict[str, dict[str, Any]] = {
        # The camera at 2 Hz keeps the bag of a 30 s run near 60 MB at 640x480.
        "sim_node": {"seed": args.seed, "camera.rate_hz": 2.0},
        "scripted_gamepad_node": {"target_id": args.target, "timeout_s": float(args.timeout)},
        "recorder_node": {"output": str(bag)},
    }
    domain = args.domain_id if args.domain_id is not None else random.randrange(120, 230)
    print(f"demo: bringing up {', '.join(DEMO_NODES)} (ROS_DOMAIN_ID {domain}) ...", flush=True)
    t0 = time.monotonic()
    graph = start_graph(params, nodes=DEMO_NODES, domain_id=domain, overrides=overrides)
    try:
        operator = graph.nodes["scripted_gamepad_node"]
        executor = graph.nodes["executor_node"]
        tolerance = float(operator.get_parameter("tolerance").value)
        clearance = float(operator.get_parameter("hover_height").value)
        last_print = 0.0
        while time.monotonic() - t0 < args.timeout + 15.0:
            status = operator.status()
            if status.get("done"):
                break
            if graph.error is not None:
                raise RuntimeError(f"graph stopped: {graph.error}")
            if time.monotonic() - last_print > 5.0:
                last_print = time.monotonic()
                dist = status.get("distance")
                dist_txt = f"{dist:.3f} m" if isinstance(dist, float) else "unknown"
                print(
                    f"  t={time.monotonic() - t0:5.1f} s  phase={status.get('phase')}"
                    f"  distance={dist_txt}",
                    flush=True,
                )
            time.sleep(0.1)
        time.sleep(1.0)  # let the last ground truth and status land in the bag
        vlimits = [float(x) for x in executor.core.filter.vmax]
        hw_limits = [float(x) for x in executor.config.limits.velocity]
        command_topic = str(executor.get_parameter("arm.trajectory_topic").value)
        arm_joints = list(executor.joint_names)
    finally:
        graph.stop()
    wall = time.monotonic() - t0
    episode = load_episode(bag, arm_joints, command_topic)
    summary = summarize(episode, args.target, tolerance, clearance, vlimits, hw_limits)
    summary["wall_time_s"] = round(wall, 1)
    summary["bag"] = str(bag)
    _plot_path(episode, args.target, out / "ee_path.png")
    summary["ee_path_png"] = str(out / "ee_path.png")
    if _save_snapshot(episode, out / "camera.png"):
        summary["camera_png"] = str(out / "camera.png")
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    _print_summary(summary)
    if args.json:
        print(json.dumps(summary))
    return 0 if summary.get("reached") else 1


def _print_summary(s: dict[str, Any]) -> None:
    print("\n=== demo summary ===")
    print(f"target            : {s['target_id']}")
    print(f"reached           : {s.get('reached')} (tolerance {s['tolerance_m']} m)")
    print(f"final distance    : {s.get('final_distance_m')} m")
    print(f"time to reach     : {s.get('time_to_reach_s')} s")
    print(f"EE path length    : {s.get('ee_path_length_m')} m")
    commanded = max(s.get("peak_commanded_joint_speed_rad_s") or [0.0])
    measured = max(s.get("peak_joint_speed_rad_s") or [0.0])
    print(
        f"peak joint speed  : commanded {commanded:.3f} rad/s "
        f"({s.get('peak_commanded_joint_speed_ratio')} x the executor's limit); measured "
        f"{measured:.3f} rad/s ({s.get('peak_joint_speed_ratio')} x that limit, "
        f"{s.get('peak_joint_speed_hardware_ratio')} x Franka's)"
    )
    print(
        f"limit interventions: {s.get('limit_interventions')} "
        "(control steps in which a limit changed the command; acceleration/jerk = smoothing)"
    )
    print(f"wall time         : {s['wall_time_s']} s")
    print(f"bag               : {s['bag']}  ({sum(s['messages'].values())} messages read back)")


def _plot_path(episode: Any, target_id: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Rectangle

    fig, (top, side) = plt.subplots(1, 2, figsize=(11, 4.5))
    for obj in episode.objects:
        x, y, _ = obj["position"]
        sx, sy, _ = obj["size"]
        colour = obj.get("color", "gray")
        try:
            top.add_patch(
                Rectangle(
                    (y - sy / 2, x - sx / 2), sy, sx, facecolor=colour, edgecolor="k", alpha=0.6
                )
            )
        except ValueError:
            top.add_patch(Rectangle((y - sy / 2, x - sx / 2), sy, sx, color="gray", alpha=0.6))
        top.annotate(
            obj["id"],
            (y, x),
            fontsize=7,
            ha="center",
            weight="bold" if obj["id"] == target_id else "normal",
        )
    if episode.ee_path:
        p = np.asarray(episode.ee_path)
        t = np.asarray(episode.times) - episode.times[0]
        top.plot(p[:, 1], p[:, 0], "k-", lw=1.2, label="gripper (TCP)")
        top.plot(p[0, 1], p[0, 0], "go", label="start")
        top.plot(p[-1, 1], p[-1, 0], "r*", ms=12, label="end")
        side.plot(t, p[:, 0], label="x")
        side.plot(t, p[:, 1], label="y")
        side.plot(t, p[:, 2], label="z")
    top.set_xlabel("y in base_link [m] (left +)")
    top.set_ylabel("x in base_link [m] (away from robot +)")
    top.invert_xaxis()  # seen from behind the robot: +y to the left
    top.set_aspect("equal")
    top.set_title("end-effector path over the table (top view)")
    top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    side.set_xlabel("time [s]")
    side.set_ylabel("position [m]")
    side.set_title("end-effector position")
    side.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _save_snapshot(episode: Any, path: Path) -> bool:
    img = episode.last_image
    if img is None:
        return False
    import cv2
    import numpy as np

    rgb = np.frombuffer(bytes(img.data), dtype=np.uint8).reshape(img.height, img.step)[
        :, : img.width * 3
    ]
    rgb = rgb.reshape(img.height, img.width, 3)
    return bool(cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)))
