"""perception_node: RGB-D camera -> ``/ifagent/objects`` (JSON), markers and a segmented cloud.

Thin wrapper around :class:`ifagent_ros.core.perception.pipeline.PerceptionPipeline`.

- Colour and depth are paired by stamp (within ``sync.slop_s``); CameraInfo supplies K.
- The camera's optical frame pose in ``base_link`` is a parameter (``camera.position``,
  ``camera.orientation`` x, y, z, w), since tf2 is not available everywhere; with tf2 a launch
  file can fill it from a calibration.
- ``/joint_states`` places the robot self-filter; without recent joint states the robot is not
  filtered and the object list's status says so.
- Frames are processed in a worker thread from a one-frame slot: a frame that arrives while the
  previous one is being processed replaces the waiting one (dropped, counted), so a slow frame
  never queues work or blocks the executor.
- Every ``/ifagent/objects`` message carries the source image stamp; a frame that cannot be
  processed (no CameraInfo yet, undecodable image, mismatched sizes, no depth, no table) still
  yields a message with no objects and a ``status`` saying why, never the previous objects.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image, JointState, PointCloud2
from std_msgs.msg import Header, String
from visualization_msgs.msg import MarkerArray

from ifagent_ros.core.perception.pipeline import (
    FrameError,
    PerceptionConfig,
    PerceptionPipeline,
    RGBDFrame,
)
from ifagent_ros.core.schemas import ObjectList
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config
from ifagent_ros.nodes.perception_msgs import (
    image_to_depth,
    image_to_rgb,
    make_pointcloud2,
    objects_to_markers,
    seconds_to_time,
    stamp_seconds,
)
from ifagent_ros.nodes.perception_params import DetectorParams, PerceptionNodeConfig


class PerceptionNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "perception_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.config = cfg = declare_config(self, PerceptionNodeConfig)
        pipeline = declare_config(self, PerceptionConfig,
                                  fixed=["color.hue_bins", "robot.joint_prefix_map"])
        self._slop = cfg.sync.slop_s
        self._joints_timeout = cfg.joint_states_timeout_s
        self._marker_life = cfg.marker_lifetime_s
        self._cam_position = np.array(cfg.camera.position, dtype=float)
        self._cam_orientation = np.array(cfg.camera.orientation, dtype=float)
        self._pipeline = self._build_pipeline(pipeline, cfg.detector)

        self._lock = threading.Lock()
        self._colors: deque[tuple[float, Image]] = deque(maxlen=4)
        self._depths: deque[tuple[float, Image]] = deque(maxlen=4)
        self._info: CameraInfo | None = None
        self._joints: dict[str, float] | None = None
        self._joints_received = 0.0  # time.monotonic()
        self._pending: tuple[float, Image, Image, CameraInfo | None] | None = None
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self.frames_processed = 0
        self.frames_dropped = 0
        self.last_result: ObjectList | None = None

        self._pub_objects = self.create_publisher(String, cfg.objects_topic, 10)
        self._pub_markers = self.create_publisher(MarkerArray, cfg.markers_topic, 2)
        self._pub_points = self.create_publisher(PointCloud2, cfg.points_topic, 2)
        sensor = qos_profile_sensor_data
        self.create_subscription(Image, cfg.color_topic, self._on_color, sensor)
        self.create_subscription(Image, cfg.depth_topic, self._on_depth, sensor)
        self.create_subscription(CameraInfo, cfg.camera_info_topic, self._on_info, sensor)
        self.create_subscription(JointState, cfg.joint_states_topic, self._on_joints, 10)
        self._worker = threading.Thread(target=self._run, name="perception", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"perception ({self._pipeline.source}): {cfg.color_topic} + {cfg.depth_topic}"
            f" -> {cfg.objects_topic}")

    @staticmethod
    def _build_pipeline(pipeline: PerceptionConfig, det: DetectorParams) -> PerceptionPipeline:
        if det.backend == "geometric":
            return PerceptionPipeline(pipeline)
        from ifagent_ros.core.perception.open_vocab import OpenVocabConfig, OpenVocabDetector

        detector = OpenVocabDetector(OpenVocabConfig(
            backend=det.backend, model_path=det.model_path, queries=det.queries,
            score_threshold=det.score_threshold, device=det.device,
            parameter_name="detector.model_path"))
        return PerceptionPipeline(pipeline, detector=detector.detect, detector_name=det.backend)

    # ---- subscriptions (executor thread: only bookkeeping) ---------------------------------
    def _on_info(self, msg: CameraInfo) -> None:
        with self._lock:
            self._info = msg

    def _on_joints(self, msg: JointState) -> None:
        if len(msg.name) != len(msg.position):
            self.get_logger().warning("joint_states: names and positions differ in length",
                                      throttle_duration_sec=1.0)
            return
        joints = {n: float(p) for n, p in zip(msg.name, msg.position, strict=True)}
        with self._lock:
            self._joints = joints
            self._joints_received = time.monotonic()

    def _on_color(self, msg: Image) -> None:
        self._add(self._colors, self._depths, msg, color_first=True)

    def _on_depth(self, msg: Image) -> None:
        self._add(self._depths, self._colors, msg, color_first=False)

    def _add(self, mine: deque, other: deque, msg: Image, color_first: bool) -> None:
        stamp = stamp_seconds(msg.header.stamp)
        with self._lock:
            for i, (s, m) in enumerate(other):
                if abs(s - stamp) <= self._slop:
                    del other[i]
                    color, depth = (msg, m) if color_first else (m, msg)
                    if self._pending is not None:
                        self.frames_dropped += 1  # the worker is busy: newest frame wins
                    self._pending = (stamp_seconds(color.header.stamp), color, depth,
                                     self._info)
                    # Unpaired older frames can never pair now.
                    while other and other[0][0] < stamp - self._slop:
                        other.popleft()
                    self._wake.notify()
                    return
            mine.append((stamp, msg))

    # ---- worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None and not self._closed:
                    self._wake.wait(timeout=0.5)
                if self._closed:
                    return
                stamp, color, depth, info = self._pending  # type: ignore[misc]
                self._pending = None
                fresh = time.monotonic() - self._joints_received <= self._joints_timeout
                joints = dict(self._joints) if self._joints is not None and fresh else None
            try:
                self._process(stamp, color, depth, info, joints)
            except Exception as err:  # noqa: BLE001 - keep the worker alive whatever a frame holds
                self.get_logger().error(f"perception failed on frame {stamp:.3f}: {err!r}",
                                        throttle_duration_sec=1.0)
                self._publish_empty(stamp, f"internal error: {err!r}")

    def _process(self, stamp: float, color: Image, depth: Image, info: CameraInfo | None,
                 joints: dict[str, float] | None) -> None:
        if info is None:
            self._reject(stamp, f"no CameraInfo received on {self.config.camera_info_topic}")
            return
        try:
            rgb = image_to_rgb(color)
            d = image_to_depth(depth)
            K = np.array(info.k, dtype=float).reshape(3, 3)
            if (info.width, info.height) != (rgb.shape[1], rgb.shape[0]):
                raise FrameError(f"CameraInfo is {info.width}x{info.height} but the colour "
                                 f"image is {rgb.shape[1]}x{rgb.shape[0]}")
            frame = RGBDFrame(rgb, d, K, self._cam_position, self._cam_orientation, stamp)
            result = self._pipeline.process(frame, joints)
        except (ValueError, FrameError) as err:
            self._reject(stamp, str(err))
            return
        self.frames_processed += 1
        if result.status != "ok":
            self.get_logger().warning(f"perception: {result.status}", throttle_duration_sec=2.0)
        self._publish(result.objects, result.points, result.point_colors, result.point_object)

    def _reject(self, stamp: float, why: str) -> None:
        self.get_logger().warning(f"dropped frame {stamp:.3f}: {why}", throttle_duration_sec=1.0)
        self._publish_empty(stamp, why)

    def _publish_empty(self, stamp: float, status: str) -> None:
        empty = np.zeros((0, 3), np.float32)
        self._publish(ObjectList(stamp=stamp, source=self._pipeline.source, objects=[],
                                 status=status),
                      empty, empty.astype(np.uint8), np.zeros(0, np.int32))

    def _publish(self, objects: ObjectList, points: np.ndarray, colors: np.ndarray,
                 index: np.ndarray) -> None:
        if self._closed:
            return
        self.last_result = objects
        header = Header(stamp=seconds_to_time(objects.stamp), frame_id=self.config.frame_id)
        self._pub_objects.publish(String(data=objects.model_dump_json()))
        self._pub_markers.publish(objects_to_markers(objects, header, self._marker_life))
        if self.config.publish_points:
            self._pub_points.publish(make_pointcloud2(header, points, colors, index))

    def close(self) -> None:
        """Stop the worker thread (idempotent)."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        if self._worker.is_alive() and threading.current_thread() is not self._worker:
            self._worker.join(timeout=5.0)


NODE_CLASS = PerceptionNode


def main(args: list[str] | None = None) -> None:
    run_node(PerceptionNode, args)


if __name__ == "__main__":
    main()
