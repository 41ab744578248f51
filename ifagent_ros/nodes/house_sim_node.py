"""house_sim_node: the PyBullet house and its mobile base as ROS topics.

Subscribes ``/cmd_vel`` (geometry_msgs/Twist: linear.x m/s, angular.z rad/s, as a real base
driver does; the base brakes when commands stop for ``cmd_vel.timeout_s``). Publishes ``/clock``,
``/odom`` (nav_msgs/Odometry, frame ``odom`` -> ``base_link``, wheel odometry that starts at the
true start pose, so ``odom`` == ``map`` up to wheel slip), the RGB-D camera topics of the mast
camera, ``/sim/base_pose`` (the true pose, frame ``map``, for evaluation only) and, with
``objects.publish``, a ground-truth ``/ifagent/objects`` list (schemas.ObjectList, base_link,
source ``ground_truth``) of the landmarks in sight: furniture, doors, and the rooms seen through
open doors (labelled with the room type), which stands in for a detector in the house
(:func:`~ifagent_ros.nodes.sim_house_world.house_object_list`). Stepping is the pacing loop both
sim nodes share (``nodes/sim_base.py``): ``time_scale`` x the wall clock (``realtime: true``) or
as fast as possible; ``camera.depth_noise_std`` adds Gaussian depth noise (seeded by ``seed``
when >= 0). ``sim_node`` is the tabletop; it refuses ``world: house``, naming this node.
"""

from __future__ import annotations

import math
from dataclasses import replace

from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.parameter import Parameter
from std_msgs.msg import Header, String

from ifagent_ros.core.schemas import ObjectList
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config
from ifagent_ros.nodes.sim_base import RateSchedule, SimNodeBase, stamp
from ifagent_ros.nodes.sim_house_world import house_object_list
from ifagent_ros.nodes.sim_params import HouseSimParams
from ifagent_ros.sim.camera import CameraFrame
from ifagent_ros.sim.house_sim import HOUSE_CAMERA, HouseSim, HouseSimConfig


class HouseSimNode(SimNodeBase[HouseSim]):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "house_sim_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.params = par = declare_config(self, HouseSimParams)
        cam = par.camera
        camera = replace(HOUSE_CAMERA, width=cam.width, height=cam.height, fov_deg=cam.fov_deg,
                         far=cam.far, depth_noise_std=cam.depth_noise_std,
                         noise_seed=None if par.seed < 0 else par.seed)
        self._sim = sim = HouseSim(HouseSimConfig(
            house=par.house, start=par.start if len(par.start) == 3 else None,
            timestep=1.0 / par.physics_rate_hz, cmd_timeout=par.cmd_vel.timeout_s,
            max_linear_speed=par.max_linear_speed, max_angular_speed=par.max_angular_speed,
            camera=camera))
        self._schedule = RateSchedule({"odom": 1.0 / par.odom_rate_hz, "cam": 1.0 / cam.rate_hz,
                                       "obj": 1.0 / par.objects.rate_hz})
        self.rejected = 0
        self._pub_odom = self.create_publisher(Odometry, par.odom_topic, 10)
        self._pub_truth = self.create_publisher(Odometry, par.base_pose_topic, 10)
        self._pub_objects = self.create_publisher(String, par.objects.topic, 2)
        self.create_camera_publishers(cam)
        self.create_subscription(Twist, par.cmd_vel.topic, self._on_cmd_vel, 10)
        loop = self.start_loop(par)
        house = sim.house
        self.get_logger().info(
            f"house '{house.name}' ({len(house.rooms)} rooms, {len(house.graph)} places), "
            f"base at {tuple(round(v, 2) for v in sim.base_pose())}, "
            f"realtime={par.realtime} (x{loop.time_scale:g}), "
            f"camera {'on' if cam.enabled else 'off'}")

    # ---- stepping -------------------------------------------------------------------------
    def publish_due(self, sim: HouseSim, t: float) -> None:
        if self._schedule.due("odom", t):
            self._publish_odom(sim, t)
        if self.params.objects.publish and self._schedule.due("obj", t):
            self._publish_objects(sim, t)
        if self.params.camera.enabled and self._schedule.due("cam", t):
            self.publish_camera()

    # ---- publishing -----------------------------------------------------------------------
    def _publish_odom(self, sim: HouseSim, t: float) -> None:
        o = sim.odom()
        self._pub_odom.publish(_odometry(t, self.params.odom_frame_id, self.params.base_frame_id,
                                         o.x, o.y, o.yaw, o.v, o.w))
        x, y, yaw = sim.base_pose()
        v, w = sim.base_velocity()
        self._pub_truth.publish(_odometry(t, "map", self.params.base_frame_id, x, y, yaw, v, w))

    def _publish_objects(self, sim: HouseSim, t: float) -> None:
        x, y, yaw = sim.base_pose()
        objs = house_object_list(sim.house, x, y, yaw, self.params.objects.range_m)
        msg = ObjectList(stamp=t, source="ground_truth", objects=objs)
        self._pub_objects.publish(String(data=msg.model_dump_json()))

    def publish_camera(self) -> CameraFrame | None:
        """Render now and publish colour, depth and both camera_info messages."""
        if self._sim is None:
            return None
        frame = self._sim.render_camera()
        self.publish_frame(frame)
        return frame

    # ---- commands -------------------------------------------------------------------------
    def _on_cmd_vel(self, msg: Twist) -> None:
        if self._sim is None:
            return
        try:
            self._sim.set_cmd_vel(msg.linear.x, msg.angular.z)
        except ValueError as err:  # NaN/inf: the sim already braked
            self.rejected += 1
            self.get_logger().warning(f"rejected /cmd_vel: {err}", throttle_duration_sec=1.0)


def _odometry(t: float, frame: str, child: str, x: float, y: float, yaw: float, v: float,
              w: float) -> Odometry:
    msg = Odometry()
    msg.header = Header(stamp=stamp(t), frame_id=frame)
    msg.child_frame_id = child
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(x), float(y)
    msg.pose.pose.orientation.z = math.sin(yaw / 2.0)
    msg.pose.pose.orientation.w = math.cos(yaw / 2.0)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(v), float(w)
    return msg


NODE_CLASS = HouseSimNode


def main(args: list[str] | None = None) -> None:
    run_node(HouseSimNode, args)


if __name__ == "__main__":
    main()
