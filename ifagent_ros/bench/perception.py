"""`ifagent bench perception`: detection, localisation, naming, tracking, speed and grounding.

Scenes are random (``sim/random_scenes.py``): 3-10 objects with random labels, colours, sizes,
poses and lighting, rendered by the PyBullet camera with a Kinect-class depth noise model and
missing pixels, with the arm in view (the pipeline filters it from ``/joint_states``). Every
figure is measured against the simulator's ground truth:

- detection: a ground-truth object counts when at least ``min_visible_px`` of its pixels (at
  640x480) are visible; detections are matched to ground truth by Hungarian assignment on
  centroid distance within ``max(3 cm, half the object's footprint)``. Recall = matched visible /
  visible; precision = matched detections / all detections.
- centroid error: 3-D distance between the reported position and the bounding-box centre.
- colour and shape accuracy over matched detections.
- tracking: objects are pushed slowly (``push_speed``) for ``track_frames`` frames per scene; an
  id switch is a ground-truth object whose matched track id differs from the one it had last.
- speed: wall time of ``PerceptionPipeline.process`` per frame at 640x480 and 320x240.
- grounding: ``core/perception/grounding_eval.evaluate`` over generated expressions.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ifagent_ros.core.perception.pipeline import PerceptionPipeline, RGBDFrame
from ifagent_ros.core.schemas import PerceivedObject
from ifagent_ros.core.worlds.random_scenes import ObjectPusher, random_lighting, random_scene
from ifagent_ros.sim.camera import CameraConfig, CameraFrame
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim


@dataclass(frozen=True)
class PerceptionBenchConfig:
    scenes: int = 50
    seed: int = 0
    min_objects: int = 3
    max_objects: int = 10
    track_scenes: int = 10  # scenes in which objects are pushed
    track_frames: int = 30  # frames per pushed scene
    push_speed: float = 0.08  # m/s
    frame_period: float = 1.0 / 15.0  # s between tracking frames
    depth_noise: float = 1.0
    depth_dropout: float = 0.005
    min_visible_px: int = 40  # at 640x480, scaled by area at other resolutions
    grounding_expressions: int = 600


@dataclass
class PerceptionBenchResult:
    visible: int = 0
    matched: int = 0
    detections: int = 0
    errors_m: list[float] = field(default_factory=list)
    color_ok: int = 0
    shape_ok: int = 0
    confusion_color: Counter = field(default_factory=Counter)
    confusion_shape: Counter = field(default_factory=Counter)
    track_frames: int = 0
    id_switches: int = 0
    times_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    grounding: dict[str, Any] = field(default_factory=dict)
    scenes: int = 0

    def figures(self) -> dict[str, Any]:
        errs = np.array(self.errors_m) if self.errors_m else np.array([np.nan])
        out: dict[str, Any] = {
            "scenes": self.scenes,
            "visible_objects": self.visible,
            "recall": _r(self.matched / self.visible if self.visible else float("nan")),
            "precision": _r(self.matched / self.detections if self.detections else float("nan")),
            "centroid_error_median_m": _r(float(np.median(errs)), 4),
            "centroid_error_p95_m": _r(float(np.percentile(errs, 95)), 4),
            "color_accuracy": _r(self.color_ok / self.matched if self.matched else float("nan")),
            "shape_accuracy": _r(self.shape_ok / self.matched if self.matched else float("nan")),
            "tracked_frames": self.track_frames,
            "id_switches_per_100_frames": _r(
                100.0 * self.id_switches / self.track_frames if self.track_frames else
                float("nan"), 3),
        }
        for res, times in sorted(self.times_ms.items()):
            t = np.array(times)
            out[f"fps_{res}"] = _r(1000.0 / float(np.mean(t)), 1)
            out[f"p50_ms_{res}"] = _r(float(np.percentile(t, 50)), 1)
            out[f"p95_ms_{res}"] = _r(float(np.percentile(t, 95)), 1)
        for key, value in self.grounding.items():
            out[key] = value
        return out


def _r(v: float, nd: int = 4) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def _frame(f: CameraFrame, stamp: float) -> RGBDFrame:
    return RGBDFrame(f.rgb, f.depth, f.K, f.position, f.orientation, stamp)


def match(gt: list[dict[str, Any]], objects: list[PerceivedObject]) -> dict[int, int]:
    """Ground-truth index -> object index, Hungarian on centroid distance within the gate."""
    if not gt or not objects:
        return {}
    g = np.array([o["position"] for o in gt])
    d = np.array([o.position for o in objects])
    cost = np.linalg.norm(g[:, None, :] - d[None, :, :], axis=2)
    gate = np.array([max(0.03, 0.5 * max(o["size"][:2])) for o in gt])[:, None]
    big = 1e6
    rows, cols = linear_sum_assignment(np.where(cost <= gate, cost, big))
    return {int(i): int(j) for i, j in zip(rows, cols, strict=True) if cost[i, j] <= gate[i, 0]}


def _visible(frame: CameraFrame, n: int, min_px: float) -> list[bool]:
    counts = np.bincount(frame.segmentation[frame.segmentation >= 0].ravel(), minlength=n)
    return [bool(c >= min_px) for c in counts[:n]]


def run_perception_bench(config: PerceptionBenchConfig | None = None,
                         progress: Any = None) -> PerceptionBenchResult:
    cfg = config or PerceptionBenchConfig()
    rng = np.random.default_rng(cfg.seed)
    res = PerceptionBenchResult()
    # One pipeline per resolution, as a node keeps one: steady-state timing (caches warm); the
    # tracker is reset between scenes.
    pipelines = {(640, 480): PerceptionPipeline(), (320, 240): PerceptionPipeline()}
    for k in range(cfg.scenes):
        n = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
        scene, _ = random_scene(rng, n)
        light = random_lighting(rng)
        camera = CameraConfig(light_direction=light.direction, light_ambient=light.ambient,
                              light_diffuse=light.diffuse, light_specular=light.specular,
                              depth_noise=cfg.depth_noise, depth_dropout=cfg.depth_dropout,
                              noise_seed=cfg.seed * 1000 + k)
        sim = TabletopSim(TabletopConfig(scene=scene, camera=camera))
        try:
            sim.step(10)  # let objects settle on the table
            js = sim.joint_state()
            joints = dict(zip(js.names, js.positions.tolist(), strict=True))
            for w, h in ((640, 480), (320, 240)):
                cam = replace(camera, width=w, height=h)
                frame = sim.render_camera(cam)
                pipeline = pipelines[(w, h)]
                pipeline.tracker.reset()
                t0 = time.perf_counter()
                result = pipeline.process(_frame(frame, sim.time), joints)
                res.times_ms[f"{w}x{h}"].append((time.perf_counter() - t0) * 1e3)
                if w != 640:
                    continue
                gt = sim.object_poses()
                visible = _visible(frame, len(gt), cfg.min_visible_px)
                objects = result.objects.objects
                pairs = match(gt, objects)
                res.visible += sum(visible)
                res.detections += len(objects)
                for gi, oi in pairs.items():
                    res.matched += 1
                    g, o = gt[gi], objects[oi]
                    res.errors_m.append(float(np.linalg.norm(np.subtract(o.position,
                                                                         g["position"]))))
                    res.color_ok += o.color == g["color"]
                    res.shape_ok += o.label == g["label"]
                    res.confusion_color[(g["color"], o.color)] += 1
                    res.confusion_shape[(g["label"], o.label)] += 1
                # A detection of an object hidden below the visibility threshold is neither a
                # hit for recall nor a false positive.
                hidden_hits = sum(1 for gi in pairs if not visible[gi])
                res.matched -= hidden_hits
                res.detections -= hidden_hits
            res.scenes += 1
            if k < cfg.track_scenes:
                _track(sim, scene, camera, joints, cfg, rng, res)
        finally:
            sim.close()
        if progress is not None:
            progress(k + 1, cfg.scenes)
    if cfg.grounding_expressions > 0:
        from ifagent_ros.core.perception.grounding_eval import evaluate

        g = evaluate(n=cfg.grounding_expressions, seed=cfg.seed)
        res.grounding = _grounding_figures(g)
    return res


def _grounding_figures(g: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in g.items():
        if key.startswith("grounding_") and isinstance(value, int | float):
            out[key] = value
    return out


def _track(sim: TabletopSim, scene: Any, camera: CameraConfig, joints: dict[str, float],
           cfg: PerceptionBenchConfig, rng: np.random.Generator,
           res: PerceptionBenchResult) -> None:
    pusher = ObjectPusher(scene, rng, speed=cfg.push_speed)
    placements = [_placement(p) for p in sim.object_poses()]
    pipeline = PerceptionPipeline()
    last_id: dict[int, str] = {}
    for f in range(cfg.track_frames):
        stamp = f * cfg.frame_period
        frame = sim.render_camera(camera)
        result = pipeline.process(_frame(frame, stamp), joints)
        gt = sim.object_poses()
        objects = result.objects.objects
        visible = _visible(frame, len(gt), cfg.min_visible_px)
        for gi, oi in match(gt, objects).items():
            if not visible[gi]:
                continue
            oid = objects[oi].id
            if gi in last_id and last_id[gi] != oid:
                res.id_switches += 1
            last_id[gi] = oid
        res.track_frames += 1
        placements = pusher.step(placements, cfg.frame_period)
        for obj, pl in zip(scene.objects, placements, strict=True):
            sim.set_object_pose(obj.id, pl.position, pl.yaw)


def _placement(pose: dict[str, Any]) -> Any:
    from ifagent_ros.core.worlds.scene import Placement

    x, y, z, w = pose["orientation"]
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return Placement(tuple(pose["position"]), yaw)


GOALS = {"recall": 0.98, "centroid_error_median_m": 0.01, "color_accuracy": 0.98,
         "grounding_accuracy": 0.95, "fps_640x480": 15.0}


def goal_met(key: str, value: float | None) -> bool | None:
    if value is None or key not in GOALS:
        return None
    return value <= GOALS[key] if key.endswith("_m") else value >= GOALS[key]


def format_table(fig: dict[str, Any]) -> str:
    rows = [(k, v, goal_met(k, v)) for k, v in fig.items() if not isinstance(v, dict)]
    width = max(len(k) for k, _, _ in rows)
    lines = [f"{'figure':<{width}}  {'value':>10}  goal"]
    for k, v, ok in rows:
        goal = "" if ok is None else f"{'met' if ok else 'NOT met'} ({GOALS[k]})"
        lines.append(f"{k:<{width}}  {str(v):>10}  {goal}")
    return "\n".join(lines)
