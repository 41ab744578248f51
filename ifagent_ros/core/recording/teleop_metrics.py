"""Teleoperation metrics computed from a recorded bag — not from node internals.

The same function reads a bag of the simulated demo or one recorded on the real robot with
``ros2 bag record -s mcap`` on the same topic names (ground truth is then absent, and the figures
that need it are None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.recording.bag import read_messages


@dataclass
class TeleopEpisode:
    times: list[float] = field(default_factory=list)  # ground-truth stamps, s
    ee_path: list[tuple[float, float, float]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)  # newest ground truth
    joint_names: list[str] = field(default_factory=list)
    joint_velocities: list[list[float]] = field(default_factory=list)
    # Joint velocities the executor commanded (streamed trajectory points / velocity commands).
    commanded_velocities: list[list[float]] = field(default_factory=list)
    executor_status: dict[str, Any] | None = None
    last_image: Any = None  # sensor_msgs/Image as deserialized by rosbags
    counts: dict[str, int] = field(default_factory=dict)


def _by_name(names: Any, values: Any, wanted: list[str]) -> list[float] | None:
    """``values`` reordered to ``wanted`` by joint name; None if a name or a value is missing."""
    if len(values) != len(names):
        return None
    index = {n: i for i, n in enumerate(names)}
    if not all(n in index for n in wanted):
        return None
    return [float(values[index[n]]) for n in wanted]


def load_episode(
    bag: str | Path,
    arm_joints: list[str],
    command_topic: str = "/panda_arm_controller/joint_trajectory",
) -> TeleopEpisode:
    ep = TeleopEpisode(joint_names=list(arm_joints))
    for topic, _type, _t_ns, msg in read_messages(
        bag,
        topics=[
            "/sim/ground_truth",
            "/joint_states",
            "/ifagent/executor/status",
            "/camera/color/image_raw",
            command_topic,
        ],
        on_unknown="skip",
    ):
        ep.counts[topic] = ep.counts.get(topic, 0) + 1
        if topic == "/sim/ground_truth":
            gt = json.loads(msg.data)
            if gt.get("ee_position") is not None:
                ep.times.append(float(gt["stamp"]))
                ep.ee_path.append(tuple(gt["ee_position"]))
            ep.objects = gt.get("objects", [])
        elif topic == "/joint_states":
            measured = _by_name(msg.name, msg.velocity, arm_joints)
            if measured is not None:
                ep.joint_velocities.append(measured)
        elif topic == command_topic:
            if hasattr(msg, "points"):  # JointTrajectory: velocities of its (last) point
                commanded = (
                    _by_name(msg.joint_names, msg.points[-1].velocities, arm_joints)
                    if msg.points
                    else None
                )
                if commanded is not None:
                    ep.commanded_velocities.append(commanded)
            elif len(msg.data) == len(arm_joints):  # Float64MultiArray joint velocities
                ep.commanded_velocities.append([float(x) for x in msg.data])
        elif topic == "/ifagent/executor/status":
            ep.executor_status = json.loads(msg.data)
        elif topic == "/camera/color/image_raw":
            ep.last_image = msg
    return ep


def hover_goal_of(obj: dict[str, Any], clearance: float) -> np.ndarray:
    pos = np.asarray(obj["position"], dtype=float)
    return pos + np.array([0.0, 0.0, float(obj["size"][2]) / 2.0 + clearance])


def summarize(
    ep: TeleopEpisode,
    target_id: str,
    tolerance: float,
    clearance: float,
    velocity_limits: list[float],
    hardware_velocity_limits: list[float] | None = None,
) -> dict[str, Any]:
    """Reached or not, final distance, path length, peak joint speed vs. limit, interventions.

    Joint speed is reported twice: as commanded (what the executor guarantees to keep within
    ``velocity_limits``) and as measured on ``/joint_states`` (what the arm's own controller made
    of it; it may overshoot a little, and is compared with the hardware's limits too).
    """
    out: dict[str, Any] = {"target_id": target_id, "tolerance_m": tolerance}
    target = next((o for o in ep.objects if o["id"] == target_id), None)
    if target is not None and ep.ee_path:
        goal = hover_goal_of(target, clearance)
        final = float(np.linalg.norm(np.asarray(ep.ee_path[-1]) - goal))
        out["final_distance_m"] = round(final, 4)
        out["reached"] = final <= tolerance
        d = np.linalg.norm(np.asarray(ep.ee_path) - goal, axis=1)
        hit = np.nonzero(d <= tolerance)[0]
        out["time_to_reach_s"] = round(ep.times[hit[0]] - ep.times[0], 2) if len(hit) else None
    else:
        out.update(final_distance_m=None, reached=False, time_to_reach_s=None)
    if len(ep.ee_path) > 1:
        out["ee_path_length_m"] = round(
            float(np.sum(np.linalg.norm(np.diff(np.asarray(ep.ee_path), axis=0), axis=1))), 4
        )
    limits = np.asarray(velocity_limits, dtype=float)
    out["joint_speed_limit_rad_s"] = [round(float(x), 4) for x in limits]
    if ep.commanded_velocities:
        peak_cmd = np.max(np.abs(np.asarray(ep.commanded_velocities)), axis=0)
        out["peak_commanded_joint_speed_rad_s"] = [round(float(x), 4) for x in peak_cmd]
        out["peak_commanded_joint_speed_ratio"] = round(float(np.max(peak_cmd / limits)), 4)
    if ep.joint_velocities:
        peak = np.max(np.abs(np.asarray(ep.joint_velocities)), axis=0)
        out["peak_joint_speed_rad_s"] = [round(float(x), 4) for x in peak]
        out["peak_joint_speed_ratio"] = round(float(np.max(peak / limits)), 4)
        if hardware_velocity_limits is not None:
            hw = np.asarray(hardware_velocity_limits, dtype=float)
            out["peak_joint_speed_hardware_ratio"] = round(float(np.max(peak / hw)), 4)
    status = ep.executor_status or {}
    out["limit_interventions"] = status.get("interventions", {})
    out["executor_rejections"] = status.get("rejections")
    out["messages"] = dict(ep.counts)
    return out
