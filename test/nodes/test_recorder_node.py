"""recorder_node against a real rclpy graph (private Context, random domain)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import rclpy
import yaml
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool, String

from ifagent_ros.core.recording import BagError, bag_summary, read_messages
from ifagent_ros.nodes.recorder_node import RecorderNode
from ifagent_ros.nodes.topics import ESTOP_QOS


@pytest.fixture
def ctx() -> Iterator[Context]:
    context = Context()
    # Random domain so parallel test runs on this machine do not see each other's topics.
    rclpy.init(context=context, domain_id=random.randint(0, 101))
    yield context
    rclpy.try_shutdown(context=context)


def spin_until(
    executor: SingleThreadedExecutor, cond: Callable[[], bool], timeout_s: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        executor.spin_once(timeout_sec=0.02)


def _joint_state(i: int) -> JointState:
    return JointState(
        name=["panda_joint1", "panda_joint2"], position=[0.1 * i, -0.2 * i], velocity=[], effort=[]
    )


def test_records_discovered_topics(ctx: Context, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    pub_node = Node("publisher", context=ctx)
    executor = SingleThreadedExecutor(context=ctx)
    recorder: RecorderNode | None = None
    try:
        js_pub = pub_node.create_publisher(JointState, "/joint_states", 10)
        estop_pub = pub_node.create_publisher(Bool, "/ifagent/estop", ESTOP_QOS)
        # Latched before the recorder exists: only transient-local matching delivers it.
        estop_pub.publish(Bool(data=True))

        recorder = RecorderNode(
            context=ctx,
            parameter_overrides=[
                Parameter("output", value=str(bag)),
                Parameter("discovery_period_s", value=0.1),
                Parameter("exclude", value=["/rosout", "/parameter_events"]),
            ],
        )
        executor.add_node(pub_node)
        executor.add_node(recorder)
        spin_until(
            executor,
            lambda: {"/joint_states", "/ifagent/estop"} <= recorder.recorded_topics().keys(),
        )
        spin_until(executor, lambda: recorder.message_counts().get("/ifagent/estop", 0) == 1)

        # A publisher created after the recorder started is picked up by the periodic re-scan.
        status_pub = pub_node.create_publisher(String, "/ifagent/executor/status", 10)
        spin_until(executor, lambda: "/ifagent/executor/status" in recorder.recorded_topics())
        spin_until(
            executor,
            lambda: (
                js_pub.get_subscription_count() >= 1 and status_pub.get_subscription_count() >= 1
            ),
        )

        for i in range(5):
            js_pub.publish(_joint_state(i))
            status_pub.publish(String(data=f'{{"seq": {i}}}'))
            executor.spin_once(timeout_sec=0.01)
        spin_until(
            executor,
            lambda: recorder.message_counts().get("/joint_states", 0) == 5
            and recorder.message_counts().get("/ifagent/executor/status", 0) == 5,
        )
        assert "/rosout" not in recorder.recorded_topics()
    finally:
        if recorder is not None:
            recorder.close()
            recorder.close()  # idempotent
            recorder.destroy_node()
        pub_node.destroy_node()
        executor.shutdown()

    assert bag_summary(bag) == {
        "/joint_states": {"type": "sensor_msgs/msg/JointState", "count": 5},
        "/ifagent/estop": {"type": "std_msgs/msg/Bool", "count": 1},
        "/ifagent/executor/status": {"type": "std_msgs/msg/String", "count": 5},
    }
    msgs = list(read_messages(bag))
    stamps = [t for _, _, t, _ in msgs]
    # wall clock (no sim time)
    assert stamps == sorted(stamps) and stamps[0] > 1_600_000_000 * 10**9

    joints = [m for topic, _, _, m in msgs if topic == "/joint_states"]
    assert [list(m.position) for m in joints] == [
        pytest.approx([0.1 * i, -0.2 * i]) for i in range(5)
    ]
    assert list(joints[0].name) == ["panda_joint1", "panda_joint2"]
    assert [m.data for topic, _, _, m in msgs if topic == "/ifagent/executor/status"] == [
        f'{{"seq": {i}}}' for i in range(5)
    ]
    assert [m.data for topic, _, _, m in msgs if topic == "/ifagent/estop"] == [True]

    # The publisher's transient-local QoS is stored, so `ros2 bag play` re-latches the e-stop.
    meta = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    qos = {
        t["topic_metadata"]["name"]: t["topic_metadata"]["offered_qos_profiles"]
        for t in meta["topics_with_message_count"]
    }
    assert [q["durability"] for q in qos["/ifagent/estop"]] == ["transient_local"]
    assert [(q["durability"], q["reliability"]) for q in qos["/joint_states"]] == [
        ("volatile", "reliable")
    ]


def test_topics_whitelist_and_existing_output(ctx: Context, tmp_path: Path) -> None:
    existing = tmp_path / "exists"
    existing.mkdir()
    with pytest.raises(BagError, match="exists already"):
        RecorderNode(context=ctx, parameter_overrides=[Parameter("output", value=str(existing))])

    pub_node = Node("publisher", context=ctx)
    pub_node.create_publisher(JointState, "/joint_states", 10)
    pub_node.create_publisher(String, "/other", 10)
    recorder = RecorderNode(
        context=ctx,
        parameter_overrides=[
            Parameter("output", value=str(tmp_path / "bag")),
            Parameter("topics", value=["/joint_*"]),
            Parameter("discovery_period_s", value=0.1),
        ],
    )
    executor = SingleThreadedExecutor(context=ctx)
    try:
        executor.add_node(pub_node)
        executor.add_node(recorder)
        spin_until(executor, lambda: "/joint_states" in recorder.recorded_topics())
        # Give discovery a few more scans: /other must stay unrecorded.
        deadline = time.monotonic() + 0.4
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.02)
        assert recorder.recorded_topics() == {"/joint_states": "sensor_msgs/msg/JointState"}
    finally:
        recorder.close()
        recorder.destroy_node()
        pub_node.destroy_node()
        executor.shutdown()
    assert bag_summary(tmp_path / "bag") == {
        "/joint_states": {"type": "sensor_msgs/msg/JointState", "count": 0}
    }
