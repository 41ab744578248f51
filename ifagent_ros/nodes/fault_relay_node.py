"""fault_relay_node: relays sensor topics with network impairments and injected faults.

In a test campaign the producers (sim_node) publish on ``RAW_PREFIX + name``; this node
republishes each route on its standard name after link impairments (latency, jitter, drops, ASR
word errors; :mod:`ifagent_ros.core.campaign.impairments`) and the faults that ``FaultCommand``
messages on ``fault_topic`` switch on and off: freeze_camera, stale_joint_states, odom_jump,
joy_garbage (kill_node is the episode driver's). Subscriptions are raw, so an unimpaired route
forwards the producer's serialized bytes unchanged; messages are deserialized only when a fault
or word errors must change them.

Timing is on the steady clock (time.monotonic): link latency is wall-clock latency, as a real
network's is, and fault durations are wall seconds. Held messages and garbage bursts leave from
one timer at ``rate_hz`` that runs only while there is something to send.
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.publisher import Publisher
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Joy
from std_msgs.msg import String

from ifagent_ros.core.campaign.impairments import (
    FaultEvent,
    FaultState,
    JoyGarbage,
    LinkScheduler,
    WordErrors,
    check_link,
    corrupt_string_payload,
    replace_header_stamp,
)
from ifagent_ros.core.campaign.types import (
    CAMPAIGN_SCHEMA_VERSION,
    FAULT_TOPIC,
    FaultCommand,
    LinkImpairment,
)
from ifagent_ros.nodes.node_main import run_node

IMAGE, JOINT_STATE, ODOMETRY = (
    "sensor_msgs/msg/Image", "sensor_msgs/msg/JointState", "nav_msgs/msg/Odometry")
STRING, JOY = "std_msgs/msg/String", "sensor_msgs/msg/Joy"
LINK_FIELDS = ("latency_s", "jitter_s", "drop_rate", "word_error_rate")


def message_class(msgtype: str) -> type:
    """``pkg/msg/Name`` -> the generated class; ValueError if it is not an importable type."""
    parts = msgtype.split("/")
    if len(parts) != 3 or parts[1] != "msg" or not all(parts):
        raise ValueError(f"routes.types: {msgtype!r} is not a message type `pkg/msg/Name`")
    try:
        cls = getattr(importlib.import_module(f"{parts[0]}.msg"), parts[2])
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"routes.types: message type {msgtype!r} cannot be imported") from exc
    if not hasattr(cls, "_TYPE_SUPPORT"):  # rosidl-generated classes only
        raise ValueError(f"routes.types: {msgtype!r} is not a ROS message class")
    return cls


def route_qos(msgtype: str) -> int:
    """The producers' QoS (sim_node) as a depth (rclpy's profile for an int: reliable,
    keep-last, volatile): 10, camera images 2."""
    return 2 if msgtype == IMAGE else 10


@dataclass(eq=False)
class _Route:
    index: int
    input: str
    output: str
    msgtype: str
    msg_class: type
    scheduler: LinkScheduler
    words: WordErrors | None
    pub: Publisher
    queue: deque[tuple[float, bytes]] = field(default_factory=deque)
    last: bytes | None = None     # last message received (what a freeze freezes)
    frozen: bytes | None = None   # freeze_camera / stale_joint_states: the frozen message
    dropped: int = 0
    forwarded: int = 0


class FaultRelayNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "fault_relay_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        inputs = self._list("routes.inputs", str)
        outputs = self._list("routes.outputs", str)
        types = self._list("routes.types", str)
        links = {name: self._list(f"routes.{name}", float) for name in LINK_FIELDS}
        self._seed = int(self.declare_parameter("seed", 0).value)
        if self._seed < 0:
            raise ValueError(f"seed must be >= 0, got {self._seed}")
        fault_topic = str(self.declare_parameter("fault_topic", FAULT_TOPIC).value)
        self._joy_topic = str(self.declare_parameter("joy_topic", "/joy").value)
        rate_hz = float(self.declare_parameter(
            "rate_hz", 1000.0, ParameterDescriptor(dynamic_typing=True)).value)
        if not rate_hz > 0.0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")

        n = len(inputs)
        for name, values in [("routes.outputs", outputs), ("routes.types", types)]:
            if len(values) != n:
                raise ValueError(f"{name} has {len(values)} entries, routes.inputs has {n}")
        for name, values in links.items():
            if values and len(values) != n:
                raise ValueError(
                    f"routes.{name} has {len(values)} entries, routes.inputs has {n} "
                    "(give one per route, or [] for all zeros)")
        for name, values in [("routes.inputs", inputs), ("routes.outputs", outputs)]:
            if any(not v.startswith("/") for v in values) or len(set(values)) != len(values):
                raise ValueError(f"{name} must be distinct absolute topic names, got {values}")
        if set(inputs) & set(outputs):
            raise ValueError(f"a topic is both a route input and output: "
                             f"{sorted(set(inputs) & set(outputs))} (the relay would loop)")

        self._routes: list[_Route] = []
        for i in range(n):
            link = LinkImpairment(**{k: (v[i] if v else 0.0) for k, v in links.items()})
            check_link(link, f"routes[{i}] ({inputs[i]})")
            msg_class = message_class(types[i])
            if link.word_error_rate > 0.0 and types[i] != STRING:
                raise ValueError(f"routes.word_error_rate[{i}] = {link.word_error_rate}, but "
                                 f"word errors apply to {STRING} routes only ({types[i]})")
            qos = route_qos(types[i])
            route = _Route(
                i, inputs[i], outputs[i], types[i], msg_class,
                LinkScheduler(link, self._seed, i),
                WordErrors(link.word_error_rate, self._seed, i)
                if link.word_error_rate > 0.0 else None,
                self.create_publisher(msg_class, outputs[i], qos))
            self.create_subscription(msg_class, inputs[i], partial(self._on_message, route),
                                     qos, raw=True)
            self._routes.append(route)

        joy_routes = [r for r in self._routes if r.output == self._joy_topic]
        if joy_routes and joy_routes[0].msgtype != JOY:
            raise ValueError(f"joy_topic {self._joy_topic} is routed with type "
                             f"{joy_routes[0].msgtype}, not {JOY}")
        # Garbage goes out interleaved with the real /joy, so through the route's publisher.
        self._joy_pub = (joy_routes[0].pub if joy_routes
                         else self.create_publisher(Joy, self._joy_topic, 10))

        self._faults = FaultState()
        self._garbage: JoyGarbage | None = None
        self._garbage_index = 0  # messages of the current burst so far
        self.garbage_sent = 0
        self.fault_messages = 0  # received on fault_topic, malformed ones included
        self.create_subscription(String, fault_topic, self._on_fault, 10)
        # Steady clock: with use_sim_time and a paused sim, held messages must still leave.
        self._pump = self.create_timer(1.0 / rate_hz, self._on_pump,
                                       clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._pump.cancel()  # runs only while messages are held or garbage is due
        self.get_logger().info(
            f"fault relay: {n} routes "
            + ", ".join(f"{r.input} -> {r.output}" for r in self._routes)
            + f"; faults on {fault_topic}")

    def _list(self, name: str, kind: type) -> list[Any]:
        """A list parameter defaulting to [] (rclpy cannot infer a type from [])."""
        value = self.declare_parameter(name, [], ParameterDescriptor(dynamic_typing=True)).value
        items = [] if value is None else list(value)
        if kind is float:
            # YAML writes 0 for 0.0; ints are fine for float lists, bools and strings are not.
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
                raise ValueError(f"parameter {name!r} must be a list of numbers, got {value!r}")
            return [float(v) for v in items]
        if not all(isinstance(v, kind) for v in items):
            raise ValueError(f"parameter {name!r} must be a list of {kind.__name__}, "
                             f"got {value!r}")
        return items

    # --- messages -------------------------------------------------------------------------

    def _on_message(self, route: _Route, data: bytes) -> None:
        now = time.monotonic()
        self._expire(now)
        fresh = data
        data = self._apply_faults(route, data)
        route.last = fresh  # the sensor produced it; what a network drops is still "last"
        release = route.scheduler.schedule(now)
        if release is None:
            route.dropped += 1
            return
        if route.words is not None:
            text = deserialize_message(data, String).data
            data = serialize_message(String(data=corrupt_string_payload(text, route.words)))
        if release <= now:
            route.pub.publish(data)
            route.forwarded += 1
            return
        route.queue.append((release, data))
        if self._pump.is_canceled():
            self._pump.reset()

    def _apply_faults(self, route: _Route, data: bytes) -> bytes:
        """The sensor-side faults: what the producer would have sent if it were broken."""
        kind = {IMAGE: "freeze_camera", JOINT_STATE: "stale_joint_states"}.get(route.msgtype)
        if kind is not None and self._faults.get(kind) is not None:
            if route.frozen is None:  # no message before the fault: freeze the first one
                route.frozen = route.last if route.last is not None else data
            if kind == "stale_joint_states":
                return route.frozen  # old stamp, old values
            return replace_header_stamp(route.frozen, data)  # frozen frame, fresh stamp
        if route.msgtype == ODOMETRY and self._faults.odom_offset_x != 0.0:
            msg = deserialize_message(data, route.msg_class)
            msg.pose.pose.position.x += self._faults.odom_offset_x
            return serialize_message(msg)
        return data

    def _on_pump(self) -> None:
        now = time.monotonic()
        self._expire(now)
        for route in self._routes:
            while route.queue and route.queue[0][0] <= now:
                route.pub.publish(route.queue.popleft()[1])
                route.forwarded += 1
        if self._garbage is None and not any(r.queue for r in self._routes):
            self._pump.cancel()

    def _emit_garbage(self, now: float) -> None:
        """Garbage due by ``now``, never past the burst's end: a burst of duration d at rate r
        is exactly ceil(d * r) messages however late the timer fires."""
        burst = self._faults.get("joy_garbage")
        if burst is None or self._garbage is None:
            return
        while True:
            # Due times from the index, not by adding periods: no rounding drift in the count.
            due = burst.start + self._garbage_index / burst.magnitude
            if due > now or due >= burst.end:
                return
            self._publish_garbage()
            self._garbage_index += 1

    def _publish_garbage(self) -> None:
        assert self._garbage is not None
        g = self._garbage.next()
        msg = Joy()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = "joy"
        msg.axes = g.axes
        msg.buttons = g.buttons
        self._joy_pub.publish(msg)
        self.garbage_sent += 1

    # --- faults ---------------------------------------------------------------------------

    def _on_fault(self, msg: String) -> None:
        self.fault_messages += 1
        try:
            cmd = FaultCommand.model_validate_json(msg.data)
            if cmd.version != CAMPAIGN_SCHEMA_VERSION:
                raise ValueError(f"version {cmd.version}, expected {CAMPAIGN_SCHEMA_VERSION}")
            events = self._faults.command(cmd, time.monotonic())
        except (ValidationError, ValueError) as exc:
            self.get_logger().warning(f"ignored malformed FaultCommand {msg.data[:200]!r}: "
                                      f"{exc}", throttle_duration_sec=1.0)
            return
        if cmd.kind == "kill_node":
            return  # the episode driver's fault, not the relay's
        self._handle(events)

    def _expire(self, now: float) -> None:
        if self._faults.active:
            self._emit_garbage(now)
            self._handle(self._faults.expire(now))

    def _handle(self, events: list[FaultEvent]) -> None:
        for ev in events:
            f = ev.fault
            if ev.active:
                what = "restarted" if ev.restart else "started"
                self.get_logger().info(
                    f"fault {ev.kind} {what}: duration {f.duration_s:g} s (0: until ended), "
                    f"magnitude {f.magnitude:g}"
                    + (f", odom offset x now {self._faults.odom_offset_x:g} m"
                       if ev.kind == "odom_jump" else ""))
            else:
                self.get_logger().info(f"fault {ev.kind} ended")
            frozen_type = {"freeze_camera": IMAGE, "stale_joint_states": JOINT_STATE}.get(ev.kind)
            if frozen_type is not None:
                for route in self._routes:
                    if route.msgtype == frozen_type:
                        route.frozen = None  # a (re)start freezes the latest message anew
            elif ev.kind == "joy_garbage":
                self._garbage = (JoyGarbage(self._seed, f.burst, fault_seed=f.seed)
                                 if ev.active else None)
                self._garbage_index = 0
                if ev.active and self._pump.is_canceled():
                    self._pump.reset()

    # --- introspection --------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        """output topic -> {forwarded, dropped, held} so far."""
        return {r.output: {"forwarded": r.forwarded, "dropped": r.dropped,
                           "held": len(r.queue)} for r in self._routes}

    def close(self) -> None:
        """Held messages are discarded (a link that goes down loses what it carries);
        idempotent."""
        for route in self._routes:
            route.queue.clear()


NODE_CLASS = FaultRelayNode


def main(args: list[str] | None = None) -> None:
    run_node(FaultRelayNode, args)


if __name__ == "__main__":
    main()
