"""The control benchmark's driver as a node of the graph under test (the one-process mode).

It plays the gamepad (``/joy`` at ``rate_hz`` from a timer, deadman held, the stick sweeping so the
arm stays in its workspace) and an ideal arm (each streamed trajectory point is echoed back as
``/joint_states``), and timestamps every arm command on arrival. Built like every other node, it
runs in the same process and executor as teleop and the executor, so messages still cross DDS
(intra-process) but no process boundary.
"""

from __future__ import annotations

import math
import time

from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.core.control.robot_model import PANDA_ARM_JOINTS

HOME = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]


class BenchDriverNode(Node):
    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "bench_driver",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.rate_hz = float(self.declare_parameter("rate_hz", 500.0).value)
        self.duration_s = float(self.declare_parameter("duration_s", 30.0).value)
        self.warmup_s = float(self.declare_parameter("warmup_s", 1.0).value)
        topic = str(
            self.declare_parameter(
                "trajectory_topic", "/panda_arm_controller/joint_trajectory"
            ).value
        )
        self.joy_pub = self.create_publisher(Joy, "/joy", 100)
        self.js_pub = self.create_publisher(JointState, "/joint_states", 10)
        self.create_subscription(JointTrajectory, topic, self._on_command, 1000)
        self.create_timer(0.004, self._publish_joint_state)
        self._timer = self.create_timer(1.0 / self.rate_hz, self._tick)
        self.q = list(HOME)
        self.t_start: float | None = None
        self.recording = False
        self.record_from_ns = 0
        self.done = False
        self.joy_sent = 0
        self.commands_received = 0
        self.latencies_s: list[float] = []
        self.arrivals_s: list[float] = []
        self.tick_lateness_s: list[float] = []
        self._seen_stamp = 0
        self._expected: float | None = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.t_start is None:
            self.t_start = now
        elapsed = now - self.t_start
        if self.done:
            return
        recording = elapsed >= self.warmup_s
        if recording and not self.recording:
            self.recording = True
            self.record_from_ns = self.get_clock().now().nanoseconds
        if elapsed >= self.warmup_s + self.duration_s:
            self.recording = False
            self.done = True
            return
        if self.recording and self._expected is not None:
            # Jitter of the Joy stream: how far each interval is from the nominal period.
            self.tick_lateness_s.append(abs(now - self._expected - 1.0 / self.rate_hz))
        self._expected = now
        msg = Joy()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.axes = [0.0, 0.6 * math.sin(math.pi * elapsed), 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        msg.buttons = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
        self.joy_pub.publish(msg)
        if self.recording:
            self.joy_sent += 1

    def _on_command(self, msg: JointTrajectory) -> None:
        now_ns = time.time_ns()
        self.q = list(msg.points[-1].positions)
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        # Only Joy messages sent while recording count (not a command carrying a warm-up stamp).
        if not self.recording or stamp < self.record_from_ns:
            self._seen_stamp = max(self._seen_stamp, stamp)
            return
        self.commands_received += 1
        self.arrivals_s.append(now_ns * 1e-9)
        if stamp > self._seen_stamp:
            self._seen_stamp = stamp
            self.latencies_s.append((now_ns - stamp) * 1e-9)

    def _publish_joint_state(self) -> None:
        msg = JointState(name=list(PANDA_ARM_JOINTS), position=list(self.q))
        msg.header.stamp = self.get_clock().now().to_msg()
        self.js_pub.publish(msg)

    def close(self) -> None:
        self.done = True


NODE_CLASS = BenchDriverNode
