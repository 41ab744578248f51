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
one timer at ``rate_hz`` that runs only while there is something to send. Parameters:
:class:`~ifagent_ros.core.campaign.relay.RelayConfig` (one route per relayed topic).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from functools import partial

from pydantic import ValidationError
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
    corrupt_string_payload,
)
from ifagent_ros.core.campaign.relay import (
    FROZEN_TYPES,
    IMAGE,
    ODOMETRY,
    GarbageClock,
    RelayConfig,
    RouteState,
)
from ifagent_ros.core.campaign.types import CAMPAIGN_SCHEMA_VERSION, FaultCommand
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


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
    state: RouteState
    msg_class: type
    pub: Publisher


class FaultRelayNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "fault_relay_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        cfg = declare_config(self, RelayConfig)
        self._seed, self._joy_topic = cfg.seed, cfg.joy_topic
        self._routes: list[_Route] = []
        for spec in cfg.route_list():
            msg_class, qos = message_class(spec.msgtype), route_qos(spec.msgtype)
            route = _Route(RouteState.of(spec, self._seed), msg_class,
                           self.create_publisher(msg_class, spec.output, qos))
            self.create_subscription(msg_class, spec.input, partial(self._on_message, route),
                                     qos, raw=True)
            self._routes.append(route)

        joy_routes = [r for r in self._routes if r.state.route.output == self._joy_topic]
        # Garbage goes out interleaved with the real /joy, so through the route's publisher.
        self._joy_pub = (joy_routes[0].pub if joy_routes
                         else self.create_publisher(Joy, self._joy_topic, 10))

        self._faults = FaultState()
        self._garbage: JoyGarbage | None = None
        self._garbage_clock = GarbageClock()
        self.garbage_sent = 0
        self.fault_messages = 0  # received on fault_topic, malformed ones included
        self.create_subscription(String, cfg.fault_topic, self._on_fault, 10)
        # Steady clock: with use_sim_time and a paused sim, held messages must still leave.
        self._pump = self.create_timer(1.0 / cfg.rate_hz, self._on_pump,
                                       clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._pump.cancel()  # runs only while messages are held or garbage is due
        self.get_logger().info(
            f"fault relay: {len(self._routes)} routes "
            + ", ".join(f"{r.state.route.input} -> {r.state.route.output}"
                        for r in self._routes)
            + f"; faults on {cfg.fault_topic}")

    # --- messages -------------------------------------------------------------------------

    def _on_message(self, route: _Route, data: bytes) -> None:
        now = time.monotonic()
        self._expire(now)
        st = route.state
        fresh = data
        data = self._apply_faults(route, data)
        st.last = fresh  # the sensor produced it; what a network drops is still "last"
        release = st.schedule(now)
        if release is None:
            return
        if st.words is not None:
            text = deserialize_message(data, String).data
            data = serialize_message(String(data=corrupt_string_payload(text, st.words)))
        if release <= now:
            route.pub.publish(data)
            st.forwarded += 1
            return
        st.queue.append((release, data))
        if self._pump.is_canceled():
            self._pump.reset()

    def _apply_faults(self, route: _Route, data: bytes) -> bytes:
        """The sensor-side faults: what the producer would have sent if it were broken."""
        st = route.state
        if st.freezes is not None and self._faults.get(st.freezes) is not None:
            return st.frozen_message(data)
        if st.route.msgtype == ODOMETRY and self._faults.odom_offset_x != 0.0:
            msg = deserialize_message(data, route.msg_class)
            msg.pose.pose.position.x += self._faults.odom_offset_x
            return serialize_message(msg)
        return data

    def _on_pump(self) -> None:
        now = time.monotonic()
        self._expire(now)
        for route in self._routes:
            for data in route.state.due(now):
                route.pub.publish(data)
        if self._garbage is None and not any(r.state.queue for r in self._routes):
            self._pump.cancel()

    def _emit_garbage(self, now: float) -> None:
        """Garbage due by ``now`` (core/campaign/relay.GarbageClock)."""
        burst = self._faults.get("joy_garbage")
        if burst is not None and self._garbage is not None:
            for _ in range(self._garbage_clock.due(burst, now)):
                self._publish_garbage()

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
            if ev.kind in FROZEN_TYPES:
                for route in self._routes:
                    if route.state.freezes == ev.kind:
                        route.state.frozen = None  # a (re)start freezes the latest one anew
            elif ev.kind == "joy_garbage":
                self._garbage = (JoyGarbage(self._seed, f.burst, fault_seed=f.seed)
                                 if ev.active else None)
                self._garbage_clock = GarbageClock()
                if ev.active and self._pump.is_canceled():
                    self._pump.reset()

    # --- introspection --------------------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        """output topic -> {forwarded, dropped, held} so far."""
        return {r.state.route.output: {"forwarded": r.state.forwarded,
                                       "dropped": r.state.dropped, "held": len(r.state.queue)}
                for r in self._routes}

    def close(self) -> None:
        """Held messages are discarded (a link that goes down loses what it carries);
        idempotent."""
        for route in self._routes:
            route.state.queue.clear()


NODE_CLASS = FaultRelayNode


def main(args: list[str] | None = None) -> None:
    run_node(FaultRelayNode, args)


if __name__ == "__main__":
    main()
