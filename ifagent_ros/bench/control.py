"""`ifagent bench control`: latency of /joy -> teleop_node -> executor_node -> arm command over DDS.

A driver node (``bench/driver_node.py``) streams ``sensor_msgs/Joy`` at a fixed rate with the
deadman held, plays an ideal arm (it echoes every streamed trajectory point back as
``/joint_states``), and timestamps each arm command on arrival. In one-process mode it is a node of
the graph under test; with ``--processes`` every node and the driver run in processes of their
own. The executor stamps every trajectory it sends with the stamp of the command that caused it
(``arm.header_stamp: source``), which teleop copies from the Joy, so ``arrival - header.stamp`` is
the end-to-end latency of that Joy message through both nodes.

The measurement window starts ``warmup_s`` after the first arm command that carries a Joy's stamp
(:class:`LatencyRecorder`), i.e. once the whole /joy -> teleop -> executor -> arm path is up. The
executor's first commands are hold points stamped zero (it holds the arm as soon as it has joint
states), and with every node in its own process the /joy -> teleop link can be discovered
seconds after the others (DDS participant discovery; seen up to ~3 s with Fast DDS on a loaded
machine): a window started on the first hold point then saw only hold points, and the run
measured nothing (the "executor goes silent" flake; the executor was streaming hold points).
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import yaml

from ifagent_ros.core.stats import missed_periods, percentiles_ms

TRAJECTORY_TOPIC = "/panda_arm_controller/joint_trajectory"


@dataclass
class BenchResult:
    mode: str
    rate_hz: float
    duration_s: float
    joy_sent: int = 0
    commands_received: int = 0
    latencies_s: list[float] = field(default_factory=list)
    arrivals_s: list[float] = field(default_factory=list)
    step_times_s: list[float] = field(default_factory=list)
    joy_jitter_s: list[float] = field(default_factory=list)  # |Joy interval - period|

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "rate_hz": self.rate_hz,
            "duration_s": round(self.duration_s, 2),
            "joy_sent": self.joy_sent,
            "commands_received": self.commands_received,
            "commands_traced": len(self.latencies_s),
            "delivered_ratio": round(len(self.latencies_s) / self.joy_sent, 4)
            if self.joy_sent
            else 0.0,
            "missed_periods": missed_periods(self.arrivals_s, 1.0 / self.rate_hz),
        }
        out.update({k: _r(v) for k, v in percentiles_ms(self.latencies_s, "latency_").items()})
        out.update({k: _r(v) for k, v in percentiles_ms(self.step_times_s, "step_").items()})
        out.update(
            {k: _r(v) for k, v in percentiles_ms(self.joy_jitter_s, "joy_jitter_").items()}
        )
        return out


@dataclass
class LatencyRecorder:
    """The driver's stopwatch, free of ROS: which Joy messages and arm commands count.

    Times: ``now`` in seconds on a monotonic clock, ``*_ns`` on the clock the Joy stamps use.
    """

    rate_hz: float
    duration_s: float
    warmup_s: float = 1.0
    first_traced: float | None = None  # when the first command caused by a Joy arrived
    recording: bool = False
    record_from_ns: int = 0
    done: bool = False
    joy_sent: int = 0
    commands_received: int = 0
    latencies_s: list[float] = field(default_factory=list)
    arrivals_s: list[float] = field(default_factory=list)
    joy_jitter_s: list[float] = field(default_factory=list)  # |Joy interval - period|
    _first_joy_ns: int | None = None
    _seen_stamp: int = 0
    _last_tick: float | None = None

    def tick(self, now: float, now_ns: int) -> bool:
        """Before each Joy message (stamped ``now_ns``): moves the window on; False once the
        window is over (send no more)."""
        if self.done:
            return False
        if self.first_traced is not None:
            since = now - self.first_traced
            if since >= self.warmup_s + self.duration_s:
                self.recording, self.done = False, True
                return False
            if since >= self.warmup_s and not self.recording:
                self.recording = True
                self.record_from_ns = now_ns
        if self.recording and self._last_tick is not None:
            self.joy_jitter_s.append(abs(now - self._last_tick - 1.0 / self.rate_hz))
        self._last_tick = now
        if self._first_joy_ns is None:
            self._first_joy_ns = now_ns
        if self.recording:
            self.joy_sent += 1
        return True

    def on_command(self, stamp_ns: int, arrival_ns: int, now: float) -> None:
        """An arm command stamped ``stamp_ns`` (its causing Joy's stamp; 0 for a hold point
        before any twist) arrived at ``arrival_ns``."""
        if (self.first_traced is None and self._first_joy_ns is not None
                and stamp_ns >= self._first_joy_ns):
            self.first_traced = now  # the whole path is up: the warmup starts here
        # Only Joy messages sent while recording count: a command still carrying an older stamp
        # (the executor holding after a pause) is not that Joy's latency.
        if not self.recording or stamp_ns < self.record_from_ns:
            self._seen_stamp = max(self._seen_stamp, stamp_ns)
            return
        self.commands_received += 1
        self.arrivals_s.append(arrival_ns * 1e-9)
        if stamp_ns > self._seen_stamp:  # the first command carrying this Joy's stamp
            self._seen_stamp = stamp_ns
            self.latencies_s.append((arrival_ns - stamp_ns) * 1e-9)

    def figures(self) -> dict[str, Any]:
        return {"joy_sent": self.joy_sent, "commands_received": self.commands_received,
                "latencies_s": self.latencies_s, "arrivals_s": self.arrivals_s,
                "joy_jitter_s": self.joy_jitter_s}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def bench_params(rate_hz: float) -> dict[str, dict[str, Any]]:
    """The executor + teleop sections for the benchmark (sim-style names, source stamps)."""
    return {
        "executor_node": {
            "backend": "pybullet",
            "control_rate_hz": float(rate_hz),
            "arm.header_stamp": "source",
            "arm.trajectory_topic": TRAJECTORY_TOPIC,
        },
        "teleop_node": {},
    }


def _result_from_driver(driver: Any, mode: str, rate_hz: float, duration_s: float) -> BenchResult:
    figures = driver.recorder.figures()
    return BenchResult(mode=mode, rate_hz=rate_hz, duration_s=duration_s,
                       **{k: list(v) if isinstance(v, list) else v for k, v in figures.items()})


def _run_in_one_process(
    duration_s: float, rate_hz: float, domain: int, executor: str
) -> BenchResult:
    """Teleop, executor and the driver node in one process (and, by default, one thread)."""
    from ifagent_ros.bench.driver_node import realtime_tuning
    from ifagent_ros.bringup import NODE_REGISTRY, start_graph

    params = bench_params(rate_hz)
    params["bench_driver"] = {"rate_hz": float(rate_hz), "duration_s": float(duration_s)}
    registry = {**NODE_REGISTRY, "bench_driver": "ifagent_ros.bench.driver_node"}
    graph = start_graph(params, domain_id=domain, executor=executor, registry=registry)
    try:
        executor_node = graph.nodes["executor_node"]
        driver = graph.nodes["bench_driver"]
        executor_node.pacer.record_step_times = True
        realtime_tuning()
        deadline = time.monotonic() + duration_s + 90.0
        rec = driver.recorder
        while not rec.recording and not rec.done and time.monotonic() < deadline:
            time.sleep(0.01)
        executor_node.pacer.step_times.clear()
        while not rec.done and time.monotonic() < deadline:
            if graph.error is not None:
                raise RuntimeError(f"graph stopped: {graph.error}")
            time.sleep(0.05)
        if not rec.done or not rec.latencies_s:
            raise RuntimeError("the executor never sent an arm command in time")
        result = _result_from_driver(
            driver, f"one_process ({executor} executor)", rate_hz, duration_s
        )
        result.step_times_s = list(executor_node.pacer.step_times)
        return result
    finally:
        graph.stop()


def _run_in_processes(duration_s: float, rate_hz: float, domain: int) -> BenchResult:
    """One process per node (`ifagent up --processes`) and the driver in a process of its own."""
    import json
    import subprocess
    import sys

    from ifagent_ros.bringup import run_processes

    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="ifagent-bench-") as tmp:
        params_path = os.path.join(tmp, "bench.yaml")
        out_path = os.path.join(tmp, "driver.json")
        params = bench_params(rate_hz)
        with open(params_path, "w") as fh:
            yaml.safe_dump({k: {"ros__parameters": v} for k, v in params.items()}, fh)
        graph = threading.Thread(
            target=run_processes,
            args=(params_path,),
            kwargs={"domain_id": domain, "stop_event": stop},
            daemon=True,
        )
        graph.start()
        cmd = [
            sys.executable, "-m", "ifagent_ros.bench.driver_node",
            str(domain), str(rate_hz), str(duration_s), out_path,
        ]
        try:
            rc = subprocess.run(cmd, timeout=duration_s + 120.0).returncode
            if rc != 0 or not os.path.exists(out_path):
                raise RuntimeError(f"bench driver exited with code {rc}")
            with open(out_path) as fh:
                data = json.load(fh)
        finally:
            stop.set()
            graph.join(30.0)
    return BenchResult(mode="processes", rate_hz=rate_hz, duration_s=duration_s, **data)


def run_control_bench(
    duration_s: float = 30.0,
    rate_hz: float = 500.0,
    processes: bool = False,
    domain_id: int | None = None,
    executor: str = "events_shared",
) -> BenchResult:
    domain = domain_id if domain_id is not None else random.randrange(110, 200)
    if processes:
        return _run_in_processes(duration_s, rate_hz, domain)
    return _run_in_one_process(duration_s, rate_hz, domain, executor)


def format_table(rows: list[dict[str, Any]]) -> str:
    keys = [
        "mode",
        "joy_sent",
        "delivered_ratio",
        "missed_periods",
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_max_ms",
        "step_p50_ms",
        "step_p99_ms",
        "joy_jitter_p99_ms",
    ]
    widths = [max(len(k), *(len(str(r.get(k))) for r in rows)) for k in keys]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    for r in rows:
        lines.append("  ".join(str(r.get(k)).ljust(w) for k, w in zip(keys, widths, strict=True)))
    return "\n".join(lines)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    one = next((r for r in rows if r["mode"].startswith("one_process")), rows[0])
    return {
        "p50_ms": one["latency_p50_ms"],
        "p99_ms": one["latency_p99_ms"],
        "max_ms": one["latency_max_ms"],
        "goal_p99_ms": 2.0,
        "meets_goal": bool(one["latency_p99_ms"] is not None and one["latency_p99_ms"] <= 2.0),
        "moveit_servo_period_ms": 10.0,
        "runs": rows,
        # The executor's kinematics + filter time per step (observable in one process only).
        "step_p50_ms": one["step_p50_ms"],
        "step_p99_ms": one["step_p99_ms"],
    }
