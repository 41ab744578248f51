"""The control benchmark's driver: a gamepad, an ideal arm and a stopwatch, as one node.

It plays the gamepad (``/joy`` at ``rate_hz`` from a timer, deadman held, the stick sweeping so the
arm stays in its workspace) and an ideal arm (each streamed trajectory point is echoed back as
``/joint_states``), and timestamps every arm command on arrival. Recording starts ``warmup_s``
after the first arm command caused by one of its Joy messages (not the executor's first hold
point: see bench/control.py) and lasts ``duration_s``; :class:`LatencyRecorder` decides what
counts. In the one-process benchmark it is a node of
the graph under test; ``python -m ifagent_ros.bench.driver_node DOMAIN RATE DURATION OUT.json``
runs it in a process of its own.
"""

from __future__ import annotations

import json
import math
import sys
import time

from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState, Joy
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.bench.control import LatencyRecorder
from ifagent_ros.core.control.gamepad import XBOX
from ifagent_ros.core.control.robot_model import PANDA_ARM_JOINTS, PANDA_HOME_Q

DEFAULT_TRAJECTORY_TOPIC = "/panda_arm_controller/joint_trajectory"


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
        topic = str(self.declare_parameter("trajectory_topic", DEFAULT_TRAJECTORY_TOPIC).value)
        self.joy_pub = self.create_publisher(Joy, "/joy", 100)
        self.js_pub = self.create_publisher(JointState, "/joint_states", 10)
        self.create_subscription(JointTrajectory, topic, self._on_command, 1000)
        self.create_timer(0.004, self._publish_joint_state)
        self.create_timer(1.0 / self.rate_hz, self._tick)
        self.q = list(PANDA_HOME_Q)
        self.t0 = time.perf_counter()
        self.recorder = LatencyRecorder(self.rate_hz, self.duration_s, self.warmup_s)

    @property
    def done(self) -> bool:
        return self.recorder.done

    def _tick(self) -> None:
        now = time.perf_counter()
        stamp = self.get_clock().now()
        if not self.recorder.tick(now, stamp.nanoseconds):
            return
        axes, buttons = XBOX.neutral()
        axes[XBOX.axis_left_y] = 0.6 * math.sin(math.pi * (now - self.t0))  # forward and back
        buttons[XBOX.deadman] = 1
        msg = Joy(axes=axes, buttons=buttons)
        msg.header.stamp = stamp.to_msg()
        self.joy_pub.publish(msg)

    def _on_command(self, msg: JointTrajectory) -> None:
        arrival_ns = time.time_ns()
        self.q = list(msg.points[-1].positions)
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        self.recorder.on_command(stamp, arrival_ns, time.perf_counter())

    def _publish_joint_state(self) -> None:
        msg = JointState(name=list(PANDA_ARM_JOINTS), position=list(self.q))
        msg.header.stamp = self.get_clock().now().to_msg()
        self.js_pub.publish(msg)

    def close(self) -> None:
        self.recorder.done = True


NODE_CLASS = BenchDriverNode


def realtime_tuning() -> None:
    """What a Python control process does for latency: short GIL hand-offs, no GC of startup data.

    CPython hands the GIL between threads every 5 ms by default, so a callback thread can wait
    up to 5 ms behind another thread; 0.2 ms bounds that wait. gc.freeze() moves everything
    allocated at startup out of the collector's generations, which shortens the collections that
    still run.
    """
    import gc

    sys.setswitchinterval(0.0002)
    gc.collect()
    gc.freeze()


def run_in_own_process(domain_id: int, rate_hz: float, duration_s: float, out_path: str) -> int:
    """Spin the driver alone (the --processes benchmark) and write its figures as JSON."""
    import rclpy
    from rclpy.experimental import EventsExecutor

    ctx = Context()
    rclpy.init(context=ctx, domain_id=domain_id)
    node = BenchDriverNode(
        context=ctx,
        parameter_overrides=[
            Parameter("rate_hz", value=rate_hz),
            Parameter("duration_s", value=duration_s),
        ],
    )
    executor = EventsExecutor(context=ctx)
    executor.add_node(node)
    realtime_tuning()
    deadline = time.monotonic() + duration_s + 90.0
    try:
        while not node.done and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        ctx.try_shutdown()
    if not node.done:
        print("bench driver: the graph never answered", file=sys.stderr)
        return 1
    with open(out_path, "w") as fh:
        json.dump(node.recorder.figures(), fh)
    return 0


if __name__ == "__main__":
    sys.exit(
        run_in_own_process(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    )
