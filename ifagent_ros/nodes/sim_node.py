"""sim_node: the PyBullet tabletop as ROS topics (thin; the world lives in ``sim/tabletop.py``).

Publishes ``/clock`` (every physics step), ``/joint_states``, RGB-D camera topics and
``/sim/ground_truth``; accepts the same arm topics as franka_ros2 (a single-point
JointTrajectory or Float64MultiArray joint velocities) and ``/gripper/command``. All stamps are
sim time. Stepping is the pacing loop both sim nodes share (``nodes/sim_base.py``):
``time_scale`` x the wall clock (``realtime: true``) or as fast as possible. ``domain.*`` and
``camera.depth_noise_std`` perturb the world per episode (seeded by ``seed``; see
``sim/tabletop_domain.py``); the ground truth keeps the true values. Depth is 32FC1 z-depth in
metres, NaN where the ray hits nothing. In real time the camera renders in a child process
(``camera.render_process``) so a frame never stalls physics; the optical frame's pose is
``CameraConfig(eye=..., target=..., up=...).optical_pose()`` (no tf here). Bad commands are
logged (throttled) and the arm holds its current position.

``sim_node`` runs the tabletop only: the house with a mobile base is its own node,
``house_sim_node`` (:mod:`.house_sim_node`), and ``world: house`` given to ``sim_node`` is
refused, naming it.
"""

from __future__ import annotations

from pathlib import Path

from rclpy.context import Context
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64, Float64MultiArray, Header, String
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.core.schemas import GroundTruth, ObjectPose
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config
from ifagent_ros.nodes.sim_base import RateSchedule, SimNodeBase, stamp
from ifagent_ros.nodes.sim_params import TabletopSimParams
from ifagent_ros.nodes.sim_tabletop_arm import ArmCommands
from ifagent_ros.sim.camera import CameraConfig, CameraFrame
from ifagent_ros.sim.render_worker import RenderWorker
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim
from ifagent_ros.sim.tabletop_domain import lit_camera


def scene_search_dirs() -> list[Path]:
    """The installed package's share/ifagent_ros/scenes first, if ament knows the package."""
    try:
        from ament_index_python.packages import get_package_share_directory

        return [Path(get_package_share_directory("ifagent_ros")) / "scenes"]
    except Exception:  # noqa: BLE001 - not installed (running from the repo) or ament_index missing
        return []


class SimNode(SimNodeBase[TabletopSim]):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "sim_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._renderer: RenderWorker | None = None
        self.params = par = declare_config(self, TabletopSimParams)
        cam, seed = par.camera, (None if par.seed < 0 else par.seed)
        self._camera = lit_camera(CameraConfig(
            width=cam.width, height=cam.height, fov_deg=cam.fov_deg, near=cam.near, far=cam.far,
            eye=cam.eye, target=cam.target, up=cam.up, depth_noise_std=cam.depth_noise_std,
            noise_seed=seed), par.domain.light_scale, par.domain.light_direction)
        self._sim = TabletopSim(TabletopConfig(
            scene=par.scene, seed=seed, timestep=1.0 / par.physics_rate_hz, home_q=par.home_q,
            camera=self._camera, scene_dirs=tuple(scene_search_dirs()),
            domain=par.domain.world()))
        self._arm_names = list(par.arm.joint_names)
        self.arm = ArmCommands(self._sim, self._arm_names, par.arm.command_timeout_s,
                               self.get_logger())
        self._schedule = RateSchedule({"js": 1.0 / par.joint_state_rate_hz,
                                       "gt": 1.0 / par.ground_truth_rate_hz,
                                       "cam": 1.0 / cam.rate_hz})
        # Real time: render in a child process so a frame never stalls physics. As fast as
        # possible: render in-process, so every frame is drawn exactly when it is due.
        self._frame_wanted = False
        if cam.enabled and par.realtime and cam.render_process:
            self._renderer = RenderWorker(self._sim)
        self._pub_js = self.create_publisher(JointState, par.joint_states_topic, 10)
        self._pub_gt = self.create_publisher(String, par.ground_truth_topic, 10)
        self.create_camera_publishers(cam)
        self.create_subscription(JointTrajectory, par.arm.trajectory_topic,
                                 self.arm.on_trajectory, 10)
        self.create_subscription(Float64MultiArray, par.arm.velocity_topic,
                                 self.arm.on_velocity, 10)
        self.create_subscription(Float64, par.gripper.topic, self.arm.on_gripper, 10)
        loop = self.start_loop(par)
        self.get_logger().info(
            f"scene '{self._sim.scene.name}' ({len(self._sim.object_ids)} objects, seed "
            f"{par.seed}), physics {par.physics_rate_hz:.0f} Hz, realtime={par.realtime} "
            f"(x{loop.time_scale:g}), camera {'on' if cam.enabled else 'off'}")

    # ---- stepping -------------------------------------------------------------------------
    def before_step(self) -> None:
        self.arm.before_step()

    def publish_due(self, sim: TabletopSim, t: float) -> None:
        if self._schedule.due("js", t):
            self._publish_joint_states(t)
        if self._schedule.due("gt", t):
            self._publish_ground_truth(t)
        if self.params.camera.enabled and self._schedule.due("cam", t):
            if self._renderer is not None:
                self._frame_wanted = True  # submitted once the worker is free (after_steps)
            else:
                self.publish_camera()

    def after_steps(self) -> None:
        """Publish a finished frame; start the next one if it is due (a slow renderer lowers the
        frame rate instead of queueing stale frames)."""
        if self._renderer is None:
            return
        try:
            frame = self._renderer.poll()
            if frame is not None:
                self.publish_frame(frame)
            if self._frame_wanted and not self._renderer.busy:
                self._renderer.submit(self.sim.snapshot(), self._camera)
                self._frame_wanted = False
        except (RuntimeError, OSError) as err:
            self.get_logger().error(f"{err}; rendering in-process from now on")
            self._renderer.close()
            self._renderer = None

    # ---- publishing -----------------------------------------------------------------------
    def _publish_joint_states(self, t: float) -> None:
        js = self.sim.joint_state()
        names = [*self._arm_names, *js.names[len(self._arm_names):]]
        self._pub_js.publish(JointState(
            header=Header(stamp=stamp(t)), name=names, position=js.positions.tolist(),
            velocity=js.velocities.tolist(), effort=js.efforts.tolist()))

    def _publish_ground_truth(self, t: float) -> None:
        gt = GroundTruth(stamp=t, objects=[ObjectPose(**o) for o in self.sim.object_poses()],
                         ee_position=tuple(self.sim.ee_position().tolist()))
        self._pub_gt.publish(String(data=gt.model_dump_json()))

    def publish_camera(self) -> CameraFrame:
        """Render in-process now and publish colour, depth and both camera_info messages."""
        frame = self.sim.render_camera(self._camera)
        self.publish_frame(frame)
        return frame

    def release(self) -> None:
        """Stop the render worker; the arm commands no longer reach the world."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._sim is not None:
            self.arm.sim = None


NODE_CLASS = SimNode


def main(args: list[str] | None = None) -> None:
    run_node(SimNode, args)


if __name__ == "__main__":
    main()
