"""One campaign episode as a fresh headless graph in this process.

    python -m ifagent_ros.campaign_episode EPISODE_DIR

Reads ``EPISODE_DIR/spec.json`` (:class:`EpisodeSpec`), starts the graph the spec asks for
(:mod:`ifagent_ros.core.campaign.graph_plan`: its nodes, the fault relay, the recorder) on
``spec.domain_id`` with a private rclpy Context, adds ``campaign_driver_node``, which runs the
episode (start, faults, verdict), records every topic into ``EPISODE_DIR/bag`` and writes
``EPISODE_DIR/run.json`` (:class:`EpisodeRun`) and ``snapshot.png`` (the last camera frame).

Exit status: 0 when the episode ran (also at its time limit), 3 on an error (a node that does
not start, a callback that raised, SIGTERM, the wall limit); run.json is written either way,
with ``end_reason: error`` and the error text. Logs go to stdout/stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ifagent_ros.core.campaign.graph_plan import (
    RECORDER_NODE,
    GraphPlan,
    plan_graph,
    read_sections,
)
from ifagent_ros.core.campaign.types import EVENTS_TOPIC, EpisodeRun, EpisodeSpec

log = logging.getLogger("ifagent.campaign")

EXIT_ERROR = 3
END_RECORD_WAIT_S = 3.0   # wall seconds for the recorder to write the end event
WALL_MARGIN = 0.9         # end ourselves at this fraction of spec.wall_limit_s (runner kills)


def save_snapshot(msg: Any, path: Path) -> bool:
    """A sensor_msgs/Image (the last colour frame) as a PNG; False if there is none, its
    encoding is not a colour or mono one, or it cannot be written."""
    if msg is None:
        return False
    import cv2
    import numpy as np

    channels = {"rgb8": 3, "bgr8": 3, "mono8": 1, "rgba8": 4, "bgra8": 4}.get(msg.encoding)
    if channels is None:
        return False
    img = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
    img = img[:, : msg.width * channels].reshape(msg.height, msg.width, channels)
    if msg.encoding.startswith("rgb"):
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR if channels == 3 else cv2.COLOR_RGBA2BGRA)
    return bool(cv2.imwrite(str(path), img))


class EpisodeError(RuntimeError):
    """The episode cannot run (its message goes into run.json)."""


class Episode:
    """One episode: the graph, the driver, the bookkeeping for run.json."""

    def __init__(self, spec: EpisodeSpec, episode_dir: Path) -> None:
        self.spec = spec
        self.dir = episode_dir
        self.graph: Any = None
        self.driver: Any = None
        self.plan: GraphPlan | None = None
        self.stop = threading.Event()       # SIGTERM / SIGINT
        self.t_created = time.monotonic()   # ~ process start: the runner's wall limit counts
        self.t_graph = time.monotonic()
        self.t_end: float | None = None
        self.end_event: Any = None
        self.counts: dict[str, int] = {}

    # ------------------------------------------------------------------ building
    def build(self) -> None:
        from ifagent_ros.bringup import NODE_REGISTRY, BringupError, GraphHandle
        from ifagent_ros.nodes.campaign_driver_node import CampaignDriverNode

        spec = self.spec
        try:
            self.plan = plan = plan_graph(spec, read_sections(spec.params_file), self.dir)
        except ValueError as exc:  # GraphPlanError, ParamsFileError
            raise EpisodeError(str(exc)) from exc
        for name, module in plan.registry.items():
            if importlib.util.find_spec(module) is None:
                raise EpisodeError(f"{name}: module {module} is not installed (needed by the "
                                   f"spec's links/faults)")
        self.graph = GraphHandle(spec.params_file, nodes=plan.nodes, domain_id=spec.domain_id,
                                 registry={**NODE_REGISTRY, **plan.registry},
                                 overrides=plan.overrides)
        self.t_graph = time.monotonic()
        try:
            self.graph.start()
        except BringupError as exc:
            raise EpisodeError(str(exc)) from exc
        self._check_parameters(plan)
        self.driver = CampaignDriverNode(
            spec, plan.driver, self.dir, context=self.graph.context, kill=self.graph.kill_node,
            ready=self._recorder_missing, relay=bool(plan.registry))
        self.graph.add_node(self.driver)

    def _check_parameters(self, plan: GraphPlan) -> None:
        """A parameter no node declares is ignored by rclpy: say so instead (a typo in a
        scenario's overrides would otherwise change nothing, silently)."""
        bad = [f"{node}.{name}" for node, params in plan.overrides.items()
               for name in params if not self.graph.nodes[node].has_parameter(name)]
        if bad:
            raise EpisodeError(f"unknown parameter(s) {', '.join(sorted(bad))}: the node(s) "
                               f"declare no such parameter")

    def _recorder_missing(self) -> list[str]:
        if self.plan is None:
            return []
        recorder = self.graph.nodes.get(RECORDER_NODE)
        have = recorder.recorded_topics() if recorder is not None else {}
        missing = [t for t in self.plan.key_topics if t not in have]
        if not missing and self.driver._events_pub.get_subscription_count() == 0:
            missing.append(f"{EVENTS_TOPIC} (matching)")
        return missing

    # ------------------------------------------------------------------ running
    def run(self) -> tuple[str, str | None]:
        """Run until the driver ends the episode or something fails: (end reason, error)."""
        wall_limit = self.spec.wall_limit_s * WALL_MARGIN
        t0 = self.t_created
        while not self.driver.finished.wait(0.1):
            if self.stop.is_set():
                return "error", "terminated (SIGTERM/SIGINT)"
            if self.graph.wait(0):
                err = self.graph.error
                return "error", f"the graph stopped: {type(err).__name__}: {err}"
            if time.monotonic() - t0 > wall_limit:
                return "error", (f"wall limit: {wall_limit:.0f} s of wall time before the episode "
                                 f"ended (sim time stalled or too slow?)")
        if self.driver.error is not None:
            return "error", self.driver.error
        return str(self.driver.end_reason), None

    def finish(self, reason: str, error: str | None) -> None:
        """End event, wait for the recorder to have it, snapshot, stop the graph."""
        graph, driver = self.graph, self.driver
        if driver is not None and graph is not None and graph.running:
            alive = [n for n in graph.alive_nodes() if n != driver.get_name()]
            self.end_event = driver.publish_end(reason, alive, graph.dead_nodes(), error)
            self.t_end = time.monotonic()
            recorder = graph.nodes.get(RECORDER_NODE)
            deadline = time.monotonic() + END_RECORD_WAIT_S
            while recorder is not None and time.monotonic() < deadline and \
                    recorder.message_counts().get(EVENTS_TOPIC, 0) < driver.events_published:
                time.sleep(0.02)
            try:
                if save_snapshot(driver.last_image, self.dir / "snapshot.png"):
                    log.info("snapshot saved")
            except Exception:  # a gallery picture is not worth failing the episode
                log.exception("snapshot failed")
        self.t_end = self.t_end or time.monotonic()
        if graph is not None:
            recorder = graph.nodes.get(RECORDER_NODE)
            graph.stop()
            if recorder is not None:
                self.counts = recorder.message_counts()

    def episode_run(self, reason: str, error: str | None) -> EpisodeRun:
        t_end = self.t_end or time.monotonic()
        wall = t_end - self.t_graph
        up = self.driver.graph_up_wall if self.driver is not None else None
        startup = (up - self.t_graph) if up is not None else wall
        episode_time = 0.0
        if self.end_event is not None:
            episode_time = float(self.end_event.detail.get("episode_time_s", 0.0))
        run_wall = wall - startup
        bag = self.dir / "bag"
        alive = self.end_event.detail["nodes_alive"] if self.end_event is not None else []
        dead = self.end_event.detail["nodes_dead"] if self.end_event is not None else []
        return EpisodeRun(
            episode_id=self.spec.episode_id, end_reason=reason,  # type: ignore[arg-type]
            error=error, wall_s=wall, startup_s=startup, episode_time_s=episode_time,
            real_time_factor=episode_time / run_wall if run_wall > 0 else 0.0,
            nodes_alive=alive, nodes_dead=dead, bag_messages=sum(self.counts.values()),
            bag_bytes=sum(f.stat().st_size for f in bag.rglob("*") if f.is_file())
            if bag.is_dir() else 0, cpu_s=_cpu_seconds())


def _cpu_seconds() -> float:
    """User + system CPU of this process and its waited-for children (the camera renderer)."""
    import resource

    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                  resource.RUSAGE_CHILDREN))
    return round(own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, 3)


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.warning("%s: ending the episode", signal.Signals(signum).name)
        stop.set()

    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, handler)


def run_episode(episode_dir: Path) -> tuple[EpisodeRun, int]:
    """Run the episode of ``episode_dir/spec.json``; write run.json; (run, exit status)."""
    spec_path = episode_dir / "spec.json"
    try:
        spec = EpisodeSpec.model_validate_json(spec_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        run = EpisodeRun(episode_id=episode_dir.name, end_reason="error", wall_s=0.0,
                         startup_s=0.0, episode_time_s=0.0, real_time_factor=0.0,
                         error=f"{spec_path}: cannot read the episode spec: {exc}")
        _write_run(episode_dir, run)
        return run, EXIT_ERROR
    episode = Episode(spec, episode_dir)
    _install_signals(episode.stop)
    reason, error = "error", None
    try:
        episode.build()
        reason, error = episode.run()
    except EpisodeError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - anything else still ends in run.json
        log.exception("episode failed")
        error = f"{type(exc).__name__}: {exc}"
    if error:
        log.error("episode %s: %s", spec.episode_id, error)
    try:
        episode.finish(reason, error)
    except Exception as exc:  # noqa: BLE001
        log.exception("stopping the graph failed")
        reason, error = "error", error or f"stopping the graph: {type(exc).__name__}: {exc}"
    run = episode.episode_run(reason, error)
    _write_run(episode_dir, run)
    log.info("episode %s ended: %s (wall %.1f s, startup %.1f s, episode %.1f s, RTF %.2f, "
             "%d messages, %.1f MB)", spec.episode_id, reason, run.wall_s, run.startup_s,
             run.episode_time_s, run.real_time_factor, run.bag_messages, run.bag_bytes / 1e6)
    return run, EXIT_ERROR if reason == "error" else 0


def _write_run(episode_dir: Path, run: EpisodeRun) -> None:
    tmp = episode_dir / "run.json.tmp"
    tmp.write_text(run.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(episode_dir / "run.json")  # whole or absent: the runner may be reading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ifagent_ros.campaign_episode",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("episode_dir", type=Path, help="folder holding spec.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.episode_dir.is_dir():
        print(f"{args.episode_dir}: not a folder", file=sys.stderr)
        return EXIT_ERROR
    _, status = run_episode(args.episode_dir)
    return status


if __name__ == "__main__":
    sys.exit(main())
