"""recorder_node: records the topics of the running graph into an MCAP rosbag2 bag.

A Python stand-in for `ros2 bag record -s mcap` where rosbag2 is not installed (the PyPI
wheels lack it). Subscriptions are raw (serialized CDR, never deserialized), so recording costs
a copy per message; the bag itself is written by `core.recording.BagWriter`.
"""

from __future__ import annotations

import importlib
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path

from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.subscription import Subscription
from rclpy.topic_endpoint_info import TopicEndpointInfo
from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)

from ifagent_ros.core.recording import BagError, BagWriter
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config
from ifagent_ros.nodes.topics import matching_qos

# Deep enough to absorb bursts (camera frames) while the writer holds its lock.
SUBSCRIPTION_DEPTH = 1000


@dataclass(frozen=True)
class RecorderConfig:
    """recorder_node's parameters (one per field, same names)."""

    output: str = ""  # "": rosbag2_<date-time> in the working directory
    topics: list[str] = field(default_factory=list)  # names or globs; []: every topic
    exclude: list[str] = field(default_factory=list)
    include_hidden_topics: bool = False
    discovery_period_s: float = 1.0

    def __post_init__(self) -> None:
        if self.discovery_period_s <= 0.0:
            raise ValueError(f"discovery_period_s must be > 0, got {self.discovery_period_s}")


def _matches(topic: str, patterns: list[str]) -> bool:
    """Exact names or fnmatch globs (`/camera/*`)."""
    return any(fnmatchcase(topic, p) for p in patterns)


def _is_hidden(topic: str) -> bool:
    """ROS hidden topics have a name component starting with `_` (e.g. `/x/_action/status`)."""
    return any(part.startswith("_") for part in topic.split("/"))


def _message_class(msgtype: str) -> type | None:
    """`pkg/msg/Name` -> the generated Python class (rosidl_runtime_py is not on PyPI)."""
    try:
        pkg, kind, name = msgtype.split("/")
        return getattr(importlib.import_module(f"{pkg}.{kind}"), name)
    except (ValueError, ImportError, AttributeError):
        return None


def _qos_time(duration: Duration) -> QosTime:
    sec, nsec = divmod(duration.nanoseconds, 1_000_000_000)
    return QosTime(sec=sec, nsec=nsec)


def offered_qos(info: TopicEndpointInfo) -> Qos:
    """A publisher's QoS in the form rosbag2 stores as `offered_qos_profiles` (used by play)."""
    profile = info.qos_profile
    return Qos(
        history=QosHistory(int(profile.history)),
        depth=int(profile.depth),
        reliability=QosReliability(int(profile.reliability)),
        durability=QosDurability(int(profile.durability)),
        deadline=_qos_time(profile.deadline),
        lifespan=_qos_time(profile.lifespan),
        liveliness=QosLiveliness(int(profile.liveliness)),
        liveliness_lease_duration=_qos_time(profile.liveliness_lease_duration),
        avoid_ros_namespace_conventions=bool(profile.avoid_ros_namespace_conventions),
    )


class RecorderNode(Node):
    """Subscribes (raw) to every matching topic, re-scanning the graph for topics that appear
    later."""

    def __init__(
        self,
        *,
        context: Context | None = None,
        parameter_overrides: list[Parameter] | None = None,
        node_name: str = "recorder_node",
    ) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.config = cfg = declare_config(self, RecorderConfig)
        output, period = cfg.output, cfg.discovery_period_s
        self._topics, self._exclude = cfg.topics, cfg.exclude
        self._include_hidden = cfg.include_hidden_topics

        # Same default name as `ros2 bag record`: rosbag2_YYYY_MM_DD-HH_MM_SS in the working dir.
        path = (
            Path(output) if output else Path(datetime.now().strftime("rosbag2_%Y_%m_%d-%H_%M_%S"))
        )
        # BagError if the path exists: a recording is never overwritten (rosbag2 convention).
        self._writer = BagWriter(path, on_unknown="skip")
        self._subscriptions_by_topic: dict[str, Subscription] = {}
        self._types: dict[str, str] = {}
        self._ignored: set[str] = set()  # topics warned about once and never subscribed
        self._closed = False
        # close() may come from another thread (bringup) while the executor runs a discovery scan.
        self._graph_lock = threading.Lock()

        self.get_logger().info(f"recording into {path} (mcap)")
        self._discover()
        # Steady clock: with use_sim_time and no /clock yet, a ROS-time timer would never fire.
        self._timer = self.create_timer(
            period, self._discover, clock=Clock(clock_type=ClockType.STEADY_TIME)
        )

    @property
    def bag_path(self) -> Path:
        return self._writer.path

    def recorded_topics(self) -> dict[str, str]:
        """topic -> msgtype of every topic subscribed so far."""
        return dict(self._types)

    def message_counts(self) -> dict[str, int]:
        """Messages written so far, per topic."""
        return self._writer.counts()

    def close(self) -> None:
        """Stop recording and finish the MCAP file (without this the bag is unreadable);
        idempotent."""
        with self._graph_lock:
            if self._closed:
                return
            self._closed = True
            self.destroy_timer(self._timer)
            for sub in self._subscriptions_by_topic.values():
                self.destroy_subscription(sub)
            self._writer.close()
        counts = self._writer.counts()
        text = (
            f"closed bag {self.bag_path}: {sum(counts.values())} messages on {len(counts)} topics"
        )
        # After Ctrl-C rclpy has shut the context down; the ROS logger would fail to reach /rosout.
        if self.context.ok():
            self.get_logger().info(text)
        else:
            print(text, file=sys.stderr)

    def _wanted(self, topic: str) -> bool:
        if self._topics:
            return _matches(topic, self._topics) and not _matches(topic, self._exclude)
        if not self._include_hidden and _is_hidden(topic):
            return False
        return not _matches(topic, self._exclude)

    def _discover(self) -> None:
        with self._graph_lock:
            if self._closed:
                return
            for topic, types in self.get_topic_names_and_types():
                if (
                    topic in self._subscriptions_by_topic
                    or topic in self._ignored
                    or not self._wanted(topic)
                ):
                    continue
                self._subscribe(topic, types)

    def _ignore(self, topic: str, why: str) -> None:
        self._ignored.add(topic)
        self.get_logger().warning(f"not recording {topic}: {why}")

    def _subscribe(self, topic: str, types: list[str]) -> None:
        if len(types) != 1:
            self._ignore(topic, f"published with several types {types}")
            return
        msgtype = types[0]
        if not self._writer.knows_type(msgtype):
            self._ignore(topic, f"type {msgtype} is not in the ROS 2 Jazzy typestore")
            return
        msg_class = _message_class(msgtype)
        if msg_class is None:
            self._ignore(topic, f"type {msgtype} has no Python message package installed")
            return
        publishers = self.get_publishers_info_by_topic(topic)
        if not publishers:
            return  # only subscribers so far; the next scan retries
        self._writer.add_topic(topic, msgtype, [offered_qos(p) for p in publishers])
        self._subscriptions_by_topic[topic] = self.create_subscription(
            msg_class,
            topic,
            partial(self._on_message, topic, msgtype),
            matching_qos(publishers, SUBSCRIPTION_DEPTH),
            raw=True,  # serialized CDR bytes: nothing to deserialize, written verbatim
        )
        self._types[topic] = msgtype
        self.get_logger().info(f"recording {topic} ({msgtype})")

    def _on_message(self, topic: str, msgtype: str, data: bytes) -> None:
        # Receive time on the node clock, so with use_sim_time the bag is in sim time.
        stamp = self.get_clock().now().nanoseconds
        try:
            self._writer.write(topic, msgtype, data, stamp)
        except BagError:
            if not self._writer.closed:
                raise  # closed in between by close() is expected; anything else is not


NODE_CLASS = RecorderNode


def main(args: list[str] | None = None) -> None:
    run_node(RecorderNode, args)


if __name__ == "__main__":
    main()
