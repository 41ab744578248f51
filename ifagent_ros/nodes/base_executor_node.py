"""base_executor_node: the only node that commands the mobile base, ``/ifagent/nav/plan`` ->
``/cmd_vel`` (the sim's stand-in for Nav2's controller server).

Thin plumbing around :class:`~ifagent_ros.core.control.base_executor.BaseExecutorCore`: it
follows the newest ``nav_msgs/Path`` (``follow: plan``; an empty path stops the base) or the
newest ``/goal_pose`` as a straight line (``follow: goal``) with the local controller, on
``/odom``, slowing and stopping for obstacles seen in the depth image (``/camera/depth/image_raw``
+ its camera_info; the camera's mount in base_link is a parameter, as there is no tf here).
Like executor_node it latches ``/ifagent/estop`` (zero ``/cmd_vel`` until
``/ifagent/base_executor/reset_estop``), stops on stale odometry or stale depth, and runs on the
steady clock so a simulator that stops publishing cannot stop it from braking.

Paths are taken to be in the odometry frame: in sim ``odom`` == ``map`` (odometry starts at the
true pose); a real base uses Nav2 instead of this node, which transforms ``map`` goals itself.
A separate node (not a section of executor_node) because the arm executor's loop runs at
500 Hz on joint states and kinematics the base does not have; both obey the same e-stop topic.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from geometry_msgs.msg import PoseStamped, Twist
from nav_msgs.msg import Odometry, Path
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String

from ifagent_ros.core.control.base_executor import (
    BaseExecutorConfig,
    BaseExecutorCore,
    camera_in_base,
)
from ifagent_ros.core.control.local_controller import depth_to_obstacle_points
from ifagent_ros.core.schemas import BaseExecutorStatus
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.estop_latch import EstopLatch
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class ObstacleSensing:
    """Obstacles from the depth image: the camera's mount in base_link (no tf here) and which
    points count."""

    enabled: bool = True
    camera_position: tuple[float, float, float] = (0.116, 0.0, 1.0)
    camera_pitch_deg: float = 0.0  # > 0: tilted down
    min_height: float = 0.03  # m above base_link
    max_height: float = 1.6
    max_range: float = 3.0
    stride: int = 4  # every stride-th pixel


@dataclass(frozen=True)
class BaseExecutorTopics:
    plan: str = topics.NAV_PLAN
    goal: str = topics.GOAL_POSE
    odom: str = topics.ODOM
    cmd_vel: str = topics.CMD_VEL
    depth: str = topics.DEPTH_IMAGE
    depth_info: str = topics.DEPTH_INFO
    estop: str = topics.ESTOP
    status: str = "/ifagent/base_executor/status"
    reset_estop_service: str = "/ifagent/base_executor/reset_estop"


@dataclass(frozen=True)
class BaseExecutorNodeConfig:
    follow: Literal["plan", "goal"] = "plan"
    status_rate_hz: float = 5.0
    frames: tuple[str, ...] = ("map", "odom")  # accepted path frames (sim: map == odom)
    obstacles: ObstacleSensing = field(default_factory=ObstacleSensing)
    topics: BaseExecutorTopics = field(default_factory=BaseExecutorTopics)


class BaseExecutorNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "base_executor_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._closed = False
        cfg = declare_config(self, BaseExecutorConfig)
        p = declare_config(self, BaseExecutorNodeConfig)
        obs, t = p.obstacles, p.topics
        # Without an obstacle sensor there is nothing to require.
        self.config = replace(cfg, require_obstacles=cfg.require_obstacles and obs.enabled)
        self.core = BaseExecutorCore(self.config)
        self.frames = set(p.frames)
        self.cam_T = camera_in_base(obs.camera_position, math.radians(obs.camera_pitch_deg))
        self.obstacle_args = dict(min_height=obs.min_height, max_height=obs.max_height,
                                  max_range=obs.max_range, stride=obs.stride)
        self._k: np.ndarray | None = None
        self.sent: list[tuple[float, float]] = []  # last commands (tests, benchmarks)
        self._cmd_pub = self.create_publisher(Twist, t.cmd_vel, 10)
        self._status_pub = self.create_publisher(String, t.status, 10)
        if p.follow == "plan":
            self.create_subscription(Path, t.plan, self._on_plan, 10)
        else:
            self.create_subscription(PoseStamped, t.goal, self._on_goal, 10)
        self.create_subscription(Odometry, t.odom, self._on_odom, 20)
        if obs.enabled:
            self.create_subscription(Image, t.depth, self._on_depth, 2)
            self.create_subscription(CameraInfo, t.depth_info, self._on_info, 2)
        self.estop = EstopLatch(self, self.core, t.estop, t.reset_estop_service,
                                stopping="base stopped", on_latch=self._on_timer,
                                closed=lambda: self._closed)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._timer = self.create_timer(self.config.dt, self._on_timer, clock=steady)
        self._status_timer = self.create_timer(1.0 / p.status_rate_hz, self._publish_status,
                                               clock=steady)
        self.get_logger().info(f"base executor up: follows {p.follow}, "
                               f"{self.config.control_rate_hz:.0f} Hz, obstacles "
                               f"{'required' if self.config.require_obstacles else 'optional'}")

    def _warn(self, reason: str | None) -> None:
        if reason:
            self.get_logger().warning(reason, throttle_duration_sec=1.0)

    # ------------------------------------------------------------------ callbacks
    def _on_plan(self, msg: Path) -> None:
        if self._closed:
            return
        if msg.poses and msg.header.frame_id not in self.frames:
            self._warn(self.core.reject(f"path rejected: frame {msg.header.frame_id!r} is not "
                                         f"one of {sorted(self.frames)}; stopping"))
            self.core.on_path([])
            return
        self._warn(self.core.on_path([(ps.pose.position.x, ps.pose.position.y)
                                      for ps in msg.poses]))

    def _on_goal(self, msg: PoseStamped) -> None:
        if self._closed:
            return
        if msg.header.frame_id not in self.frames:
            self._warn(self.core.reject(f"goal rejected: frame {msg.header.frame_id!r}"))
            self.core.on_path([])
            return
        self._warn(self.core.on_path([(msg.pose.position.x, msg.pose.position.y)]))

    def _on_odom(self, msg: Odometry) -> None:
        if self._closed:
            return
        q = msg.pose.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        self._warn(self.core.on_odometry(msg.pose.pose.position.x, msg.pose.pose.position.y, yaw,
                                         time.monotonic()))

    def _on_info(self, msg: CameraInfo) -> None:
        k = np.array(msg.k, dtype=float).reshape(3, 3)
        if np.isfinite(k).all() and k[0, 0] > 0 and k[1, 1] > 0:
            self._k = k

    def _on_depth(self, msg: Image) -> None:
        if self._closed or self._k is None:
            return
        if msg.encoding != "32FC1" or msg.step != msg.width * 4:
            self._warn(self.core.reject(f"depth rejected: encoding {msg.encoding!r} "
                                         "(need 32FC1, unpadded)"))
            return
        dtype = ">f4" if msg.is_bigendian else "<f4"
        depth = np.frombuffer(bytes(msg.data), dtype=dtype).reshape(msg.height, msg.width)
        try:
            pts = depth_to_obstacle_points(depth, self._k, self.cam_T, **self.obstacle_args)
        except ValueError as err:
            self._warn(self.core.reject(f"depth rejected: {err}"))
            return
        self._warn(self.core.on_obstacles(pts, time.monotonic()))

    def _on_timer(self) -> None:
        if self._closed:
            return
        now = time.monotonic()
        out = self.core.step(now)
        if self.core.should_send(out, now):
            msg = Twist()
            msg.linear.x, msg.angular.z = out.v, out.w
            self._cmd_pub.publish(msg)
            self.sent = [*self.sent[-199:], (out.v, out.w)]

    def _publish_status(self) -> None:
        if self._closed:
            return
        core, last = self.core, self.core.last
        o = last.output

        def finite(x: float | None) -> float | None:
            return float(x) if x is not None and math.isfinite(x) else None

        status = BaseExecutorStatus(
            stamp=self.get_clock().now().nanoseconds * 1e-9, mode=last.mode,  # type: ignore
            reason=last.reason, estop_latched=core.estop_latched, v=last.v, w=last.w,
            path_points=len(core.controller.path),
            distance_to_goal=finite(o.distance_to_goal) if o else None,
            cross_track_error=finite(o.cross_track_error) if o else None,
            free_distance=finite(o.free_distance) if o else None,
            obstacle_points=len(core.obstacles_odom), rejections=core.rejections,
            last_rejection=core.last_rejection)
        self._status_pub.publish(String(data=status.model_dump_json()))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._cmd_pub.publish(Twist())  # a last zero: stop now rather than on the timeout
        except Exception:  # noqa: BLE001 - context already shut down
            pass


NODE_CLASS = BaseExecutorNode


def main(args: list[str] | None = None) -> None:
    run_node(BaseExecutorNode, args)


if __name__ == "__main__":
    main()
