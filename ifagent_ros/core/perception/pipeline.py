"""RGB-D frame -> tracked 3-D objects in ``base_link`` (the ROS-free core of perception_node).

    pipeline = PerceptionPipeline(PerceptionConfig())
    result = pipeline.process(RGBDFrame(rgb, depth, K, cam_position, cam_quaternion, stamp),
                              joints={"panda_joint1": 0.0, ...})
    result.objects       # ObjectList (schemas.py): what /ifagent/objects carries
    result.points        # N x 3 points of the segmented objects, for PointCloud2

Steps: back-project valid depth into base_link; crop to the workspace; find the support plane
(RANSAC, open3d) among near-horizontal planes; keep points between ``min_height`` and
``max_height`` above it; drop points on the robot (its URDF meshes placed by forward
kinematics); cluster the rest (DBSCAN on voxels, open3d); per cluster estimate colour (HSV
statistics, opencv) and extent and shape (geometry); track ids across frames (Hungarian).

Bad frames never raise out of ``process`` for data problems a sensor can produce (no depth,
no table in view): the result carries an empty object list and a ``status`` saying why. Frames
that violate the interface (mismatched sizes, bad intrinsics or pose) raise ``FrameError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ifagent_ros.core.perception.color import ColorConfig, estimate_color
from ifagent_ros.core.perception.geometry import (
    Plane,
    depth_to_points,
    fit_support_plane,
    pixel_rays,
    quaternion_to_rotation,
    voxel_cluster,
)
from ifagent_ros.core.perception.robot_filter import RobotFilter, RobotFilterConfig
from ifagent_ros.core.perception.shape import ShapeConfig, estimate_shape
from ifagent_ros.core.perception.tracker import Detection3D, Tracker, TrackerConfig
from ifagent_ros.core.schemas import ObjectList, PerceivedObject

if TYPE_CHECKING:  # torch/transformers load only when a detector is configured
    from ifagent_ros.core.perception.open_vocab import Detection2D


class FrameError(ValueError):
    """The frame violates the interface (sizes, encodings, intrinsics, pose)."""


@dataclass
class RGBDFrame:
    rgb: np.ndarray  # H x W x 3 uint8, RGB order
    depth: np.ndarray  # H x W float, metres (z-depth); NaN/0/inf = no return
    K: np.ndarray  # 3 x 3 intrinsics of the (aligned) depth and colour images
    camera_position: np.ndarray  # optical frame origin in base_link
    camera_orientation: np.ndarray  # optical frame quaternion x, y, z, w in base_link
    stamp: float  # seconds, the source stamp


@dataclass(frozen=True)
class PerceptionConfig:
    workspace_min: tuple[float, float, float] = (-0.3, -0.9, -0.3)  # crop box in base_link
    workspace_max: tuple[float, float, float] = (1.3, 0.9, 0.8)
    max_range: float = 3.0  # metres; farther returns are ignored
    # Decimation: every k-th pixel in both directions, with k chosen so that at most this many
    # pixels are processed (640x480 -> k = 2). The colour is sampled at the same pixels.
    target_pixels: int = 80000
    plane_distance: float = 0.006  # RANSAC inlier distance
    plane_samples: int = 15000  # points given to RANSAC
    max_plane_tilt_deg: float = 20.0
    min_height: float = 0.008  # above the plane: lower points are the table
    max_height: float = 0.45
    voxel: float = 0.005  # clustering resolution
    cluster_eps: float = 0.011  # DBSCAN neighbourhood on voxel centroids
    cluster_min_voxels: int = 4  # DBSCAN core size
    min_object_voxels: int = 12  # smaller clusters are noise
    # Fragments (few voxels, or narrower than fragment_extent in x or y: a side face seen
    # edge-on and split off by sparse sampling, a mug handle the cup hides from its body) join
    # the nearest object whose footprint box is within fragment_merge_distance of theirs.
    # Unclaimed fragments narrower than thin_extent are dropped, the others stay objects.
    fragment_voxels: int = 30
    fragment_extent: float = 0.02
    thin_extent: float = 0.01
    fragment_merge_distance: float = 0.015
    max_objects: int = 64  # largest clusters kept when more are found
    resting_tolerance: float = 0.012  # bottom within this of the plane: stands on the table
    robot_filter: bool = True
    max_points_out: int = 20000  # cap on the segmented cloud returned for visualization
    seed: int = 0
    color: ColorConfig = field(default_factory=ColorConfig)
    shape: ShapeConfig = field(default_factory=ShapeConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    robot: RobotFilterConfig = field(default_factory=RobotFilterConfig)


@dataclass
class PerceptionResult:
    objects: ObjectList
    points: np.ndarray  # N x 3 float32, base_link: the segmented objects' points
    point_colors: np.ndarray  # N x 3 uint8
    point_object: np.ndarray  # N int32: index into objects.objects
    plane: Plane | None
    status: str
    timings_ms: dict[str, float]


def _check_frame(frame: RGBDFrame) -> None:
    rgb, depth = frame.rgb, frame.depth
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise FrameError(f"rgb must be H x W x 3, got shape {getattr(rgb, 'shape', None)}")
    if rgb.dtype != np.uint8:
        raise FrameError(f"rgb must be uint8, got {rgb.dtype}")
    if not isinstance(depth, np.ndarray) or depth.ndim != 2:
        raise FrameError(f"depth must be H x W, got shape {getattr(depth, 'shape', None)}")
    if depth.shape != rgb.shape[:2]:
        raise FrameError(f"rgb {rgb.shape[1]}x{rgb.shape[0]} and depth "
                         f"{depth.shape[1]}x{depth.shape[0]} differ in size: depth must be "
                         "registered to the colour image")
    if depth.size == 0:
        raise FrameError("empty image")
    K = np.asarray(frame.K, dtype=float)
    if K.shape != (3, 3) or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise FrameError(f"camera intrinsics K must be 3 x 3, finite, fx, fy > 0; got {K}")
    pos = np.asarray(frame.camera_position, dtype=float)
    if pos.shape != (3,) or not np.all(np.isfinite(pos)):
        raise FrameError(f"camera position must be 3 finite values, got {pos}")
    try:
        quaternion_to_rotation(frame.camera_orientation)
    except ValueError as err:
        raise FrameError(str(err)) from None
    if not np.isfinite(frame.stamp):
        raise FrameError(f"stamp must be finite, got {frame.stamp}")


Detector = Callable[[np.ndarray], "Sequence[Detection2D]"]


class PerceptionPipeline:
    """Geometric segmentation by default; with ``detector`` (e.g. ``OpenVocabDetector.detect``)
    each 2-D box is lifted to 3-D through the segmented points inside it (largest cluster), and
    the box's text label replaces the geometric shape label."""

    def __init__(self, config: PerceptionConfig | None = None,
                 detector: Detector | None = None, detector_name: str = "open_vocab") -> None:
        self.config = config or PerceptionConfig()
        self.detector = detector
        self.source = detector_name if detector is not None else "geometric"
        self.tracker = Tracker(self.config.tracker)
        self._robot = RobotFilter(self.config.robot) if self.config.robot_filter else None
        self._rays_key: tuple | None = None
        self._rays: tuple[np.ndarray, np.ndarray] | None = None
        self._rng = np.random.default_rng(self.config.seed)

    def _pixel_rays(self, K: np.ndarray, w: int, h: int, stride: int
                    ) -> tuple[np.ndarray, np.ndarray]:
        key = (w, h, stride, *np.round(K.reshape(-1), 6).tolist())
        if key != self._rays_key or self._rays is None:
            xs, ys = pixel_rays(K, w, h)
            self._rays = (np.ascontiguousarray(xs[::stride, ::stride]),
                          np.ascontiguousarray(ys[::stride, ::stride]))
            self._rays_key = key
        return self._rays

    def _empty(self, frame: RGBDFrame, status: str, timings: dict[str, float],
               plane: Plane | None = None) -> PerceptionResult:
        return PerceptionResult(
            objects=ObjectList(stamp=frame.stamp, source=self.source, objects=[], status=status),
            points=np.zeros((0, 3), np.float32), point_colors=np.zeros((0, 3), np.uint8),
            point_object=np.zeros(0, np.int32), plane=plane, status=status, timings_ms=timings)

    def _lift_boxes(self, rgb: np.ndarray, pts: np.ndarray, pix: np.ndarray, stride: int,
                    width_d: int) -> tuple[list[np.ndarray], list[tuple[str, float]]]:
        """Per 2-D detection: the largest 3-D cluster of segmented points inside its box."""
        cfg = self.config
        assert self.detector is not None
        rows = (pix // width_d) * stride
        cols = (pix % width_d) * stride
        clusters: list[np.ndarray] = []
        labels: list[tuple[str, float]] = []
        for det in self.detector(rgb):
            x0, y0, x1, y1 = det.box_xyxy
            inside = np.flatnonzero((cols >= x0) & (cols <= x1) & (rows >= y0) & (rows <= y1))
            if len(inside) == 0:
                continue
            lab, counts = voxel_cluster(pts[inside], cfg.voxel, cfg.cluster_eps,
                                        cfg.cluster_min_voxels)
            if len(counts) == 0 or counts.max() < cfg.min_object_voxels:
                continue
            clusters.append(inside[lab == int(np.argmax(counts))])
            labels.append((det.label, float(det.score)))
        return clusters, labels

    def _merge_fragments(self, pts: np.ndarray, labels: np.ndarray, voxel_counts: np.ndarray
                         ) -> list[np.ndarray]:
        """Point indices per object: clusters, with fragments merged into their neighbours."""
        cfg = self.config
        if len(labels) == 0:
            return []
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(len(voxel_counts) + 1))
        groups = [order[bounds[k]:bounds[k + 1]] for k in range(len(voxel_counts))]
        lo = [pts[g, :2].min(axis=0) for g in groups]
        hi = [pts[g, :2].max(axis=0) for g in groups]
        narrow = [float(np.min(hi[k] - lo[k])) for k in range(len(groups))]
        thin = [w < cfg.thin_extent for w in narrow]
        fragment = [narrow[k] < cfg.fragment_extent or voxel_counts[k] < cfg.fragment_voxels
                    for k in range(len(groups))]
        whole = [k for k in range(len(groups)) if not fragment[k]]
        members: dict[int, list[np.ndarray]] = {k: [groups[k]] for k in whole}
        for k in range(len(groups)):
            if not fragment[k]:
                continue
            # Gap between the two footprints' bounding boxes (0 when they overlap).
            gaps = {j: float(np.linalg.norm(np.maximum(0.0, np.maximum(lo[j] - hi[k],
                                                                      lo[k] - hi[j]))))
                    for j in whole}
            hosts = [j for j, g in gaps.items() if g <= cfg.fragment_merge_distance]
            if hosts:
                members[min(hosts, key=gaps.__getitem__)].append(groups[k])
            elif not thin[k] and voxel_counts[k] >= cfg.min_object_voxels:
                members[k] = [groups[k]]
        return [np.concatenate(v) for v in members.values()]

    def process(self, frame: RGBDFrame, joints: Mapping[str, float] | None = None
                ) -> PerceptionResult:
        """Objects in this frame, tracked; ``joints`` (name -> position) enable the self-filter."""
        cfg = self.config
        t0 = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(name: str) -> None:
            timings[name] = (time.perf_counter() - t0) * 1e3 - sum(timings.values())

        _check_frame(frame)
        h, w = frame.depth.shape
        K = np.asarray(frame.K, dtype=float)
        rot = quaternion_to_rotation(frame.camera_orientation)
        cam = np.asarray(frame.camera_position, dtype=float)
        stride = max(1, int(np.ceil(np.sqrt(h * w / max(cfg.target_pixels, 1)))))
        depth = np.asarray(frame.depth[::stride, ::stride], dtype=np.float32)
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(depth) & (depth > 0.0) & (depth < cfg.max_range)
        if valid.sum() < 100:
            lap("backproject")
            return self._empty(frame, "no valid depth in this frame", timings)
        pix = np.flatnonzero(valid)
        pts = depth_to_points(depth, self._pixel_rays(K, w, h, stride), rot, cam, valid)
        lo, hi = np.array(cfg.workspace_min, np.float32), np.array(cfg.workspace_max, np.float32)
        inside = np.all((pts >= lo) & (pts <= hi), axis=1)
        pts, pix = pts[inside], pix[inside]
        lap("backproject")
        if len(pts) < 100:
            return self._empty(frame, "no depth inside the workspace: check the camera pose "
                               "(parameters camera.position, camera.orientation)", timings)
        sample = pts if len(pts) <= cfg.plane_samples else pts[
            self._rng.choice(len(pts), cfg.plane_samples, replace=False)]
        plane = fit_support_plane(sample, cfg.plane_distance, cfg.max_plane_tilt_deg,
                                  seed=cfg.seed)
        lap("plane")
        if plane is None:
            return self._empty(frame, "no support plane found (is the table in view?)", timings)
        if plane.height(cam[None, :].astype(np.float32))[0] <= 0.0:
            return self._empty(frame, "the camera is below the support plane: check the camera "
                               "pose", timings, plane)
        heights = plane.height(pts)
        keep = (heights > cfg.min_height) & (heights < cfg.max_height)
        pts, pix, heights = pts[keep], pix[keep], heights[keep]
        robot_status = ""
        if self._robot is not None:
            if joints:
                on_robot = self._robot.mask(pts, joints)
                pts, pix, heights = pts[~on_robot], pix[~on_robot], heights[~on_robot]
            else:
                robot_status = "; no joint positions: the robot is not filtered out"
        lap("segment")
        box_labels: list[tuple[str, float]] | None = None
        if self.detector is not None:
            clusters, box_labels = self._lift_boxes(frame.rgb, pts, pix, stride,
                                                    depth.shape[1])
        else:
            labels, voxel_counts = voxel_cluster(pts, cfg.voxel, cfg.cluster_eps,
                                                 cfg.cluster_min_voxels)
            clusters = self._merge_fragments(pts, labels, voxel_counts)
        lap("cluster")
        rgb_flat = frame.rgb[::stride, ::stride].reshape(-1, 3)
        order = sorted(range(len(clusters)), key=lambda i: len(clusters[i]), reverse=True)
        dropped = max(0, len(clusters) - cfg.max_objects)
        order = order[:cfg.max_objects]
        clusters = [clusters[i] for i in order]
        if box_labels is not None:
            box_labels = [box_labels[i] for i in order]
        detections: list[Detection3D] = []
        for ci, idx in enumerate(clusters):
            p_obj, h_obj = pts[idx], heights[idx]
            resting = float(np.percentile(h_obj, 1.0)) < cfg.min_height + cfg.resting_tolerance
            xy = p_obj[:, :2].mean(axis=0)
            n = plane.normal
            plane_z = float(-(plane.d + n[0] * xy[0] + n[1] * xy[1]) / n[2])
            shape = estimate_shape(p_obj, h_obj, plane_z, resting, cam[:2], cfg.shape)
            color = estimate_color(rgb_flat[pix[idx]], cfg.color)
            support = min(1.0, len(idx) / 150.0)
            label, label_conf = shape.label, shape.confidence
            if box_labels is not None:
                label, label_conf = box_labels[ci]
            detections.append(Detection3D(
                position=shape.center, size=shape.size, label=label, color=color.name,
                confidence=float(support * (0.5 + 0.25 * label_conf
                                            + 0.25 * color.confidence)),
                label_confidence=label_conf, color_confidence=color.confidence))
        lap("describe")
        tracks = self.tracker.update(detections, frame.stamp)
        objects = [PerceivedObject(
            id=t.id, label=t.label, color=t.color,
            position=tuple(float(v) for v in t.position),  # type: ignore[arg-type]
            size=tuple(float(v) for v in t.size),  # type: ignore[arg-type]
            confidence=float(np.clip(t.confidence, 0.0, 1.0)), last_seen=t.last_seen)
            for t in tracks]
        lap("track")
        # Segmented cloud: points of the kept clusters, each tagged with its track's index.
        track_index = {id(t): i for i, t in enumerate(tracks)}
        det_to_track = {j: track_index[id(t)] for j, t in self.tracker.assignment.items()}
        sel = [(idx, det_to_track.get(j, -1)) for j, idx in enumerate(clusters)]
        all_idx = np.concatenate([s[0] for s in sel]) if sel else np.zeros(0, np.int64)
        all_obj = (np.concatenate([np.full(len(s[0]), s[1], np.int32) for s in sel])
                   if sel else np.zeros(0, np.int32))
        if len(all_idx) > cfg.max_points_out:
            pick = self._rng.choice(len(all_idx), cfg.max_points_out, replace=False)
            all_idx, all_obj = all_idx[pick], all_obj[pick]
        status = "ok" + robot_status
        if dropped:
            status += f"; {dropped} more clusters than max_objects={cfg.max_objects} dropped"
        lap("output")
        return PerceptionResult(
            objects=ObjectList(stamp=frame.stamp, source=self.source, objects=objects,
                               status=status),
            points=pts[all_idx], point_colors=rgb_flat[pix[all_idx]], point_object=all_obj,
            plane=plane, status=status, timings_ms=timings)
