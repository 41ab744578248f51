"""Recording and reading MCAP rosbag2 bags without rclpy (see bag.py)."""

from ifagent_ros.core.recording.bag import (
    BagError,
    BagReader,
    BagWriter,
    OnUnknown,
    RecordedMessage,
    TopicSummary,
    UnknownMessageTypeError,
    bag_summary,
    deserialize_cdr,
    jazzy_typestore,
    make_qos,
    read_messages,
)

__all__ = [
    "BagError",
    "BagReader",
    "BagWriter",
    "OnUnknown",
    "RecordedMessage",
    "TopicSummary",
    "UnknownMessageTypeError",
    "bag_summary",
    "deserialize_cdr",
    "jazzy_typestore",
    "make_qos",
    "read_messages",
]
