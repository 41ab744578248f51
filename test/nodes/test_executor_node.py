"""executor_node over real DDS with an ideal fake arm.

Bad input is rejected, and the arm holds or brakes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from ros_helpers import spin_for, spin_until
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import JointState, Joy
from std_msgs.msg import Bool, Float64MultiArray, String
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from ifagent_ros.core.control.kinematics import ArmKinematics
from ifagent_ros.nodes.executor_node import ExecutorNode
from ifagent_ros.nodes.topics import ESTOP_QOS

HOME = [0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785]
NAMES = [f"panda_joint{i}" for i in range(1, 8)]
KIN = ArmKinematics()


class FakeArm(Node):
    """Follows every streamed trajectory point exactly and reports it as /joint_states."""

    def __init__(self, context) -> None:
        super().__init__("fake_arm", context=context)
        self.q = np.array(HOME)
        self.commands: list[JointTrajectory] = []
        self.status: dict | None = None
        self.pub = self.create_publisher(JointState, "/joint_states", 10)
        self.create_subscription(
            JointTrajectory, "/panda_arm_controller/joint_trajectory", self._on_cmd, 100
        )
        self.create_subscription(String, "/ifagent/executor/status", self._on_status, 10)
        self.create_timer(0.004, self._publish)
        self.joy = self.create_publisher(Joy, "/joy", 10)
        self.twist = self.create_publisher(TwistStamped, "/ifagent/ee_twist_cmd", 100)
        self.estop = self.create_publisher(Bool, "/ifagent/estop", ESTOP_QOS)
        self.reset = self.create_client(Trigger, "/ifagent/executor/reset_estop")
        self.deadman = True
        self.stick: list[float] | None = None
        self.create_timer(0.01, self._drive)

    def _on_cmd(self, msg: JointTrajectory) -> None:
        self.commands.append(msg)
        self.q = np.array(msg.points[-1].positions)

    def _on_status(self, msg: String) -> None:
        self.status = json.loads(msg.data)

    def _publish(self) -> None:
        msg = JointState(name=NAMES + ["panda_finger_joint1"], position=list(self.q) + [0.04])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub.publish(msg)

    def _drive(self) -> None:
        buttons = [0] * 11
        buttons[5] = int(self.deadman)
        self.joy.publish(Joy(axes=[0.0] * 8, buttons=buttons))
        if self.stick is not None:
            self.send_twist(self.stick)

    def send_twist(self, lin, frame="base_link", stamp_offset=0.0) -> None:
        msg = TwistStamped()
        msg.header.frame_id = frame
        t = self.get_clock().now().nanoseconds * 1e-9 + stamp_offset
        msg.header.stamp.sec = int(t)
        msg.header.stamp.nanosec = int((t - int(t)) * 1e9)
        msg.twist.linear.x, msg.twist.linear.y, msg.twist.linear.z = (float(v) for v in lin)
        self.twist.publish(msg)


@pytest.fixture
def graph(ros_context):
    ex = SingleThreadedExecutor(context=ros_context)
    node = ExecutorNode(
        context=ros_context, parameter_overrides=[Parameter("control_rate_hz", value=250.0)]
    )
    arm = FakeArm(ros_context)
    ex.add_node(node)
    ex.add_node(arm)
    assert spin_until(ex, lambda: len(arm.commands) > 5)
    yield ex, node, arm
    node.close()
    ex.shutdown()
    node.destroy_node()
    arm.destroy_node()


def ee(arm):
    return KIN.ee_position(arm.q)


def test_moves_in_commanded_direction_and_stops_on_release(graph) -> None:
    ex, node, arm = graph
    p0 = ee(arm)
    arm.stick = [0.0, 0.0, 0.1]
    spin_for(ex, 0.6)
    d = ee(arm) - p0
    assert d[2] > 0.02 and abs(d[0]) < 0.01 and abs(d[1]) < 0.01
    arm.deadman = False
    spin_for(ex, 0.3)
    q_stop = arm.q.copy()
    spin_for(ex, 0.3)
    np.testing.assert_allclose(arm.q, q_stop, atol=1e-9)
    assert list(arm.commands[-1].points[0].velocities) == [0.0] * 7


@pytest.mark.parametrize(
    ("frame", "offset", "lin"),
    [
        ("tool0", 0.0, [0.1, 0, 0]),  # unknown frame
        ("base_link", 10.0, [0.1, 0, 0]),  # from the future
        ("base_link", -5.0, [0.1, 0, 0]),  # too old
        ("base_link", 0.0, [float("nan"), 0, 0]),
        ("base_link", 0.0, [float("inf"), 0, 0]),
    ],
)
def test_bad_twists_rejected_arm_holds(graph, frame, offset, lin) -> None:
    ex, node, arm = graph
    q0 = arm.q.copy()
    for _ in range(30):
        arm.send_twist(lin, frame=frame, stamp_offset=offset)
        spin_for(ex, 0.01)
    np.testing.assert_allclose(arm.q, q0, atol=1e-9)
    assert node.core.last_rejection is not None


def test_wrong_joy_counts_stop_motion(graph) -> None:
    ex, node, arm = graph
    arm.stick = [0.1, 0.0, 0.0]
    spin_for(ex, 0.3)
    arm.deadman = False  # the fake's own joy stream says released; then garbage arrives
    for _ in range(20):
        arm.joy.publish(Joy(axes=[0.0] * 3, buttons=[1] * 2))
        spin_for(ex, 0.01)
    spin_for(ex, 0.3)
    assert not node.core.deadman
    assert np.all(np.array(arm.commands[-1].points[0].velocities) == 0.0)


def test_estop_latches_and_needs_explicit_reset(graph) -> None:
    ex, node, arm = graph
    arm.stick = [0.1, 0.0, 0.0]
    spin_for(ex, 0.3)
    arm.estop.publish(Bool(data=True))
    spin_for(ex, 0.3)
    q_stop = arm.q.copy()
    arm.estop.publish(Bool(data=False))
    spin_for(ex, 0.3)
    np.testing.assert_allclose(arm.q, q_stop, atol=1e-9)  # still latched
    assert spin_until(ex, lambda: arm.status is not None and arm.status["estop_latched"])
    assert arm.reset.wait_for_service(timeout_sec=2.0)
    fut = arm.reset.call_async(Trigger.Request())
    assert spin_until(ex, fut.done)
    assert fut.result().success
    spin_for(ex, 0.3)
    assert np.max(np.abs(arm.q - q_stop)) > 1e-3  # moving again


def test_stale_commands_brake(graph) -> None:
    ex, node, arm = graph
    arm.stick = [0.1, 0.0, 0.0]
    spin_for(ex, 0.3)
    arm.stick = None  # commands stop, deadman stays held
    spin_for(ex, 0.4)
    assert node.core.watchdog_tripped
    q_stop = arm.q.copy()
    spin_for(ex, 0.2)
    np.testing.assert_allclose(arm.q, q_stop, atol=1e-9)


def test_burst_of_10000_messages_does_not_speed_up_the_arm(graph) -> None:
    ex, node, arm = graph
    steps0 = node.steps
    import time as _time

    t0 = _time.monotonic()
    for _ in range(10_000):
        arm.send_twist([0.1, 0.0, 0.0])
    for _ in range(3000):
        ex.spin_once(timeout_sec=0.0)
    elapsed = _time.monotonic() - t0
    # Never more reference steps than control periods of wall time (+ one of slack).
    assert node.steps - steps0 <= elapsed * node.config.control_rate_hz + 2
    vmax = node.core.filter.vmax
    for cmd in arm.commands[-50:]:
        assert np.all(np.abs(cmd.points[0].velocities) <= vmax + 1e-9)


def test_messages_after_close_are_ignored(graph) -> None:
    ex, node, arm = graph
    node.close()
    spin_for(ex, 0.1)  # deliver what was already in flight
    n = len(arm.commands)
    arm.stick = [0.1, 0.0, 0.0]
    spin_for(ex, 0.2)
    assert len(arm.commands) == n


def test_control_loop_runs_on_sim_time_without_clock(ros_context) -> None:
    """With use_sim_time and no /clock (simulator dead), the executor still steps and holds."""
    ex = SingleThreadedExecutor(context=ros_context)
    node = ExecutorNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("use_sim_time", value=True),
            Parameter("control_rate_hz", value=250.0),
        ],
    )
    arm = FakeArm(ros_context)
    ex.add_node(node)
    ex.add_node(arm)
    try:
        assert spin_until(ex, lambda: node.steps > 50, timeout=5.0)
        assert node.get_clock().now().nanoseconds == 0  # no /clock has arrived
        assert np.all(np.array(arm.commands[-1].points[0].velocities) == 0.0)
    finally:
        node.close()
        ex.shutdown()
        node.destroy_node()
        arm.destroy_node()


# --- control_clock: sim ---------------------------------------------------------------------


class SimClock:
    """Publishes /clock in physics-sized ticks as fast as the test spins (a sim far faster than
    real time) and spins the executor between ticks."""

    def __init__(self, ros_context, ex) -> None:
        self.node = Node("test_clock", context=ros_context)
        self.pub = self.node.create_publisher(ClockMsg, "/clock", 10)
        self.ex = ex
        self.t = 1.0

    def advance(self, seconds: float, tick: float = 1.0 / 240.0) -> None:
        for _ in range(round(seconds / tick)):
            self.t += tick
            msg = ClockMsg()
            msg.clock.sec = int(self.t)
            msg.clock.nanosec = int(round((self.t - int(self.t)) * 1e9))
            self.pub.publish(msg)
            for _ in range(6):
                self.ex.spin_once(timeout_sec=0.0)


@pytest.fixture
def sim_graph(ros_context):
    ex = SingleThreadedExecutor(context=ros_context)
    node = ExecutorNode(context=ros_context, parameter_overrides=[
        Parameter("use_sim_time", value=True), Parameter("control_clock", value="sim"),
        Parameter("control_rate_hz", value=500.0)])
    arm = FakeArm(ros_context)
    arm.set_parameters([Parameter("use_sim_time", value=True)])  # stamps + timers on /clock
    clock = SimClock(ros_context, ex)
    for n in (node, arm, clock.node):
        ex.add_node(n)
    yield clock, node, arm
    node.close()
    ex.shutdown()
    for n in (node, arm, clock.node):
        n.destroy_node()


def test_sim_control_clock_steps_once_per_sim_control_period(sim_graph) -> None:
    """/clock moves in 1/240 s ticks, published as fast as the test runs (many times real
    time): the executor takes 500 steps per second of sim time, so the arm moves at its
    commanded speed in sim time. (On the steady clock it would take 500 per wall second.)"""
    clock, node, arm = sim_graph
    clock.advance(1.0)
    assert arm.commands, "no arm command on the sim clock"
    arm.stick = [0.05, 0.0, 0.0]
    clock.advance(0.5)  # accelerate
    steps0, x0 = node.steps, ee(arm)[0]
    clock.advance(2.0)
    assert node.steps - steps0 == pytest.approx(1000, abs=6)
    assert ee(arm)[0] - x0 == pytest.approx(0.05 * 2.0, rel=0.1)  # commanded speed, sim time
    for cmd in arm.commands[-50:]:
        assert np.all(np.abs(cmd.points[0].velocities) <= node.core.filter.vmax + 1e-9)
    # Released stick: it brakes within the watchdog, in sim time.
    arm.stick = None
    clock.advance(0.5)
    assert np.all(np.abs(arm.commands[-1].points[0].velocities) < 1e-6)


def test_sim_control_clock_does_not_step_without_clock(sim_graph) -> None:
    clock, node, arm = sim_graph
    clock.advance(0.2)
    for _ in range(50):  # deliver the /clock messages still in flight
        clock.ex.spin_once(timeout_sec=0.001)
    steps = node.steps
    assert steps > 0
    for _ in range(300):  # wall time passes, sim time does not
        clock.ex.spin_once(timeout_sec=0.001)
    assert node.steps == steps


@pytest.mark.parametrize(("overrides", "message"), [
    ([Parameter("control_clock", value="wall")], "control_clock must be one of"),
    ([Parameter("control_clock", value="sim")], "control_clock: sim needs use_sim_time"),
])
def test_bad_control_clock_is_refused(ros_context, overrides, message) -> None:
    with pytest.raises(ValueError, match=message):
        ExecutorNode(context=ros_context, parameter_overrides=overrides)


# --- what the status reports ------------------------------------------------------------------


def test_status_carries_what_the_arm_was_told(graph) -> None:
    """ExecutorStatus.commanded is the newest published trajectory point, value for value."""
    ex, node, arm = graph
    arm.stick = [0.05, 0.0, 0.0]
    spin_for(ex, 0.3)
    arm.status = None
    assert spin_until(ex, lambda: arm.status is not None)
    sent = arm.status["commanded"]
    assert sent["interface"] == "trajectory"
    # The status is published between steps: it matches one of the points the arm received.
    points = [(list(c.points[0].positions), list(c.points[0].velocities)) for c in arm.commands]
    assert (sent["positions"], sent["velocities"]) in points
    assert any(v != 0.0 for v in sent["velocities"])  # moving: not a hold point
    assert sent["stamp"] is not None and sent["stamp"] > 0.0  # the twist's own stamp
    # Status and commands are two topics: points sent after the status may already have
    # arrived, so compare both with the node's own count now (spinning has stopped).
    assert 0 < arm.status["commands_sent"] <= node.arm.sent  # the count only grows
    assert 0 < len(arm.commands) <= node.arm.sent  # nothing reached the arm uncounted


def test_velocity_interface_status_has_no_positions(ros_context) -> None:
    ex = SingleThreadedExecutor(context=ros_context)
    node = ExecutorNode(context=ros_context, parameter_overrides=[
        Parameter("arm.command_interface", value="velocity")])
    arm = FakeArm(ros_context)
    got: list[list[float]] = []
    arm.create_subscription(Float64MultiArray, "/forward_velocity_controller/commands",
                            lambda m: got.append(list(m.data)), 100)
    ex.add_node(node)
    ex.add_node(arm)
    try:
        assert spin_until(ex, lambda: len(got) > 5 and arm.status is not None, timeout=5.0)
        sent = arm.status["commanded"]
        assert sent["interface"] == "velocity" and sent["positions"] is None
        assert sent["velocities"] in got and node.arm.last.velocities in got
    finally:
        node.close()
        ex.shutdown()
        node.destroy_node()
        arm.destroy_node()


def test_pad_parameters_set_the_deadman_and_old_names_are_refused(ros_context) -> None:
    node = ExecutorNode(context=ros_context, parameter_overrides=[
        Parameter("pad.deadman", value=4), Parameter("pad.num_buttons", value=12)])
    try:
        assert node.config.pad.deadman == 4 and node.config.pad.num_buttons == 12
    finally:
        node.destroy_node()
    with pytest.raises(ValueError, match="deadman_button is now pad.deadman"):
        ExecutorNode(context=ros_context, parameter_overrides=[
            Parameter("deadman_button", value=4)])
