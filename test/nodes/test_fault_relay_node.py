"""fault_relay_node over real rclpy (private Context): pass-through, link impairments, faults."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from builtin_interfaces.msg import Time
from nav_msgs.msg import Odometry
from rclpy.context import Context
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message, serialize_message
from ros_helpers import NodeHarness
from sensor_msgs.msg import Image, JointState, Joy
from std_msgs.msg import String

from ifagent_ros.core.campaign.types import FAULT_TOPIC, RAW_PREFIX, FaultCommand
from ifagent_ros.nodes.fault_relay_node import FaultRelayNode

TYPES = {
    "/joint_states": ("sensor_msgs/msg/JointState", JointState),
    "/camera/color/image_raw": ("sensor_msgs/msg/Image", Image),
    "/odom": ("nav_msgs/msg/Odometry", Odometry),
    "/joy": ("sensor_msgs/msg/Joy", Joy),
    "/ifagent/speech/text": ("std_msgs/msg/String", String),
}


def params(links: dict[str, dict[str, float]] | None = None,
           **extra: Any) -> list[Parameter]:
    """All of TYPES routed RAW_PREFIX + name -> name; `links`: name -> impairment fields."""
    links = links or {}
    names = list(TYPES)
    out = [
        Parameter("routes.inputs", value=[RAW_PREFIX + n for n in names]),
        Parameter("routes.outputs", value=names),
        Parameter("routes.types", value=[TYPES[n][0] for n in names]),
    ]
    for field in ("latency_s", "jitter_s", "drop_rate", "word_error_rate"):
        if any(field in link for link in links.values()):
            out.append(Parameter(f"routes.{field}",
                                 value=[float(links.get(n, {}).get(field, 0.0)) for n in names]))
    out += [Parameter(k, value=v) for k, v in extra.items()]
    return out


class Harness(NodeHarness):
    def __init__(self, ctx: Context, overrides: list[Parameter]) -> None:
        super().__init__(ctx, FaultRelayNode(
            context=ctx, parameter_overrides=overrides,
            node_name=f"fault_relay_under_test_{random.randrange(10**6)}"))
        self.raw_pubs = {n: self.probe.create_publisher(cls, RAW_PREFIX + n, 10)
                         for n, (_, cls) in TYPES.items()}
        self.fault_pub = self.probe.create_publisher(String, FAULT_TOPIC, 10)
        # name -> [(receive time, serialized bytes)]
        self.received: dict[str, list[tuple[float, bytes]]] = {n: [] for n in TYPES}
        for n, (_, cls) in TYPES.items():
            self.probe.create_subscription(
                cls, n, lambda data, n=n: self.received[n].append((time.monotonic(), data)),
                100, raw=True)

    def connect(self) -> None:
        routes = self.node._routes
        routed = [self.raw_pubs[r.state.route.output] for r in routes]
        ok = self.spin_until(
            lambda: all(p.get_subscription_count() >= 1 for p in routed)
            and self.fault_pub.get_subscription_count() >= 1
            and all(r.pub.get_subscription_count() >= 1 for r in routes))
        assert ok, "discovery did not match the relay's topics"

    def got(self, name: str, cls: type | None = None) -> list[Any]:
        cls = cls or TYPES[name][1]
        return [deserialize_message(d, cls) for _, d in self.received[name]]

    def fault(self, **kw: Any) -> None:
        cmd = FaultCommand(**kw)
        seen = self.node.fault_messages
        self.fault_pub.publish(String(data=cmd.model_dump_json()))
        assert self.spin_until(lambda: self.node.fault_messages > seen)


@pytest.fixture
def make(ros_context: Context) -> Iterator[Any]:
    made: list[Harness] = []

    def _make(overrides: list[Parameter] | None = None) -> Harness:
        h = Harness(ros_context, overrides if overrides is not None else params())
        made.append(h)
        h.connect()
        return h

    try:
        yield _make
    finally:
        for h in made:
            h.close()


def joint_state(sec: int, pos: float) -> JointState:
    msg = JointState()
    msg.header.stamp = Time(sec=sec, nanosec=5)
    msg.name = ["j1", "j2"]
    msg.position = [pos, -pos]
    return msg


def image(sec: int, value: int) -> Image:
    msg = Image()
    msg.header.stamp = Time(sec=sec, nanosec=7)
    msg.header.frame_id = "camera"
    msg.height, msg.width, msg.encoding, msg.step = 2, 3, "rgb8", 9
    msg.data = bytes([value]) * 18
    return msg


def stamp_of(msg: Any) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def test_pass_through_forwards_bytes_unchanged(make: Any) -> None:
    h = make()
    sent = {
        "/joint_states": serialize_message(joint_state(1, 0.5)),
        "/camera/color/image_raw": serialize_message(image(2, 9)),
        "/joy": serialize_message(Joy(axes=[0.1] * 8, buttons=[0] * 11)),
        "/ifagent/speech/text": serialize_message(String(data='{"text": "go left"}')),
    }
    for name, data in sent.items():
        h.raw_pubs[name].publish(data)  # raw bytes in, so the comparison is byte for byte
    assert h.spin_until(lambda: all(h.received[n] for n in sent))
    for name, data in sent.items():
        assert [d for _, d in h.received[name]] == [data], name
    assert h.received["/odom"] == []  # nothing extra


def test_latency_delays_delivery(make: Any) -> None:
    h = make(params({"/joint_states": {"latency_s": 0.1}}))
    sent_at = []
    for i in range(5):
        sent_at.append(time.monotonic())
        h.raw_pubs["/joint_states"].publish(joint_state(i, 0.0))
        h.executor.spin_once(timeout_sec=0.01)
    assert h.spin_until(lambda: len(h.received["/joint_states"]) == 5)
    for t_sent, (t_got, data) in zip(sent_at, h.received["/joint_states"], strict=True):
        assert t_got - t_sent >= 0.1  # a lower bound only: never sooner than the latency
    assert [m.header.stamp.sec for m in h.got("/joint_states")] == list(range(5))


def test_drop_rate_one_drops_everything(make: Any) -> None:
    h = make(params({"/joint_states": {"drop_rate": 1.0}}))
    for i in range(20):
        h.raw_pubs["/joint_states"].publish(joint_state(i, 0.0))
        h.raw_pubs["/joy"].publish(Joy(axes=[0.0] * 8, buttons=[0] * 11))
        h.spin_until(lambda i=i: len(h.received["/joy"]) > i, timeout=1.0)  # depth 10 queues
    # /joy goes through the same node; once all of it arrived, every joint state was handled.
    assert h.spin_until(lambda: len(h.received["/joy"]) == 20)
    assert h.spin_until(lambda: h.node.stats()["/joint_states"]["dropped"] == 20)
    assert h.received["/joint_states"] == []


def test_freeze_camera_repeats_frame_with_fresh_stamps(make: Any) -> None:
    h = make()
    cam = "/camera/color/image_raw"
    h.raw_pubs[cam].publish(image(1, 10))
    assert h.spin_until(lambda: len(h.received[cam]) == 1)
    h.fault(kind="freeze_camera")
    for sec, value in [(2, 20), (3, 30)]:
        h.raw_pubs[cam].publish(image(sec, value))
    assert h.spin_until(lambda: len(h.received[cam]) == 3)
    h.fault(kind="freeze_camera", active=False)
    h.raw_pubs[cam].publish(image(4, 40))
    assert h.spin_until(lambda: len(h.received[cam]) == 4)
    got = h.got(cam)
    assert [stamp_of(m) for m in got] == [(s, 7) for s in (1, 2, 3, 4)]  # stamps stay fresh
    assert [bytes(m.data)[0] for m in got] == [10, 10, 10, 40]  # content frozen, then thaws
    assert all(m.header.frame_id == "camera" and m.width == 3 for m in got)


def test_stale_joint_states_repeat_the_old_message(make: Any) -> None:
    h = make()
    js = "/joint_states"
    old = serialize_message(joint_state(1, 0.25))
    h.raw_pubs[js].publish(old)
    assert h.spin_until(lambda: len(h.received[js]) == 1)
    h.fault(kind="stale_joint_states")
    for i in range(2, 5):
        h.raw_pubs[js].publish(joint_state(i, float(i)))
    assert h.spin_until(lambda: len(h.received[js]) == 4)
    assert [d for _, d in h.received[js]] == [old] * 4  # old stamp, old values, same rate


def test_odom_jumps_offset_x_cumulatively(make: Any) -> None:
    h = make()
    odom = Odometry()
    odom.pose.pose.position.x, odom.pose.pose.position.y = 1.0, 2.0
    h.raw_pubs["/odom"].publish(odom)
    assert h.spin_until(lambda: len(h.received["/odom"]) == 1)
    h.fault(kind="odom_jump", magnitude=0.5, duration_s=0.01)
    h.raw_pubs["/odom"].publish(odom)
    assert h.spin_until(lambda: len(h.received["/odom"]) == 2)
    h.fault(kind="odom_jump", magnitude=0.25)
    h.raw_pubs["/odom"].publish(odom)
    assert h.spin_until(lambda: len(h.received["/odom"]) == 3)
    xs = [m.pose.pose.position.x for m in h.got("/odom")]
    assert xs == pytest.approx([1.0, 1.5, 1.75])  # the first jump stays after its duration
    assert all(m.pose.pose.position.y == 2.0 for m in h.got("/odom"))


def _malformed(msg: Joy) -> bool:
    return (len(msg.axes) != 8 or len(msg.buttons) != 11
            or any(not math.isfinite(a) or abs(a) > 1.0 for a in msg.axes)
            or any(b not in (0, 1) for b in msg.buttons))


def test_joy_garbage_burst_is_malformed_and_interleaved(make: Any) -> None:
    h = make()
    real = Joy(axes=[0.5] * 8, buttons=[0] * 11)
    h.fault(kind="joy_garbage", magnitude=100.0, duration_s=0.2)
    h.raw_pubs["/joy"].publish(real)
    assert h.spin_until(lambda: h.node._faults.get("joy_garbage") is None
                        and h.node.garbage_sent == 20)
    h.raw_pubs["/joy"].publish(real)
    assert h.spin_until(lambda: len(h.received["/joy"]) == 22)
    got = h.got("/joy")
    garbage = [m for m in got if _malformed(m)]
    assert len(garbage) == 20  # 0.2 s at 100 Hz
    assert len([m for m in got if list(m.axes) == [0.5] * 8]) == 2  # the real ones pass
    assert any(any(math.isnan(a) for a in m.axes) for m in garbage)
    assert any(any(math.isinf(a) for a in m.axes) for m in garbage)
    assert any(min(m.buttons, default=0) < 0 for m in garbage)


def test_joy_garbage_without_a_joy_route_uses_its_own_publisher(make: Any) -> None:
    names = ["/joint_states"]
    h = make([
        Parameter("routes.inputs", value=[RAW_PREFIX + n for n in names]),
        Parameter("routes.outputs", value=names),
        Parameter("routes.types", value=["sensor_msgs/msg/JointState"]),
    ])
    assert h.spin_until(lambda: h.node._joy_pub.get_subscription_count() >= 1)
    h.fault(kind="joy_garbage", magnitude=50.0, duration_s=0.1)
    assert h.spin_until(lambda: len(h.received["/joy"]) == 5)
    assert all(_malformed(m) for m in h.got("/joy"))


def test_word_errors_change_speech_text_only(make: Any) -> None:
    h = make(params({"/ifagent/speech/text": {"word_error_rate": 1.0}}))
    speech = {"version": 1, "text": "move the red cup left", "confidence": 0.8,
              "backend": "typed", "start": 0.0, "end": 1.0, "in_grammar": True}
    h.raw_pubs["/ifagent/speech/text"].publish(String(data=json.dumps(speech)))
    assert h.spin_until(lambda: len(h.received["/ifagent/speech/text"]) == 1)
    out = json.loads(h.got("/ifagent/speech/text")[0].data)
    assert out["text"] != speech["text"]
    assert {k: v for k, v in out.items() if k != "text"} == {
        k: v for k, v in speech.items() if k != "text"}


def test_malformed_fault_commands_are_ignored(make: Any) -> None:
    h = make()
    for data in ["not json", '{"kind": "melt_cpu"}', '{"kind": "odom_jump", "bogus": 1}',
                 '{"kind": "odom_jump", "version": 99, "magnitude": 1.0}']:
        h.fault_pub.publish(String(data=data))
    assert h.spin_until(lambda: h.node.fault_messages == 4)
    h.fault(kind="freeze_camera")  # the node is still alive and takes good commands
    assert h.node._faults.odom_offset_x == 0.0
    assert set(h.node._faults.active) == {"freeze_camera"}


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ([Parameter("routes.inputs", value=["/a"])], "routes.outputs"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Nope"])], "routes.types"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["JointState"])], "routes.types"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Joy"]),
          Parameter("routes.drop_rate", value=[1.5])], "drop_rate"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Joy"]),
          Parameter("routes.latency_s", value=[-0.1])], "latency_s"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Joy"]),
          Parameter("routes.jitter_s", value=[0.1, 0.2])], "routes.jitter_s"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/b"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Joy"]),
          Parameter("routes.word_error_rate", value=[0.1])], "word_error_rate"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/a"]),
          Parameter("routes.types", value=["sensor_msgs/msg/Joy"])], "loop"),
        ([Parameter("routes.inputs", value=["/a"]), Parameter("routes.outputs", value=["/joy"]),
          Parameter("routes.types", value=["std_msgs/msg/String"])], "joy_topic"),
        ([Parameter("rate_hz", value=0.0)], "rate_hz"),
        ([Parameter("seed", value=-3)], "seed"),
    ],
)
def test_bad_parameters_raise(ros_context: Context, overrides: list[Parameter],
                              match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaultRelayNode(context=ros_context, parameter_overrides=overrides,
                       node_name=f"fault_relay_bad_{random.randrange(10**6)}")
