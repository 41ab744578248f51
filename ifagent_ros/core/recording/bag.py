"""MCAP rosbag2 bags: write already-serialized CDR messages, read them back.

ROS-free (no rclpy): a thin layer over `rosbags` so that the recorder node, the campaign
metrics and the tests share one way to write and read bags. Bags are written as rosbag2
metadata version 9 with storage `mcap`, what ROS 2 Jazzy's own `ros2 bag record -s mcap` writes
(rosbag2 0.26: QoS profiles stored as YAML lists with enum names), so `ros2 bag info/play` on a
full Jazzy install reads them and robot bags and ours look alike.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from rosbags.interfaces import (
    Connection,
    MessageDefinitionFormat,
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)
from rosbags.rosbag2 import Reader, StoragePlugin, Writer, WriterError
from rosbags.typesys import (
    Stores,
    TypesysError,
    get_types_from_idl,
    get_types_from_msg,
    get_typestore,
)
from rosbags.typesys.store import Typestore

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

_LOG = logging.getLogger(__name__)

OnUnknown = Literal["raise", "skip"]
"""What to do with a message type the typestore does not know: raise, or skip with one warning."""

# rosbag2 metadata version written by Jazzy (version 9 came with ros2/rosbag2#1476, before Jazzy).
ROSBAG2_VERSION_JAZZY: Literal[9] = 9

# rmw's "infinite" duration (RMW_DURATION_INFINITE = INT64_MAX ns), as rosbag2 writes it.
_INFINITE = QosTime(sec=9223372036, nsec=854775807)


class BagError(RuntimeError):
    """A bag cannot be written or read as asked (path exists, closed, bad input)."""


class UnknownMessageTypeError(BagError):
    """The message type is in neither the Jazzy typestore nor the bag's embedded definitions."""


@dataclass(frozen=True)
class RecordedMessage:
    """One message read back from a bag."""

    topic: str
    msgtype: str
    timestamp_ns: int
    message: object


@dataclass(frozen=True)
class TopicSummary:
    """Per-topic facts of a bag, from its metadata (no message is read)."""

    type: str
    count: int


def jazzy_typestore() -> Typestore:
    """A fresh typestore with the ROS 2 Jazzy message definitions.

    Fresh per caller because readers register bag-embedded types into it.
    """
    return get_typestore(Stores.ROS2_JAZZY)


def make_qos(*, reliable: bool = True, transient_local: bool = False, depth: int = 10) -> Qos:
    """A QoS profile as recorded in a bag's `offered_qos_profiles` (keep-last, automatic
    liveliness).

    `ros2 bag play` replays a topic transient-local only if every offered profile is, so the
    latched /ifagent/estop must be recorded with `transient_local=True`.
    """
    return Qos(
        history=QosHistory.KEEP_LAST,
        depth=depth,
        reliability=QosReliability.RELIABLE if reliable else QosReliability.BEST_EFFORT,
        durability=QosDurability.TRANSIENT_LOCAL if transient_local else QosDurability.VOLATILE,
        deadline=_INFINITE,
        lifespan=_INFINITE,
        liveliness=QosLiveliness.AUTOMATIC,
        liveliness_lease_duration=_INFINITE,
        avoid_ros_namespace_conventions=False,
    )


class BagWriter:
    """Writes already-serialized CDR messages (rclpy `raw=True` bytes) into a new MCAP bag.

    The bag directory is created when the writer is constructed and must not exist yet (the
    rosbag2 convention: never overwrite a recording). Connections are registered lazily per
    (topic, msgtype) on the first `write`, or up front with `add_topic` to attach the offered QoS.
    `write` is thread-safe: a MultiThreadedExecutor may run subscription callbacks concurrently.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        on_unknown: OnUnknown = "raise",
        typestore: Typestore | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_unknown: OnUnknown = on_unknown
        self._typestore = typestore if typestore is not None else jazzy_typestore()
        self._lock = threading.Lock()
        self._connections: dict[tuple[str, str], Connection] = {}
        self._counts: dict[str, int] = {}
        self._unknown: set[str] = set()
        self._closed = False
        if self.path.exists():
            raise BagError(
                f"bag output {self.path} exists already; rosbag2 never overwrites, pick a new path"
            )
        self._writer = Writer(
            self.path, version=ROSBAG2_VERSION_JAZZY, storage_plugin=StoragePlugin.MCAP
        )
        try:
            self._writer.open()
        except WriterError as err:  # e.g. created by someone else in between
            raise BagError(str(err)) from err

    @property
    def closed(self) -> bool:
        return self._closed

    def knows_type(self, msgtype: str) -> bool:
        """Whether `msgtype` (e.g. `sensor_msgs/msg/Image`) can be written."""
        return msgtype in self._typestore.fielddefs

    def add_topic(self, topic: str, msgtype: str, offered_qos: Sequence[Qos] = ()) -> bool:
        """Register (topic, msgtype) with the publishers' offered QoS; True if it can be written.

        Returns False (and warns once) for an unknown type when `on_unknown == "skip"`.
        A second call for the same pair is a no-op: rosbag2 keeps one connection per pair.
        """
        with self._lock:
            return self._connection(topic, msgtype, offered_qos) is not None

    def write(self, topic: str, msgtype: str, data: bytes | memoryview, timestamp_ns: int) -> bool:
        """Append one serialized CDR message received at `timestamp_ns`; True if written.

        Returns False for a skipped unknown type. Raises BagError once closed.
        """
        with self._lock:
            connection = self._connection(topic, msgtype, ())
            if connection is None:
                return False
            self._writer.write(connection, int(timestamp_ns), data)
            self._counts[topic] = self._counts.get(topic, 0) + 1
            return True

    def counts(self) -> dict[str, int]:
        """Messages written so far, per topic."""
        with self._lock:
            return dict(self._counts)

    def close(self) -> None:
        """Write the MCAP summary and metadata.yaml; idempotent. Without it the bag is
        unreadable."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._writer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Close even on error: what was recorded before the failure is still worth keeping.
        self.close()

    def _connection(
        self, topic: str, msgtype: str, offered_qos: Sequence[Qos]
    ) -> Connection | None:
        """The connection for (topic, msgtype), registered on first use. Caller holds the lock."""
        if self._closed:
            raise BagError(f"bag {self.path} is closed")
        key = (topic, msgtype)
        if (connection := self._connections.get(key)) is not None:
            return connection
        if not self.knows_type(msgtype):
            if self.on_unknown == "raise":
                raise UnknownMessageTypeError(
                    f"message type {msgtype!r} of topic {topic!r} is not in the ROS 2 Jazzy "
                    "typestore; exclude the topic or create the writer with on_unknown='skip'"
                )
            if msgtype not in self._unknown:
                self._unknown.add(msgtype)
                _LOG.warning(
                    "skipping topic %s: message type %s unknown to the typestore", topic, msgtype
                )
            return None
        connection = self._writer.add_connection(
            topic,
            msgtype,
            typestore=self._typestore,
            serialization_format="cdr",
            offered_qos_profiles=list(offered_qos),
        )
        self._connections[key] = connection
        self._counts.setdefault(topic, 0)
        return connection


def deserialize_cdr(typestore: Typestore, data: bytes | memoryview, msgtype: str) -> object:
    """Deserialize one CDR message, ignoring trailing bytes after its end.

    `Typestore.deserialize_cdr` rejects more than 3 trailing bytes, but rmw_fastrtps sizes
    serialized buffers by its (over-)estimate, so bytes from rclpy's `serialize_message` (and
    possibly from raw subscriptions) carry a few extra bytes; Fast CDR itself ignores them too.
    """
    if len(data) < 4 or bytes(data[:2]) not in {b"\x00\x00", b"\x00\x01"}:
        raise BagError(f"invalid or unsupported CDR encapsulation in a {msgtype} message")
    msgdef = typestore.get_msgdef(msgtype)
    little_endian = bool(data[1])
    func = msgdef.deserialize_cdr_le if little_endian else msgdef.deserialize_cdr_be
    try:
        message, _ = func(memoryview(data)[4:], 0, msgdef.cls, typestore)
    except (struct.error, UnicodeDecodeError, ValueError) as err:
        raise BagError(f"cannot deserialize a {msgtype} message: {err}") from err
    return message


class BagReader:
    """Reads a rosbag2 bag (mcap or sqlite3) and deserializes its messages.

    Types come from the Jazzy typestore; types it lacks (e.g. franka_msgs on a robot bag) are
    registered from the definitions `ros2 bag record` embeds in the bag.
    """

    def __init__(self, path: str | Path, *, on_unknown: OnUnknown = "raise") -> None:
        self.path = Path(path)
        if not (self.path / "metadata.yaml").is_file():
            raise BagError(f"{self.path} is not a rosbag2 bag directory (no metadata.yaml)")
        self.on_unknown: OnUnknown = on_unknown
        self.typestore = jazzy_typestore()
        self._reader = Reader(self.path)
        self._open = False

    def open(self) -> None:
        if self._open:
            return
        self._reader.open()
        self._open = True
        self._register_embedded_types()

    def close(self) -> None:
        """Idempotent."""
        if self._open:
            self._open = False
            self._reader.close()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def summary(self) -> dict[str, TopicSummary]:
        """topic -> (type, message count), from the metadata alone."""
        out: dict[str, TopicSummary] = {}
        for connection in self._reader.connections:
            # A topic may have several connections (e.g. differing QoS); counts add up.
            prev = out.get(connection.topic)
            count = connection.msgcount + (prev.count if prev else 0)
            out[connection.topic] = TopicSummary(type=connection.msgtype, count=count)
        return out

    def messages(self, topics: Sequence[str] | None = None) -> Iterator[RecordedMessage]:
        """Messages in timestamp order, optionally only those of `topics`."""
        if not self._open:
            raise BagError(f"bag {self.path} is not open")
        wanted = set(topics) if topics is not None else None
        connections = [
            c for c in self._reader.connections if wanted is None or c.topic in wanted
        ]
        readable = []
        for connection in connections:
            if connection.msgtype in self.typestore.fielddefs:
                readable.append(connection)
            elif self.on_unknown == "raise":
                raise UnknownMessageTypeError(
                    f"message type {connection.msgtype!r} of topic {connection.topic!r} "
                    "is neither in the Jazzy typestore nor defined in the bag; "
                    "pass topics=... or on_unknown='skip'"
                )
            else:
                _LOG.warning(
                    "skipping topic %s: message type %s unknown",
                    connection.topic,
                    connection.msgtype,
                )
        if not readable:
            return
        for connection, timestamp, data in self._reader.messages(connections=readable):
            message = deserialize_cdr(self.typestore, data, connection.msgtype)
            yield RecordedMessage(connection.topic, connection.msgtype, timestamp, message)

    def _register_embedded_types(self) -> None:
        """Add the bag's embedded definitions of types the Jazzy typestore lacks."""
        for connection in self._reader.connections:
            if connection.msgtype in self.typestore.fielddefs:
                continue
            msgdef = connection.msgdef
            try:
                if msgdef.format == MessageDefinitionFormat.MSG:
                    types = get_types_from_msg(msgdef.data, connection.msgtype)
                elif msgdef.format == MessageDefinitionFormat.IDL:
                    sep = "=" * 80 + "\n"
                    types = {}
                    # Multi-type IDL blobs are concatenated, each after a separator + "IDL: name".
                    parts = (
                        msgdef.data.split(sep)[1:] if msgdef.data.startswith(sep) else [msgdef.data]
                    )
                    for part in parts:
                        idl = part.split("\n", 1)[1] if part.startswith("IDL: ") else part
                        types.update(get_types_from_idl(idl))
                else:
                    continue
                # Keep Jazzy's own definitions for types both know, so register cannot conflict.
                self.typestore.register(
                    {name: t for name, t in types.items() if name not in self.typestore.fielddefs}
                )
            except TypesysError as err:
                _LOG.warning("cannot use the bag's definition of %s: %s", connection.msgtype, err)


def read_messages(
    path: str | Path,
    topics: Sequence[str] | None = None,
    *,
    on_unknown: OnUnknown = "raise",
) -> Iterator[tuple[str, str, int, object]]:
    """Yield (topic, msgtype, timestamp_ns, message) for every message of the bag at `path`."""
    with BagReader(path, on_unknown=on_unknown) as reader:
        for rec in reader.messages(topics):
            yield rec.topic, rec.msgtype, rec.timestamp_ns, rec.message


def bag_summary(path: str | Path) -> dict[str, dict[str, str | int]]:
    """topic -> {"type": msgtype, "count": message count}, from the bag's metadata."""
    with BagReader(path) as reader:
        return {topic: {"type": s.type, "count": s.count} for topic, s in reader.summary().items()}
