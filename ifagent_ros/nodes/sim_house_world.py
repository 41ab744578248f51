"""sim_node's house mode (``world: house``): the PyBullet house and its mobile base as topics.

Subscribes ``/cmd_vel`` (geometry_msgs/Twist: linear.x m/s, angular.z rad/s, as a real base
driver does; the base brakes when commands stop for ``cmd_vel.timeout_s``). Publishes ``/clock``,
``/odom`` (nav_msgs/Odometry, frame ``odom`` -> ``base_link``, wheel odometry that starts at the
true start pose, so ``odom`` == ``map`` up to wheel slip), the RGB-D camera topics of the mast
camera, ``/sim/base_pose`` (the true pose, frame ``map``, for evaluation only) and, with
``objects.publish``, a ground-truth ``/ifagent/objects`` list (schemas.ObjectList, base_link,
source ``ground_truth``) of the landmarks in sight: furniture, doors, and the rooms seen through
open doors (labelled with the room type), which stands in for a detector in the house.
With ``realtime: true`` sim time runs at ``time_scale`` x the wall clock; ``camera.depth_noise_std``
adds Gaussian depth noise (seeded by ``seed`` when >= 0).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from ifagent_ros.core.schemas import ObjectList, PerceivedObject
from ifagent_ros.sim.camera import CameraFrame
from ifagent_ros.sim.house_sim import HOUSE_CAMERA, HouseSim, HouseSimConfig
from ifagent_ros.sim.tabletop_domain import Pacer, check_nonnegative

_NONREALTIME_BATCH_S = 0.005
_MAX_CATCHUP_S = 0.1  # wall seconds of backlog worth catching up after a stall (see Pacer)

HOUSE_DEFAULTS: dict[str, Any] = {
    "house": "apartment_a", "start": [0.0], "realtime": True, "time_scale": 1.0,
    "physics_rate_hz": 240.0, "seed": -1,
    "odom_rate_hz": 50.0, "odom_topic": "/odom", "odom_frame_id": "odom",
    "base_frame_id": "base_link", "base_pose_topic": "/sim/base_pose",
    "cmd_vel.topic": "/cmd_vel", "cmd_vel.timeout_s": 0.5,
    "max_linear_speed": 0.6, "max_angular_speed": 1.5,
    "camera.enabled": True, "camera.rate_hz": 5.0, "camera.width": HOUSE_CAMERA.width,
    "camera.height": HOUSE_CAMERA.height, "camera.fov_deg": HOUSE_CAMERA.fov_deg,
    "camera.far": HOUSE_CAMERA.far, "camera.frame_id": "camera_color_optical_frame",
    "camera.depth_noise_std": 0.0,
    "camera.color_topic": "/camera/color/image_raw",
    "camera.depth_topic": "/camera/depth/image_raw",
    "camera.color_info_topic": "/camera/color/camera_info",
    "camera.depth_info_topic": "/camera/depth/camera_info",
    "objects.publish": True, "objects.topic": "/ifagent/objects", "objects.rate_hz": 2.0,
    "objects.range_m": 5.0,
}


def stamp_msg(t: float) -> Any:
    from builtin_interfaces.msg import Time

    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=min(round((t - sec) * 1e9), 999_999_999))


# House.seen_objects rates a door's closeness as width * 2 / (d^2 * 2.6) and a room seen through
# it at half that. The supervisor's apparent-size model (nav_supervisor.apparent_closeness) is
# max(w, d) * h / (d^2 * view area); these heights make the two agree, so the ROS pipeline sees
# exactly what the graph environment (sim/house_env.py) shows the planner.
DOOR_APPARENT_HEIGHT = 2.0 * (2.0 * math.tan(math.radians(30.0))) * (
    2.0 * math.tan(math.radians(22.5))) / 2.6


def house_object_list(house: Any, x: float, y: float, yaw: float,
                      max_range: float = 5.0) -> list[PerceivedObject]:
    """The landmarks in sight from (x, y) (:meth:`House.seen_objects`) as base_link objects.

    Furniture at its position with its size; a door at its opening; a room seen through an open
    door at that door, id ``room/<room>@<door>`` (a room can show through several doors).
    """
    c, s = math.cos(yaw), math.sin(yaw)
    seen_all = house.seen_objects((x, y), max_range)
    door_heading = {v.object_id[5:]: v.heading for v in seen_all if v.object_id.startswith("door/")}
    out, used = [], set()
    for seen in seen_all:
        kind, _, key = seen.object_id.partition("/")
        oid = seen.object_id
        if oid in house.objects:
            o = house.objects[oid]
            wx, wy, size, color = o.position[0], o.position[1], o.size, o.color.name
        elif kind == "door" and key in house.openings:
            op = house.openings[key]
            (wx, wy), color = op.center, "brown"
            size = (op.door.width, house.spec.wall_thickness, DOOR_APPARENT_HEIGHT)
        elif kind == "room" and key in house.rooms:
            # The door it shows through: the visible open door of this room at the same heading.
            doors = [d for d, h in door_heading.items() if key in house.openings[d].door.between
                     and house.openings[d].door.open and abs(h - seen.heading) < 1e-9
                     and f"room/{key}@{d}" not in used]
            if not doors:
                continue
            op = house.openings[doors[0]]
            (wx, wy), color, oid = op.center, "gray", f"room/{key}@{doors[0]}"
            used.add(oid)
            size = (op.door.width, 0.1, DOOR_APPARENT_HEIGHT / 2.0)
        else:
            continue
        dx, dy = wx - x, wy - y
        out.append(PerceivedObject(
            id=oid, label=seen.name, color=color,
            position=(c * dx + s * dy, -s * dx + c * dy, float(size[2]) / 2.0),
            size=tuple(float(v) for v in size), confidence=1.0))  # type: ignore[arg-type]
    return out


class HouseWorld:
    """The house mode's plumbing, owned by a SimNode (see its ``world`` parameter)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        par = self._declare(node)
        start = par["start"]
        if len(start) not in (1, 3):
            raise ValueError(f"parameter start must be [x, y, yaw] (or [0.0]: the house's "
                             f"first place), got {start}")
        cam = replace(HOUSE_CAMERA, width=par["camera.width"], height=par["camera.height"],
                      fov_deg=par["camera.fov_deg"], far=par["camera.far"],
                      depth_noise_std=par["camera.depth_noise_std"],
                      noise_seed=None if par["seed"] < 0 else par["seed"])
        self.sim: HouseSim | None = HouseSim(HouseSimConfig(
            house=par["house"], start=tuple(start) if len(start) == 3 else None,
            timestep=1.0 / par["physics_rate_hz"], cmd_timeout=par["cmd_vel.timeout_s"],
            max_linear_speed=par["max_linear_speed"],
            max_angular_speed=par["max_angular_speed"], camera=cam))
        self.realtime: bool = par["realtime"]
        self.pacer = Pacer(self.sim.timestep, par["time_scale"], _MAX_CATCHUP_S)
        self.odom_frame, self.base_frame = par["odom_frame_id"], par["base_frame_id"]
        self.camera_frame = par["camera.frame_id"]
        self.camera_enabled: bool = par["camera.enabled"]
        self.objects_enabled: bool = par["objects.publish"]
        self.objects_range: float = par["objects.range_m"]
        self.periods = {"odom": 1.0 / par["odom_rate_hz"], "cam": 1.0 / par["camera.rate_hz"],
                        "obj": 1.0 / par["objects.rate_hz"]}
        self.next = {k: 0.0 for k in self.periods}
        self.rejected = 0
        self.pub_clock = node.create_publisher(ClockMsg, "/clock", 10)
        self.pub_odom = node.create_publisher(Odometry, par["odom_topic"], 10)
        self.pub_truth = node.create_publisher(Odometry, par["base_pose_topic"], 10)
        self.pub_rgb = node.create_publisher(Image, par["camera.color_topic"], 2)
        self.pub_depth = node.create_publisher(Image, par["camera.depth_topic"], 2)
        self.pub_rgb_info = node.create_publisher(CameraInfo, par["camera.color_info_topic"], 2)
        self.pub_depth_info = node.create_publisher(CameraInfo, par["camera.depth_info_topic"], 2)
        self.pub_objects = node.create_publisher(String, par["objects.topic"], 2)
        node.create_subscription(Twist, par["cmd_vel.topic"], self._on_cmd_vel, 10)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.wall0, self.sim0 = time.monotonic(), 0.0
        self.timer = node.create_timer(self.sim.timestep if self.realtime else 0.001,
                                       self._on_tick, clock=steady)
        g = self.sim.house.graph
        node.get_logger().info(
            f"house '{self.sim.house.name}' ({len(self.sim.house.rooms)} rooms, {len(g)} places), "
            f"base at {tuple(round(v, 2) for v in self.sim.base_pose())}, "
            f"realtime={self.realtime} (x{self.pacer.time_scale:g}), "
            f"camera {'on' if self.camera_enabled else 'off'}")

    @staticmethod
    def _declare(node: Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, default in HOUSE_DEFAULTS.items():
            is_float = isinstance(default, float) or (
                isinstance(default, list) and isinstance(default[0], float))
            value = node.declare_parameter(
                name, default, ParameterDescriptor(dynamic_typing=is_float)).value
            if is_float:
                value = [float(v) for v in value] if isinstance(default, list) else float(value)
            out[name] = value
        check_nonnegative("camera.depth_noise_std", out["camera.depth_noise_std"])
        for key in ("physics_rate_hz", "odom_rate_hz", "camera.rate_hz", "objects.rate_hz",
                    "cmd_vel.timeout_s", "max_linear_speed", "max_angular_speed", "time_scale"):
            if not (math.isfinite(out[key]) and out[key] > 0.0):
                raise ValueError(f"parameter {key} must be > 0, got {out[key]}")
        return out

    # ---- stepping -------------------------------------------------------------------------
    def _on_tick(self) -> None:
        sim = self.sim
        if sim is None:
            return
        try:
            if self.realtime:
                n, resync = self.pacer.steps_due(time.monotonic() - self.wall0,
                                                 sim.time - self.sim0)
                if resync:  # stalled (a render): drop the backlog instead of fast-forwarding
                    self.wall0, self.sim0 = time.monotonic(), sim.time
                for _ in range(n):
                    self._step_once(sim)
            else:
                start = time.monotonic()
                while time.monotonic() - start < _NONREALTIME_BATCH_S:
                    self._step_once(sim)
        except Exception as err:  # never let a tick kill the node
            self.node.get_logger().error(f"house tick failed: {err!r}",
                                         throttle_duration_sec=1.0)

    def _step_once(self, sim: HouseSim) -> None:
        sim.step()
        t = sim.time
        self.pub_clock.publish(ClockMsg(clock=stamp_msg(t)))
        if self._due("odom", t):
            self._publish_odom(sim, t)
        if self.objects_enabled and self._due("obj", t):
            self._publish_objects(sim, t)
        if self.camera_enabled and self._due("cam", t):
            self.publish_camera()

    def _due(self, key: str, t: float) -> bool:
        if t + 1e-9 < self.next[key]:
            return False
        self.next[key] = max(self.next[key] + self.periods[key], t + 0.5 * self.periods[key])
        return True

    # ---- publishing -----------------------------------------------------------------------
    def _publish_odom(self, sim: HouseSim, t: float) -> None:
        o = sim.odom()
        msg = _odometry(t, self.odom_frame, self.base_frame, o.x, o.y, o.yaw, o.v, o.w)
        self.pub_odom.publish(msg)
        x, y, yaw = sim.base_pose()
        v, w = sim.base_velocity()
        self.pub_truth.publish(_odometry(t, "map", self.base_frame, x, y, yaw, v, w))

    def _publish_objects(self, sim: HouseSim, t: float) -> None:
        x, y, yaw = sim.base_pose()
        objs = house_object_list(sim.house, x, y, yaw, self.objects_range)
        msg = ObjectList(stamp=t, source="ground_truth", objects=objs)
        self.pub_objects.publish(String(data=msg.model_dump_json()))

    def publish_camera(self) -> CameraFrame | None:
        if self.sim is None:
            return None
        frame = self.sim.render_camera()
        header = Header(stamp=stamp_msg(frame.stamp), frame_id=self.camera_frame)
        h, w = frame.depth.shape
        self.pub_rgb.publish(Image(header=header, height=h, width=w, encoding="rgb8",
                                   is_bigendian=0, step=w * 3,
                                   data=np.ascontiguousarray(frame.rgb).tobytes()))
        self.pub_depth.publish(Image(
            header=header, height=h, width=w, encoding="32FC1",
            is_bigendian=int(sys.byteorder == "big"), step=w * 4,
            data=np.ascontiguousarray(frame.depth, dtype=np.float32).tobytes()))
        k = frame.K
        info = CameraInfo(header=header, height=h, width=w, distortion_model="plumb_bob",
                          d=[0.0] * 5, k=k.flatten().tolist(), r=np.eye(3).flatten().tolist(),
                          p=[k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0,
                             0.0, 0.0, 1.0, 0.0])
        self.pub_rgb_info.publish(info)
        self.pub_depth_info.publish(info)
        return frame

    # ---- commands -------------------------------------------------------------------------
    def _on_cmd_vel(self, msg: Twist) -> None:
        if self.sim is None:
            return
        try:
            self.sim.set_cmd_vel(msg.linear.x, msg.angular.z)
        except ValueError as err:  # NaN/inf: the sim already braked
            self.rejected += 1
            self.node.get_logger().warning(f"rejected /cmd_vel: {err}",
                                           throttle_duration_sec=1.0)

    def close(self) -> None:
        self.timer.cancel()
        if self.sim is not None:
            self.sim.close()
            self.sim = None


def _odometry(t: float, frame: str, child: str, x: float, y: float, yaw: float, v: float,
              w: float) -> Odometry:
    msg = Odometry()
    msg.header = Header(stamp=stamp_msg(t), frame_id=frame)
    msg.child_frame_id = child
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
    msg.pose.pose.orientation.z = math.sin(yaw / 2.0)
    msg.pose.pose.orientation.w = math.cos(yaw / 2.0)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(v), float(w)
    return msg
