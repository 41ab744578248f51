"""Every campaign metric of one episode, computed from its bag alone (never from node internals),
so a bag recorded on the real robot with ``ros2 bag record -s mcap`` on the same topic names is
measured by the same code.

Timeline. Events on ``EVENTS_TOPIC`` (JSON :class:`CampaignEvent`): ``start`` is t0, ``end`` the
end, ``fault`` (``active`` true) the faults fired, the last ``verdict`` a fallback for success.
Without a start event (a plain robot recording) t0 is the first message and the end the last
one, and success must come from ``operator_verdict`` or a verdict event. Times are the bag's log
times (sim seconds in sim: the recorder runs on sim time), except that /joint_states, /odom,
/sim/base_pose and /joy use their header stamp, events, ground truth and object lists their
``stamp``, when set and within ``CLOCK_TOLERANCE_S`` of the log time.

Start-event detail read here: shared_autonomy ``family``, ``task_seed``, ``split`` (default
heldout), ``objects_at_start`` (list of ObjectPose dicts; empty: the first ground truth of the
episode) and optionally ``task_params`` (overrides the params sampled from the seed);
vln_houses ``goal`` [x, y], ``success_radius_m``, ``shortest_path_m``. The task is rebuilt as
sim_user_node builds it: ``sample_task(family, np.random.default_rng(task_seed), split)``.

Common metrics (None: not applicable or not measurable; ``values["notes"]`` says why where it
is surprising): ``success``, ``valid``, ``episode_time_s``, ``time_to_success_s``,
``limit_interventions`` (sum of the last executor status' ``interventions``, minus the last one
before t0 when the executor ran before the episode; per limit in ``interventions``),
``rejections`` (same), ``joint_speed_peak_ratio`` (max |qd| / velocity limit over samples and
arm joints), ``command_speed_peak_ratio`` / ``command_acc_peak_ratio`` (the same for what the
executor commanded: its arm command's velocities, and their change over
``COMMAND_ACC_WINDOW_S``; the measured
peaks also hold what the arm did on its own, e.g. a simulated contact's jolt),
``joint_acc_peak_ratio`` (velocity differences / dt, moving-averaged over
``ACC_SMOOTHING_SAMPLES``, / acceleration limit), ``joint_position_margin_min`` (rad to the
nearest position limit; negative: outside), ``joint_limit_violations`` (samples over
``VELOCITY_VIOLATION_FACTOR`` x a velocity limit or outside a position limit),
``estop_reaction_ms`` (first /ifagent/estop true -> first arm sample with every |qd| <
``ARM_STILL_RAD_S``), ``watchdog_reaction_ms`` (kill_node fault: the last arm command on
/ifagent/ee_twist_cmd before the commands went silent -> the arm still) and
``brake_from_kill_ms`` (the fault event -> the arm still), ``faults_fired``,
``fault_outcomes`` (per fault: the arm's peak and violations, the executor's modes and
rejections, brake time, safe; :mod:`~ifagent_ros.core.campaign.metrics_faults`), ``nodes_dead``,
``nodes_crashed`` (dead nodes that no kill_node fault targeted), ``bad_samples`` (NaN or
malformed samples skipped). Limits come from /ifagent/executor/status; arm joints are
panda_joint1..7 / fr3_joint1..7 (else the first 7 names) of /sim/raw/joint_states (the sim's
truth behind the fault relay) when recorded, else /joint_states.

Task metrics: the task's ``metrics`` in its ``core/campaign/tasks`` module (shared autonomy:
physical success re-judged on /sim/ground_truth by the one success rule, stick effort,
corrections, instructions; VLN: path length, navigation error, oracle success, SPL; perception:
matched error, recall, precision, label accuracy; success recall >= 0.8 and mean error <=
0.03 m); which topics they need: its ``required_topics``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.campaign.metrics_bag import (
    BASE_POSE,
    CORRECTION,
    EXECUTOR_STATUS,
    GROUND_TRUTH,
    INSTRUCTION,
    JOINT_STATES,
    JOY,
    NAV_STATUS,
    OBJECTS,
    ODOM,
    SAFETY_METRICS,
    SIM_USER_STATUS,
    TWIST,
    Joints,
    Recording,
    Timeline,
    read_joints,
    stamp_or_log,
)
from ifagent_ros.core.campaign.metrics_faults import fault_outcomes
from ifagent_ros.core.campaign.tasks import CampaignTask, get_task
from ifagent_ros.core.campaign.types import (
    EVENTS_TOPIC,
    RAW_PREFIX,
    CampaignEvent,
    EpisodeSpec,
)
from ifagent_ros.core.recording.bag import BagReader
from ifagent_ros.core.schemas import ExecutorLimits, ExecutorStatus

__all__ = ["METRIC_TOPICS", "EpisodeMetrics", "MetricsError", "MissingTopicsError",
           "episode_metrics"]

ESTOP = "/ifagent/estop"
RAW_JOINT_STATES = RAW_PREFIX + JOINT_STATES
# The executor's arm command (franka_ros2-style streamed single-point trajectories): the sim's
# and the FR3's controller topics; any other JointTrajectory topic in a bag is read too.
ARM_COMMAND_TOPICS = ("/panda_arm_controller/joint_trajectory",
                      "/fr3_arm_controller/joint_trajectory")
TRAJECTORY_TYPE = "trajectory_msgs/msg/JointTrajectory"
ARM_STILL_RAD_S = 0.02            # every arm joint slower than this: the arm has stopped
VELOCITY_VIOLATION_FACTOR = 1.05  # a velocity over 1.05 x its limit is a violation
ACC_SMOOTHING_SAMPLES = 3
COMMAND_ACC_WINDOW_S = 0.05       # commanded acceleration: velocity change over >= this long
COMMAND_GAP_S = 0.25              # no arm command for this long: the commands stopped
KILL_SILENCE_S = 0.5              # commands going on longer after a kill: not the killed node's

# A topic's stand-ins: what the metrics read when the topic itself is not in the bag.
_ALTERNATIVES = {JOINT_STATES: (RAW_JOINT_STATES,), ODOM: (BASE_POSE, RAW_PREFIX + ODOM)}
_READ = {EVENTS_TOPIC, EXECUTOR_STATUS, ESTOP, TWIST, RAW_JOINT_STATES, JOINT_STATES, JOY,
         CORRECTION, INSTRUCTION, SIM_USER_STATUS, GROUND_TRUTH, OBJECTS, NAV_STATUS, ODOM,
         RAW_PREFIX + ODOM, BASE_POSE, *ARM_COMMAND_TOPICS}
# Every topic the metrics read: what a `record: false` episode still records.
METRIC_TOPICS: tuple[str, ...] = tuple(sorted(_READ))


class MetricsError(ValueError):
    """The bag cannot be measured: unreadable, truncated, corrupt, or not this episode's."""


class MissingTopicsError(MetricsError):
    """The bag lacks topics the metrics need; ``missing`` names them."""

    def __init__(self, bag: Path, task: CampaignTask, missing: dict[str, list[str]],
                 has_verdict: bool):
        self.missing = list(missing)
        parts = [f"{t}{' (start event)' if t == EVENTS_TOPIC else ''}"
                 f"{' (or ' + ', '.join(_ALTERNATIVES[t]) + ')' if t in _ALTERNATIVES else ''}"
                 f" for {', '.join(m)}" for t, m in missing.items()]
        hint = "" if has_verdict else (f"; success needs {task.success_needs}, or a verdict "
                                       "(operator_verdict, or a verdict event)")
        super().__init__(f"bag {bag} lacks what the {task.kind} metrics need: "
                         f"{'; '.join(parts)}{hint}")


@dataclass
class EpisodeMetrics:
    success: bool
    valid: bool
    values: dict[str, Any]
    trajectory: dict[str, list[list[float]]] = field(default_factory=dict)


def _read(bag_dir: str | Path) -> Recording:
    path = Path(bag_dir)
    if not (path / "metadata.yaml").is_file():
        why = "no such directory" if not path.is_dir() else \
            "no metadata.yaml (the recorder never closed it; `ros2 bag reindex` can rebuild it)"
        raise MetricsError(f"bag {path}: {why}")
    try:
        with BagReader(path, on_unknown="skip") as reader:
            types = {t: s.type for t, s in reader.summary().items()}
            messages: dict[str, list[tuple[float, Any]]] = {}
            for m in reader.messages([t for t, ty in types.items()
                                      if t in _READ or ty == TRAJECTORY_TYPE]):
                messages.setdefault(m.topic, []).append((m.timestamp_ns * 1e-9, m.message))
    except Exception as err:  # rosbags/mcap raise many kinds on a cut or corrupt file
        files = ", ".join(sorted(p.name for p in path.iterdir() if p.name != "metadata.yaml"))
        raise MetricsError(f"bag {path} ({files or 'no data files'}) is unreadable "
                           f"(truncated or corrupt?): {type(err).__name__}: {err}") from err
    if not messages:
        raise MetricsError(f"bag {path} holds no message of a topic the metrics read")
    return Recording(path, types, messages)


def _timeline(rec: Recording, spec: EpisodeSpec) -> Timeline:
    start = verdict = end = None
    faults = []
    for log_t, ev in rec.models(EVENTS_TOPIC, CampaignEvent):
        if ev.episode_id != spec.episode_id:
            raise MetricsError(f"bag {rec.path} holds events of episode {ev.episode_id!r}, "
                               f"not {spec.episode_id!r}")
        t = stamp_or_log(ev.stamp, log_t)
        if ev.event == "start" and start is None:
            start = (t, ev.detail)
        elif ev.event == "verdict":
            verdict = ev.detail
        elif ev.event == "end" and end is None:
            end = (t, ev.detail)
        elif ev.event == "fault" and ev.detail.get("active", True):
            faults.append((t, ev.detail))
    times = [t for msgs in rec.messages.values() for t, _ in msgs]
    t0 = start[0] if start else min(times)
    t_end = end[0] if end else max(times)
    if t_end < t0:
        raise MetricsError(f"bag {rec.path}: the end event ({t_end:.3f} s) precedes the start "
                           f"({t0:.3f} s)")
    if start and not end:
        rec.notes.append("no end event: the episode ends at the last message")
    return Timeline(t0, t_end, start[1] if start else None, verdict, end[1] if end else None,
                    faults)


def _check_topics(rec: Recording, tl: Timeline, task: CampaignTask, has_verdict: bool) -> None:
    """The task's required topics; its core topic is needed even when a verdict gives success:
    without it the episode measures nothing."""
    missing = {}
    for topic, needs in task.required_topics.items():
        present = tl.start is not None if topic == EVENTS_TOPIC else \
            any(rec.has(x) for x in (topic, *_ALTERNATIVES.get(topic, ())))
        if not present and (topic == task.core_topic or not has_verdict):
            missing[topic] = needs
    if missing:
        raise MissingTopicsError(rec.path, task, missing, has_verdict)


def _executor(rec: Recording, tl: Timeline) -> tuple[dict[str, Any], ExecutorLimits | None]:
    statuses = [(t, s) for t, s in rec.models(EXECUTOR_STATUS, ExecutorStatus) if t <= tl.t_end]
    out: dict[str, Any] = {"limit_interventions": None, "interventions": None, "rejections": None}
    if not statuses:
        rec.notes.append(f"no valid {EXECUTOR_STATUS}: no limits, interventions or rejections")
        return out, None
    last = statuses[-1][1]
    before = [s for t, s in statuses if t < tl.t0]  # an executor that ran before the episode
    base = before[-1] if before else None
    inter = {k: v - (base.interventions.get(k, 0) if base else 0)
             for k, v in last.interventions.items()}
    out.update(limit_interventions=sum(inter.values()), interventions=inter,
               rejections=last.rejections - (base.rejections if base else 0))
    return out, last.limits


def _safety(j: Joints | None, lim: ExecutorLimits | None, rec: Recording) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(SAFETY_METRICS[:4])
    if j is None or not len(j.t) or lim is None:
        return out
    speed, margin, over = j.against(lim.velocity, lim.position_lower, lim.position_upper,
                                    VELOCITY_VIOLATION_FACTOR)
    n = margin.shape[1]
    qd = j.qd[:, :n]
    out["joint_speed_peak_ratio"] = float(speed.max())
    out["joint_position_margin_min"] = float(margin.min())
    out["joint_limit_violations"] = int(over.sum())
    dt = np.diff(j.t)
    ok = dt > 0
    if ok.sum() >= ACC_SMOOTHING_SAMPLES and lim.acceleration:
        acc = np.diff(qd, axis=0)[ok] / dt[ok, None]
        kernel = np.ones(ACC_SMOOTHING_SAMPLES) / ACC_SMOOTHING_SAMPLES
        smooth = np.stack([np.convolve(acc[:, k], kernel, "valid") for k in range(n)], axis=1)
        amax = np.asarray(lim.acceleration[:n], float)
        out["joint_acc_peak_ratio"] = float(np.max(np.abs(smooth) / amax))
    return out


def _command_peaks(rec: Recording, tl: Timeline, lim: ExecutorLimits | None
                   ) -> dict[str, Any]:
    """Peaks of what the executor commanded (the arm command's velocities, and their
    differences over time) against its limits: the executor's own compliance, apart from how
    the arm (or the simulator's contacts) moved."""
    out: dict[str, Any] = {"command_speed_peak_ratio": None, "command_acc_peak_ratio": None,
                           "command_topic": None}
    topics = [t for t, ty in rec.types.items() if ty == TRAJECTORY_TYPE and rec.has(t)]
    if not topics or lim is None:
        return out
    topic = max(topics, key=lambda t: len(rec.messages[t]))
    t_list, v_list = [], []
    n = len(lim.velocity)
    for t, msg in rec.messages[topic]:
        if not tl.within(t) or not len(msg.points):
            continue
        v = np.asarray(msg.points[-1].velocities, float)
        if v.shape != (n,) or not np.all(np.isfinite(v)):
            rec.skip(topic)
            continue
        t_list.append(t)
        v_list.append(v)
    if not v_list:
        return out
    t_arr, v_arr = np.asarray(t_list), np.stack(v_list)
    vel, amax = np.asarray(lim.velocity, float), np.asarray(lim.acceleration[:n], float)
    out.update(command_topic=topic, command_speed_peak_ratio=float(np.max(np.abs(v_arr) / vel)))
    # Over COMMAND_ACC_WINDOW_S, not message to message: the bag's times are the simulator's
    # clock, which moves in physics steps, coarser than the executor's control period.
    j = np.searchsorted(t_arr, t_arr + COMMAND_ACC_WINDOW_S)
    i = np.nonzero(j < len(t_arr))[0]
    if len(i) and len(amax) == n:
        acc = (v_arr[j[i]] - v_arr[i]) / (t_arr[j[i]] - t_arr[i])[:, None]
        out["command_acc_peak_ratio"] = float(np.max(np.abs(acc) / amax))
    return out


def _estop_ms(rec: Recording, tl: Timeline, j: Joints | None) -> float | None:
    on = [t for t, m in rec.messages.get(ESTOP, ()) if m.data and tl.within(t)]
    if not on:
        return None
    stop = j.first_still(on[0], ARM_STILL_RAD_S) if j is not None else None
    if stop is None:
        rec.notes.append("e-stop pressed but the arm never came to rest")
        return None
    return (stop - on[0]) * 1e3


def _watchdog_ms(rec: Recording, tl: Timeline, j: Joints | None) -> tuple[float | None, ...]:
    kill = next((t for t, d in tl.faults if d.get("kind") == "kill_node"), None)
    if kill is None or j is None:
        return None, None
    cmds = np.asarray(sorted(t for t, _ in rec.messages.get(TWIST, ())), float)
    gaps = np.diff(cmds)
    gap = max(COMMAND_GAP_S, 2.0 * float(np.median(gaps))) if len(gaps) else COMMAND_GAP_S
    # The last command: the first, from the one before the kill on, followed by silence.
    first = max(int(np.searchsorted(cmds, kill, side="right")) - 1, 0)
    last = next((float(cmds[i]) for i in range(first, len(cmds))
                 if i + 1 == len(cmds) or cmds[i + 1] - cmds[i] >= gap), None)
    stop = j.first_still(kill, ARM_STILL_RAD_S)
    brake = None if stop is None else (stop - kill) * 1e3
    if last is None:
        rec.notes.append(f"kill_node fault but no {TWIST}: no watchdog reaction")
        return None, brake
    if last - kill > KILL_SILENCE_S:
        rec.notes.append(f"{TWIST} went on after the kill: the killed node was not commanding "
                         "the arm, no watchdog reaction")
        return None, brake
    moving = j.qd[j.t <= last]
    if not len(moving) or np.all(np.abs(moving[-1]) < ARM_STILL_RAD_S):
        rec.notes.append("the arm was still when the commands stopped: no watchdog reaction")
        return None, brake
    stop = j.first_still(last, ARM_STILL_RAD_S)
    if stop is None:
        rec.notes.append("the arm never came to rest after the commands stopped")
        return None, brake
    return (stop - last) * 1e3, (stop - kill) * 1e3


def _operator(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    if not isinstance(verdict.get("success"), bool) or not isinstance(verdict.get("valid", True),
                                                                      bool):
        raise MetricsError(f"operator_verdict needs boolean 'success' (and 'valid'), got "
                           f"{verdict}")
    return verdict


def episode_metrics(bag_dir: str | Path, spec: EpisodeSpec, *,
                    operator_verdict: dict[str, Any] | None = None) -> EpisodeMetrics:
    """Every metric of ``spec`` 's episode from the bag in ``bag_dir``; raises MetricsError
    (MissingTopicsError) when the bag cannot tell."""
    operator = _operator(operator_verdict)
    ctask = get_task(spec.task.kind)
    rec = _read(bag_dir)
    tl = _timeline(rec, spec)
    event_verdict = tl.verdict if tl.verdict and isinstance(tl.verdict.get("success"),
                                                            bool) else None
    _check_topics(rec, tl, ctask, operator is not None or event_verdict is not None)

    topic = RAW_JOINT_STATES if rec.has(RAW_JOINT_STATES) else JOINT_STATES
    joints = read_joints(rec, topic)
    window = joints.window(tl.t0, tl.t_end) if joints is not None else None
    execu, limits = _executor(rec, tl)
    watchdog, brake = _watchdog_ms(rec, tl, window)
    values: dict[str, Any] = {
        "episode_time_s": tl.t_end - tl.t0, **execu, **_safety(window, limits, rec),
        **_command_peaks(rec, tl, limits),
        "estop_reaction_ms": _estop_ms(rec, tl, window), "watchdog_reaction_ms": watchdog,
        "brake_from_kill_ms": brake, "faults_fired": [str(d.get("kind")) for _, d in tl.faults],
        "fault_outcomes": fault_outcomes(rec, tl, window, limits, still_rad_s=ARM_STILL_RAD_S,
                                         violation_factor=VELOCITY_VIOLATION_FACTOR),
        "joint_states_topic": topic if joints is not None else None,
        "joint_velocity_source": joints.velocity_source if joints is not None else None}
    end = tl.end or {}
    dead = [str(n) for n in end.get("nodes_dead", [])] if tl.end else None
    killed = {d.get("target") for _, d in tl.faults if d.get("kind") == "kill_node"}
    values.update(nodes_dead=dead, end_reason=end.get("reason"),
                  nodes_crashed=None if dead is None else sum(n not in killed for n in dead))

    task = ctask.metrics(rec, tl, joints)
    values.update(task.values)
    tts = task.time_to_success_s
    if operator is not None:
        success, source = bool(operator["success"]), "operator"
    elif task.success is not None:
        success, source = task.success, "bag"
    elif event_verdict is not None:
        success, source = bool(event_verdict["success"]), f"verdict:{event_verdict.get('by')}"
    else:
        raise MetricsError(f"bag {rec.path}: cannot tell success ({task.why_unmeasured}) and "
                           "there is no verdict")
    if source != "bag":
        verdict = operator or event_verdict or {}
        tts = verdict.get("time_to_success_s") if tts is None else tts
        if task.why_unmeasured:
            rec.notes.append(f"success from {source}: {task.why_unmeasured}")
    valid = operator.get("valid", True) if operator is not None else \
        bool((tl.verdict or {}).get("valid", True))
    ctask.final_metrics(values, success)
    values.update(success=success, valid=bool(valid), success_source=source,
                  measured_success=task.success,
                  time_to_success_s=float(tts) if success and tts is not None else None,
                  bad_samples=sum(rec.bad.values()), bad_samples_by_topic=dict(rec.bad),
                  missing_topics=sorted(t for t in _READ if t in _expected(ctask)
                                        and not rec.has(t)),
                  notes=list(dict.fromkeys(rec.notes)))
    return EpisodeMetrics(success, bool(valid), _plain(values), task.trajectory)


def _expected(task: CampaignTask) -> set[str]:
    """Topics a full episode of ``task`` records (for ``missing_topics``)."""
    return {EVENTS_TOPIC, EXECUTOR_STATUS, *task.expected_topics}


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
