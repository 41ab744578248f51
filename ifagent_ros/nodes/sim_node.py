"""sim_node: the PyBullet tabletop as ROS topics (thin; the world lives in ``sim/tabletop.py``).

``world: house`` runs the PyBullet house with a mobile base instead (``/cmd_vel`` in, ``/odom``
and the mast camera out; see :mod:`ifagent_ros.nodes.sim_house_world`); everything below is
the default ``world: tabletop``.

Publishes ``/clock`` (every physics step), ``/joint_states``, RGB-D camera topics and
``/sim/ground_truth``; accepts the same arm topics as franka_ros2 (a single-point
JointTrajectory or Float64MultiArray joint velocities) and ``/gripper/command``. All stamps are
sim time. Physics steps from a steady wall-clock timer, so the executor is never starved: paced to
``time_scale`` x the wall clock (``realtime: true``) or in short batches as fast as possible
(``realtime: false``). ``domain.*`` and ``camera.depth_noise_std`` perturb the world per episode
(seeded by ``seed``; see ``sim/tabletop_domain.py``); the ground truth keeps the true values.
Depth is 32FC1 z-depth in metres, NaN where the ray hits nothing. In real time the camera renders
in a child process (``camera.render_process``) so a frame never stalls physics; the optical
frame's pose is ``CameraConfig(eye=..., target=..., up=...).optical_pose()`` (no tf here).
Bad commands are logged (throttled) and the arm holds its current position.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from builtin_interfaces.msg import Time
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64, Float64MultiArray, Header, String
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.core.schemas import GroundTruth, ObjectPose
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.sim_house_world import HouseWorld
from ifagent_ros.sim.camera import CameraConfig, CameraFrame
from ifagent_ros.sim.render_worker import RenderWorker
from ifagent_ros.sim.tabletop import ARM_JOINT_NAMES, HOME_Q, TabletopConfig, TabletopSim
from ifagent_ros.sim.tabletop_domain import (
    DomainConfig,
    Pacer,
    check_nonnegative,
    check_positive,
    lit_camera,
)

_NONREALTIME_BATCH_S = 0.005  # wall time per timer callback before yielding to the executor
_MAX_CATCHUP_S = 0.1  # after a stall (e.g. a render) catch up at most this much wall time
_MIN_TICK_S = 0.0005  # shortest real-time tick (time_scale 10 at 240 Hz: about 2 steps a tick)


def _stamp(t: float) -> Time:
    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=min(round((t - sec) * 1e9), 999_999_999))


def scene_search_dirs() -> list[Path]:
    """The installed package's share/ifagent_ros/sim/scenes first, if ament knows the package."""
    try:
        from ament_index_python.packages import get_package_share_directory

        return [Path(get_package_share_directory("ifagent_ros")) / "sim" / "scenes"]
    except Exception:  # not installed (running from the repo) or ament_index missing
        return []


class SimNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "sim_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._sim: TabletopSim | None = None
        self.house: HouseWorld | None = None
        world = self.declare_parameter("world", "tabletop").value
        if world == "house":
            self.house = HouseWorld(self)
            return
        if world != "tabletop":
            raise ValueError(f"parameter world must be 'tabletop' or 'house', got {world!r}")
        par = self._declare_all()
        self._arm_names: list[str] = list(par["arm.joint_names"])
        if len(self._arm_names) != len(ARM_JOINT_NAMES) or len(set(self._arm_names)) != 7:
            raise ValueError(f"arm.joint_names needs 7 distinct names, got {self._arm_names}")
        self._frame_id: str = par["camera.frame_id"]
        seed = par["seed"]
        self._camera = lit_camera(CameraConfig(
            width=par["camera.width"], height=par["camera.height"], fov_deg=par["camera.fov_deg"],
            near=par["camera.near"], far=par["camera.far"], eye=tuple(par["camera.eye"]),
            target=tuple(par["camera.target"]), up=tuple(par["camera.up"]),
            depth_noise_std=par["camera.depth_noise_std"], noise_seed=None if seed < 0 else seed),
            par["domain.light_scale"], par["domain.light_direction"])
        domain = DomainConfig(
            object_xy_jitter=par["domain.object_xy_jitter"],
            colour_jitter=par["domain.colour_jitter"],
            friction_scale=par["domain.friction_scale"], mass_scale=par["domain.mass_scale"])
        self._sim = TabletopSim(TabletopConfig(
            scene=par["scene"], seed=None if seed < 0 else seed,
            timestep=1.0 / par["physics_rate_hz"], home_q=tuple(par["home_q"]),
            camera=self._camera, scene_dirs=tuple(scene_search_dirs()), domain=domain))
        self._realtime: bool = par["realtime"]
        self._pacer = Pacer(self._sim.timestep, par["time_scale"], _MAX_CATCHUP_S)
        self._cmd_timeout: float = par["arm.command_timeout_s"]
        self._mode = "hold"  # "position", "velocity" or "hold"
        self._vel_cmd_time = 0.0
        self._pos_cmd: tuple[np.ndarray, np.ndarray, float] | None = None  # (q, qd, sim time)
        self._periods = {"js": 1.0 / par["joint_state_rate_hz"],
                         "gt": 1.0 / par["ground_truth_rate_hz"],
                         "cam": 1.0 / par["camera.rate_hz"]}
        self._next = {k: 0.0 for k in self._periods}
        self._camera_enabled: bool = par["camera.enabled"]
        # Real time: render in a child process so a frame never stalls physics. As fast as
        # possible: render in-process, so every frame is drawn exactly when it is due.
        self._renderer: RenderWorker | None = None
        self._frame_wanted = False
        if self._camera_enabled and self._realtime and par["camera.render_process"]:
            self._renderer = RenderWorker(self._sim)

        self._pub_clock = self.create_publisher(ClockMsg, "/clock", 10)
        self._pub_js = self.create_publisher(JointState, par["joint_states_topic"], 10)
        self._pub_gt = self.create_publisher(String, par["ground_truth_topic"], 10)
        self._pub_rgb = self.create_publisher(Image, par["camera.color_topic"], 2)
        self._pub_depth = self.create_publisher(Image, par["camera.depth_topic"], 2)
        self._pub_rgb_info = self.create_publisher(CameraInfo, par["camera.color_info_topic"], 2)
        self._pub_depth_info = self.create_publisher(CameraInfo, par["camera.depth_info_topic"], 2)
        self.create_subscription(JointTrajectory, par["arm.trajectory_topic"],
                                 self._on_trajectory, 10)
        self.create_subscription(Float64MultiArray, par["arm.velocity_topic"],
                                 self._on_velocity, 10)
        self.create_subscription(Float64, par["gripper.topic"], self._on_gripper, 10)

        # A steady clock: the timer must tick even if someone sets use_sim_time on this node.
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        # Real time: about one physics step per tick, also when time_scale > 1, so every step
        # sees the newest arm command (a batch of steps under one stale target makes the
        # position controller lag, then race to catch up).
        period = (max(1.0 / (par["physics_rate_hz"] * self._pacer.time_scale), _MIN_TICK_S)
                  if self._realtime else 0.001)
        self._wall0 = time.monotonic()
        self._sim0 = self._sim.time
        self._timer = self.create_timer(period, self._on_tick, clock=steady)
        self.get_logger().info(
            f"scene '{self._sim.scene.name}' ({len(self._sim.object_ids)} objects, seed {seed}), "
            f"physics {par['physics_rate_hz']:.0f} Hz, realtime={self._realtime} "
            f"(x{self._pacer.time_scale:g}), "
            f"camera {'on' if self._camera_enabled else 'off'}")

    # ---- parameters -----------------------------------------------------------------------
    def _declare_all(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {
            "scene": "tabletop_default.yaml", "seed": -1, "realtime": True, "time_scale": 1.0,
            "physics_rate_hz": 240.0, "joint_state_rate_hz": 250.0,
            "ground_truth_rate_hz": 10.0,
            "joint_states_topic": "/joint_states", "ground_truth_topic": "/sim/ground_truth",
            "camera.enabled": True, "camera.rate_hz": 5.0, "camera.width": 640,
            "camera.height": 480, "camera.fov_deg": 45.0, "camera.near": 0.05,
            "camera.far": 5.0, "camera.eye": [1.2, 0.0, 0.75], "camera.target": [0.45, 0.0, 0.0],
            "camera.up": [0.0, 0.0, 1.0], "camera.frame_id": "camera_color_optical_frame",
            "camera.render_process": True, "camera.depth_noise_std": 0.0,
            "camera.color_topic": "/camera/color/image_raw",
            "camera.depth_topic": "/camera/depth/image_raw",
            "camera.color_info_topic": "/camera/color/camera_info",
            "camera.depth_info_topic": "/camera/depth/camera_info",
            "arm.joint_names": list(ARM_JOINT_NAMES),
            "arm.trajectory_topic": "/panda_arm_controller/joint_trajectory",
            "arm.velocity_topic": "/forward_velocity_controller/commands",
            "arm.command_timeout_s": 0.1, "gripper.topic": "/gripper/command",
            "home_q": list(HOME_Q),
            "domain.object_xy_jitter": 0.0, "domain.colour_jitter": 0.0,
            "domain.light_scale": 1.0,
            "domain.light_direction": [float(v) for v in CameraConfig().light_direction],
            "domain.friction_scale": 1.0, "domain.mass_scale": 1.0,
        }
        out: dict[str, Any] = {}
        for name, default in defaults.items():
            is_float = isinstance(default, float) or (
                isinstance(default, list) and isinstance(default[0], float))
            # Floats accept ints from YAML (``rate_hz: 5``, ``eye: [1, 0, 1]``) and are coerced.
            desc = ParameterDescriptor(dynamic_typing=is_float)
            value = self.declare_parameter(name, default, desc).value
            if is_float:
                value = ([float(v) for v in value] if isinstance(default, list)
                         else float(value))
            out[name] = value
        for key in ("physics_rate_hz", "joint_state_rate_hz", "ground_truth_rate_hz",
                    "camera.rate_hz", "arm.command_timeout_s"):
            if not out[key] > 0.0:
                raise ValueError(f"parameter {key} must be > 0, got {out[key]}")
        check_positive("time_scale", out["time_scale"])
        check_nonnegative("camera.depth_noise_std", out["camera.depth_noise_std"])
        for key in ("camera.eye", "camera.target", "camera.up", "domain.light_direction"):
            if len(out[key]) != 3:
                raise ValueError(f"parameter {key} needs 3 values, got {out[key]}")
        return out

    @property
    def sim(self) -> TabletopSim:
        if self._sim is None:
            raise RuntimeError("sim_node is closed (or runs world: house: use .house.sim)")
        return self._sim

    # ---- stepping -------------------------------------------------------------------------
    def _on_tick(self) -> None:
        if self._sim is None:
            return
        try:
            if self._realtime:
                n, resync = self._pacer.steps_due(time.monotonic() - self._wall0,
                                                  self.sim.time - self._sim0)
                if resync:  # stalled too long: drop the backlog instead of fast-forwarding
                    self._wall0, self._sim0 = time.monotonic(), self.sim.time
                for _ in range(n):
                    self._step_once()
            else:
                start = time.monotonic()
                while time.monotonic() - start < _NONREALTIME_BATCH_S:
                    self._step_once()
            self._service_renderer()
        except Exception as err:  # never let a tick kill the node
            self.get_logger().error(f"sim tick failed: {err!r}", throttle_duration_sec=1.0)

    def _step_once(self) -> None:
        sim = self.sim
        if self._mode == "velocity" and sim.time - self._vel_cmd_time > self._cmd_timeout:
            sim.hold_position()  # stale velocity command: stop, like a real controller
            self._mode = "hold"
        elif self._mode == "position" and self._pos_cmd is not None:
            # A streamed point (q, qd) holds for one control period; when several physics steps
            # run before the next one arrives (a catch-up after a stall, time_scale > 1), move
            # the target on at qd for up to arm.command_timeout_s, then hold there, instead of
            # letting the arm settle on a stale target and race to the next one.
            q, qd, t_cmd = self._pos_cmd
            ahead = min(sim.time - t_cmd, self._cmd_timeout)
            if ahead > 0.0:
                target = np.clip(q + qd * ahead, sim.joint_lower, sim.joint_upper)
                sim.set_joint_position_targets(target, qd if ahead < self._cmd_timeout else None)
                if ahead >= self._cmd_timeout:
                    self._pos_cmd = None
        sim.step()
        t = sim.time
        self._pub_clock.publish(ClockMsg(clock=_stamp(t)))
        if self._due("js", t):
            self._publish_joint_states(t)
        if self._due("gt", t):
            self._publish_ground_truth(t)
        if self._camera_enabled and self._due("cam", t):
            if self._renderer is not None:
                self._frame_wanted = True  # submitted once the worker is free (see tick)
            else:
                self.publish_camera()

    def _due(self, key: str, t: float) -> bool:
        if t + 1e-9 < self._next[key]:
            return False
        # Schedule from the previous slot, but never let a backlog cause a burst.
        self._next[key] = max(self._next[key] + self._periods[key], t + 0.5 * self._periods[key])
        return True

    # ---- publishing -----------------------------------------------------------------------
    def _publish_joint_states(self, t: float) -> None:
        js = self.sim.joint_state()
        names = [*self._arm_names, *js.names[len(self._arm_names):]]
        self._pub_js.publish(JointState(
            header=Header(stamp=_stamp(t)), name=names, position=js.positions.tolist(),
            velocity=js.velocities.tolist(), effort=js.efforts.tolist()))

    def _publish_ground_truth(self, t: float) -> None:
        gt = GroundTruth(stamp=t, objects=[ObjectPose(**o) for o in self.sim.object_poses()],
                         ee_position=tuple(self.sim.ee_position().tolist()))
        self._pub_gt.publish(String(data=gt.model_dump_json()))

    def _service_renderer(self) -> None:
        """Publish a finished frame; start the next one if it is due (a slow renderer lowers the
        frame rate instead of queueing stale frames)."""
        if self._renderer is None:
            return
        try:
            frame = self._renderer.poll()
            if frame is not None:
                self._publish_frame(frame)
            if self._frame_wanted and not self._renderer.busy:
                self._renderer.submit(self.sim.snapshot(), self._camera)
                self._frame_wanted = False
        except (RuntimeError, OSError) as err:
            self.get_logger().error(f"{err}; rendering in-process from now on")
            self._renderer.close()
            self._renderer = None

    def publish_camera(self) -> CameraFrame:
        """Render in-process now and publish colour, depth and both camera_info messages."""
        frame = self.sim.render_camera(self._camera)
        self._publish_frame(frame)
        return frame

    def _publish_frame(self, frame: CameraFrame) -> None:
        header = Header(stamp=_stamp(frame.stamp), frame_id=self._frame_id)
        h, w = frame.depth.shape
        rgb = Image(header=header, height=h, width=w, encoding="rgb8", is_bigendian=0,
                    step=w * 3, data=np.ascontiguousarray(frame.rgb).tobytes())
        depth = Image(header=header, height=h, width=w, encoding="32FC1",
                      is_bigendian=int(sys.byteorder == "big"), step=w * 4,
                      data=np.ascontiguousarray(frame.depth, dtype=np.float32).tobytes())
        info = self._camera_info(header, frame)
        self._pub_rgb.publish(rgb)
        self._pub_depth.publish(depth)
        self._pub_rgb_info.publish(info)
        self._pub_depth_info.publish(info)

    def _camera_info(self, header: Header, frame: CameraFrame) -> CameraInfo:
        k = frame.K
        h, w = frame.depth.shape
        return CameraInfo(
            header=header, height=h, width=w, distortion_model="plumb_bob", d=[0.0] * 5,
            k=k.flatten().tolist(), r=np.eye(3).flatten().tolist(),
            p=[k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0, 0.0, 0.0, 1.0, 0.0])

    # ---- commands -------------------------------------------------------------------------
    def _reject(self, what: str, err: Exception) -> None:
        self.get_logger().warning(f"rejected {what}: {err}; holding position",
                                  throttle_duration_sec=1.0)
        try:
            self.sim.hold_position()
            self._mode = "hold"
        except Exception as hold_err:  # e.g. closed sim: nothing to hold
            self.get_logger().error(f"hold failed: {hold_err!r}", throttle_duration_sec=1.0)

    def _reorder(self, names: list[str], values: Any, what: str) -> np.ndarray:
        """Values given in message order -> this node's arm.joint_names order."""
        if len(values) != len(names):
            raise ValueError(f"{len(values)} {what} for {len(names)} joint names")
        index = {n: i for i, n in enumerate(names)}
        return np.array([float(values[index[n]]) for n in self._arm_names])

    def _on_trajectory(self, msg: JointTrajectory) -> None:
        if self._sim is None:
            return
        try:
            names = list(msg.joint_names)
            unknown = sorted(set(names) - set(self._arm_names))
            if unknown or len(set(names)) != len(names) or set(names) != set(self._arm_names):
                raise ValueError(f"joint_names {names} must be exactly {self._arm_names}"
                                 + (f" (unknown: {unknown})" if unknown else ""))
            if not msg.points:
                raise ValueError("trajectory has no points")
            point = msg.points[-1]
            q = self._reorder(names, point.positions, "positions")
            qd = (self._reorder(names, point.velocities, "velocities")
                  if len(point.velocities) else None)
            self.sim.set_joint_position_targets(q, qd)
            self._mode = "position"
            # kept for the steps until the next command: the target moves on at qd (see
            # _step_once), as the reference it was sampled from does
            self._pos_cmd = (None if qd is None else
                             (np.asarray(q, float), np.asarray(qd, float), self.sim.time))
        except (ValueError, TypeError) as err:
            self._reject("joint trajectory", err)

    def _on_velocity(self, msg: Float64MultiArray) -> None:
        if self._sim is None:
            return
        try:
            self.sim.set_joint_velocities(list(msg.data))
            self._mode = "velocity"
            self._pos_cmd = None
            self._vel_cmd_time = self.sim.time
        except (ValueError, TypeError) as err:
            self._reject("joint velocity command", err)

    def _on_gripper(self, msg: Float64) -> None:
        if self._sim is None:
            return
        try:
            self.sim.set_gripper_width(msg.data)
        except (ValueError, TypeError) as err:
            self.get_logger().warning(f"rejected gripper command: {err}",
                                      throttle_duration_sec=1.0)

    def close(self) -> None:
        """Stop stepping and disconnect PyBullet; idempotent."""
        if self.house is not None:
            self.house.close()
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.cancel()
        renderer = getattr(self, "_renderer", None)
        if renderer is not None:
            renderer.close()
            self._renderer = None
        if self._sim is not None:
            self._sim.close()
            self._sim = None


NODE_CLASS = SimNode


def main(args: list[str] | None = None) -> None:
    run_node(SimNode, args)


if __name__ == "__main__":
    main()
