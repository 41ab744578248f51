"""sim_node over real rclpy topics, on a private Context and a test-unique DDS domain."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from builtin_interfaces.msg import Duration
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64, Float64MultiArray, String
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from ifagent_ros.core.schemas import GroundTruth
from ifagent_ros.nodes.sim_base import SimNodeBase
from ifagent_ros.nodes.sim_node import NODE_CLASS, SimNode
from ifagent_ros.sim.tabletop import HOME_Q

ARM = [f"panda_joint{i}" for i in range(1, 8)]
TRAJ = "/panda_arm_controller/joint_trajectory"


class Harness:
    """A sim_node and a probe node on one executor; records the latest message per topic."""

    def __init__(self, ctx: Context, **params: Any) -> None:
        overrides = [Parameter(k, value=v) for k, v in {
            "camera.width": 64, "camera.height": 48, "camera.rate_hz": 10.0, **params}.items()]
        self.sim = SimNode(context=ctx, parameter_overrides=overrides)
        self.probe = Node("sim_probe", context=ctx)
        self.executor = SingleThreadedExecutor(context=ctx)
        self.executor.add_node(self.sim)
        self.executor.add_node(self.probe)
        self.msgs: dict[str, list[Any]] = {}
        for topic, kind in [("/clock", Clock), ("/joint_states", JointState),
                            ("/camera/color/image_raw", Image), ("/camera/depth/image_raw", Image),
                            ("/camera/color/camera_info", CameraInfo),
                            ("/camera/depth/camera_info", CameraInfo),
                            ("/sim/ground_truth", String)]:
            self.msgs[topic] = []
            self.probe.create_subscription(kind, topic, self.msgs[topic].append, 10)
        self.pub_traj = self.probe.create_publisher(JointTrajectory, TRAJ, 10)
        self.pub_vel = self.probe.create_publisher(
            Float64MultiArray, "/forward_velocity_controller/commands", 10)
        self.pub_grip = self.probe.create_publisher(Float64, "/gripper/command", 10)

    def spin_until(self, cond: Callable[[], bool], timeout: float,
                   each: Callable[[], None] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if each is not None:
                each()
            self.executor.spin_once(timeout_sec=0.005)
            if cond():
                return True
        return False

    def spin_for(self, seconds: float, each: Callable[[], None] | None = None) -> None:
        self.spin_until(lambda: False, seconds, each)

    def arm_q(self) -> np.ndarray:
        return np.array(self.msgs["/joint_states"][-1].position[:7])

    def close(self) -> None:
        self.executor.shutdown()
        self.sim.close()
        self.sim.close()  # idempotent
        self.sim.destroy_node()
        self.probe.destroy_node()


@pytest.fixture
def harness(ros_context: Context, request: pytest.FixtureRequest) -> Iterator[Harness]:
    # ros_context (test/nodes/conftest.py): a private rclpy Context on a random DDS domain,
    # shut down after the test.
    h = Harness(ros_context, **getattr(request, "param", {}))
    yield h
    h.close()


def _traj(names: list[str], q: list[float], qd: list[float] | None = None) -> JointTrajectory:
    point = JointTrajectoryPoint(positions=q, velocities=qd or [],
                                 time_from_start=Duration(nanosec=10_000_000))
    return JointTrajectory(joint_names=names, points=[point])


def test_node_shape() -> None:
    # a class, not a factory that picks a node by ``world`` (house_sim_node is the house)
    assert NODE_CLASS is SimNode and issubclass(SimNode, SimNodeBase)


@pytest.mark.parametrize("harness", [{"realtime": True}, {"realtime": False}], indirect=True,
                         ids=["realtime_render_process", "fast_render_in_process"])
def test_publishes_clock_joint_states_camera_and_ground_truth(harness: Harness) -> None:
    m = harness.msgs
    assert (harness.sim._renderer is not None) == harness.sim.params.realtime
    ok = harness.spin_until(lambda: all(len(v) >= 2 for v in m.values()), timeout=15.0)
    assert ok, {k: len(v) for k, v in m.items()}

    clocks = [c.clock.sec + c.clock.nanosec * 1e-9 for c in m["/clock"]]
    assert all(b > a for a, b in itertools.pairwise(clocks))
    assert clocks[-1] < 20.0  # sim time starts at zero, not wall-clock epoch

    js = m["/joint_states"][-1]
    assert list(js.name) == [*ARM, "panda_finger_joint1", "panda_finger_joint2"]
    assert len(js.position) == len(js.velocity) == len(js.effort) == 9
    np.testing.assert_allclose(js.position[:7], HOME_Q, atol=2e-2)
    assert js.header.stamp.sec + js.header.stamp.nanosec * 1e-9 <= clocks[-1] + 1.0

    rgb, depth = m["/camera/color/image_raw"][-1], m["/camera/depth/image_raw"][-1]
    assert (rgb.encoding, rgb.width, rgb.height, rgb.step) == ("rgb8", 64, 48, 64 * 3)
    assert len(rgb.data) == 64 * 48 * 3
    assert (depth.encoding, depth.width, depth.height, depth.step) == ("32FC1", 64, 48, 64 * 4)
    d = np.frombuffer(bytes(depth.data), dtype="<f4").reshape(48, 64)
    assert 0.3 < np.nanmedian(d) < 3.0  # metres, not a z-buffer value
    for img in (rgb, depth):
        assert img.header.frame_id == "camera_color_optical_frame"
    for topic in ("/camera/color/camera_info", "/camera/depth/camera_info"):
        info = m[topic][-1]
        k = np.array(info.k).reshape(3, 3)
        assert (info.width, info.height, info.distortion_model) == (64, 48, "plumb_bob")
        assert k[0, 0] > 0 and k[2, 2] == 1.0 and k[0, 2] == pytest.approx(31.5)
        assert list(info.d) == [0.0] * 5
        assert list(info.p) == pytest.approx([k[0, 0], 0, k[0, 2], 0, 0, k[1, 1], k[1, 2], 0,
                                              0, 0, 1, 0])
        assert info.header.frame_id == "camera_color_optical_frame"

    gt = GroundTruth.model_validate_json(m["/sim/ground_truth"][-1].data)
    assert {o.id for o in gt.objects} >= {"red_block", "yellow_bowl"}
    assert gt.ee_position is not None and 0.2 < gt.ee_position[0] < 0.6
    assert all(o.position[2] > 0.0 for o in gt.objects)


@pytest.mark.parametrize("harness", [{"realtime": False, "camera.enabled": False}],
                         indirect=True)
def test_streamed_trajectory_moves_joint_in_any_name_order(harness: Harness) -> None:
    assert harness.spin_until(lambda: len(harness.msgs["/joint_states"]) > 0, 5.0)
    goal = np.array(HOME_Q) + np.array([0.4, 0.0, 0.0, 0.0, 0.0, 0.0, -0.3])
    order = [6, 2, 0, 4, 1, 5, 3]  # shuffled joint order in the message
    msg = _traj([ARM[i] for i in order], [float(goal[i]) for i in order])
    reached = harness.spin_until(lambda: np.abs(harness.arm_q() - goal).max() < 1e-2, 10.0,
                                 each=lambda: harness.pub_traj.publish(msg))
    assert reached, harness.arm_q() - goal


@pytest.mark.parametrize("harness", [{"realtime": False, "camera.enabled": False}],
                         indirect=True)
def test_bad_commands_do_not_move_arm_or_crash(harness: Harness) -> None:
    h = harness
    assert h.spin_until(lambda: len(h.msgs["/joint_states"]) > 0, 5.0)
    h.spin_for(0.3)
    before = h.arm_q()
    far = list(np.array(HOME_Q) + 0.5)
    bad_msgs = [
        _traj([*ARM[:6], "panda_joint9"], far),  # unknown joint name
        _traj(ARM, [math.nan, *far[1:]]),  # NaN
        _traj(ARM, far[:6]),  # wrong length
        _traj(ARM, [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0]),  # joint4 above its limit
        _traj(ARM, far, qd=[0.1] * 3),  # velocities of the wrong length
        JointTrajectory(joint_names=ARM, points=[]),
    ]
    for bad in bad_msgs:
        h.spin_for(0.15, each=lambda b=bad: h.pub_traj.publish(b))
    h.spin_for(0.15, each=lambda: h.pub_vel.publish(Float64MultiArray(data=[0.5] * 6)))
    h.spin_for(0.15, each=lambda: h.pub_vel.publish(Float64MultiArray(data=[math.inf] * 7)))
    assert np.abs(h.arm_q() - before).max() < 2e-3

    # Still alive: a valid velocity command moves joint 1, and stopping it stops the arm.
    vel = Float64MultiArray(data=[0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert h.spin_until(lambda: h.arm_q()[0] - before[0] > 0.05, 5.0,
                        each=lambda: h.pub_vel.publish(vel))
    h.spin_for(0.5)  # no more commands: the 0.1 s command timeout holds the arm
    q_stopped = h.arm_q()
    h.spin_for(0.5)
    assert np.abs(h.arm_q() - q_stopped).max() < 2e-3
    assert abs(h.msgs["/joint_states"][-1].velocity[0]) < 0.02


@pytest.mark.parametrize("harness", [{"realtime": False, "camera.enabled": False}],
                         indirect=True)
def test_gripper_command_and_nan(harness: Harness) -> None:
    h = harness

    def width() -> float:
        return sum(h.msgs["/joint_states"][-1].position[7:9]) if h.msgs["/joint_states"] else -1

    assert h.spin_until(lambda: abs(width() - 0.02) < 2e-3, 10.0,
                        each=lambda: h.pub_grip.publish(Float64(data=0.02)))
    h.spin_for(0.3, each=lambda: h.pub_grip.publish(Float64(data=math.nan)))
    assert abs(width() - 0.02) < 2e-3


def test_camera_survives_render_worker_crash(harness: Harness) -> None:
    h = harness
    images = h.msgs["/camera/color/image_raw"]
    assert h.spin_until(lambda: len(images) >= 1, 15.0)
    worker = h.sim._renderer
    assert worker is not None
    worker._proc.kill()
    n = len(images)
    assert h.spin_until(lambda: h.sim._renderer is None and len(images) >= n + 2, 10.0)
    assert not worker.alive
