"""What the tabletop and the house sim nodes share: the pacing loop, /clock, the camera topics.

:class:`PacedLoop` (ROS-free) steps a simulation from a steady wall-clock timer so the rest of
the graph is never starved: paced to ``time_scale`` x the wall clock (``realtime: true``; about
one physics step per tick, so every step sees the newest command, and after a stall worth more
than ``max_catchup_s`` the backlog is dropped instead of fast-forwarded) or in short batches as
fast as the CPU allows (``realtime: false``). :class:`RateSchedule` (ROS-free) says when each
output stream (joint states, odometry, camera, ...) is due in sim time, without bursts after a
backlog.

:class:`SimNodeBase` is the ROS side: it owns the world (:attr:`SimNodeBase.sim`, a
:class:`SimWorld`), the steady timer driving a :class:`PacedLoop`, one physics step with
``/clock`` after it (:meth:`SimNodeBase.step_once`), the RGB-D camera topics (colour, 32FC1
depth in metres, and both CameraInfo) and :meth:`SimNodeBase.close`. Subclasses build the world,
then implement :meth:`SimNodeBase.publish_due` (what is due after a step) and, optionally,
:meth:`SimNodeBase.before_step`, :meth:`SimNodeBase.after_steps` and
:meth:`SimNodeBase.release`. The parameters are in :mod:`ifagent_ros.nodes.sim_params`.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import numpy as np
from builtin_interfaces.msg import Time
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from ifagent_ros.nodes import topics
from ifagent_ros.nodes.sim_params import SimCameraParams, SimParams
from ifagent_ros.sim.camera import CameraFrame
from ifagent_ros.sim.tabletop_domain import Pacer

NONREALTIME_BATCH_S = 0.005  # wall time per tick before yielding to the executor (realtime off)
MAX_CATCHUP_S = 0.1  # after a stall (e.g. a render) catch up at most this much wall time
MIN_TICK_S = 0.0005  # shortest real-time tick (time_scale 10 at 240 Hz: about 2 steps a tick)


def stamp(t: float) -> Time:
    """Seconds -> builtin_interfaces/Time."""
    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=min(round((t - sec) * 1e9), 999_999_999))


class RateSchedule:
    """When each output stream is due, in sim time: every ``period`` from the previous slot,
    never in a burst after a backlog (the next slot is at least half a period away)."""

    def __init__(self, periods: dict[str, float]) -> None:
        self.periods = dict(periods)
        self.next = dict.fromkeys(self.periods, 0.0)

    def due(self, key: str, t: float) -> bool:
        if t + 1e-9 < self.next[key]:
            return False
        period = self.periods[key]
        self.next[key] = max(self.next[key] + period, t + 0.5 * period)
        return True


class PacedLoop:
    """Runs ``step`` (one physics step) from a periodic tick, paced as the module says."""

    def __init__(self, step: Callable[[], None], sim_time: Callable[[], float], timestep: float,
                 *, realtime: bool = True, time_scale: float = 1.0,
                 max_catchup_s: float = MAX_CATCHUP_S, batch_s: float = NONREALTIME_BATCH_S,
                 wall: Callable[[], float] = time.monotonic) -> None:
        self._step, self._sim_time, self._wall = step, sim_time, wall
        self.realtime, self.batch_s = realtime, batch_s
        self.pacer = Pacer(timestep, time_scale, max_catchup_s)
        self._wall0, self._sim0 = wall(), sim_time()

    @property
    def time_scale(self) -> float:
        return self.pacer.time_scale

    @property
    def tick_period(self) -> float:
        """How often to call :meth:`tick`: about one step per tick in real time, else 1 ms."""
        if not self.realtime:
            return 0.001
        return max(self.pacer.timestep / self.pacer.time_scale, MIN_TICK_S)

    def tick(self) -> int:
        """Run the steps due now; returns how many ran."""
        if not self.realtime:
            start, n = self._wall(), 0
            while self._wall() - start < self.batch_s:
                self._step()
                n += 1
            return n
        n, resync = self.pacer.steps_due(self._wall() - self._wall0,
                                         self._sim_time() - self._sim0)
        if resync:  # stalled too long: drop the backlog instead of fast-forwarding
            self._wall0, self._sim0 = self._wall(), self._sim_time()
        for _ in range(n):
            self._step()
        return n


class SimWorld(Protocol):
    """What a sim node steps: a simulator with a clock (sim/tabletop.py, sim/house_sim.py)."""

    @property
    def time(self) -> float: ...

    @property
    def timestep(self) -> float: ...

    def step(self) -> None: ...

    def close(self) -> None: ...


SimT = TypeVar("SimT", bound=SimWorld)


class SimNodeBase(Node, Generic[SimT]):
    """A sim node: its world, a :class:`PacedLoop` on a steady timer, ``/clock``, the camera."""

    def __init__(self, node_name: str, *, context: Context | None,
                 parameter_overrides: list[Parameter] | None) -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._name = node_name
        self._sim: SimT | None = None
        self.loop: PacedLoop | None = None
        self._tick_timer = None
        self._pub_clock = self.create_publisher(ClockMsg, topics.CLOCK, 10)

    @property
    def sim(self) -> SimT:
        if self._sim is None:
            raise RuntimeError(f"{self._name} is closed")
        return self._sim

    @property
    def sim_time(self) -> float:
        return self.sim.time

    # ---- stepping ----------------------------------------------------------------------------
    def step_once(self) -> None:
        """One physics step, ``/clock``, then whatever is due (:meth:`publish_due`)."""
        sim = self.sim
        self.before_step()
        sim.step()
        t = sim.time
        self.publish_clock(t)
        self.publish_due(sim, t)

    def before_step(self) -> None:
        """Called before each physics step (e.g. to apply the newest command)."""

    def publish_due(self, sim: SimT, t: float) -> None:
        """Publish what is due at sim time ``t``, just after a step."""
        raise NotImplementedError

    def after_steps(self) -> None:
        """Called after each tick's steps (e.g. to collect a frame rendered elsewhere)."""

    def release(self) -> None:
        """Release what the subclass holds besides the world (called by :meth:`close`)."""

    def close(self) -> None:
        """Stop stepping, release, disconnect the world; idempotent."""
        self.stop_loop()
        self.release()
        if self._sim is not None:
            self._sim.close()
            self._sim = None

    # ---- pacing ------------------------------------------------------------------------------
    def start_loop(self, params: SimParams) -> PacedLoop:
        """Start stepping the world: a steady-clock timer (it must tick even with use_sim_time)."""
        self.loop = PacedLoop(self.step_once, lambda: self.sim_time, self.sim.timestep,
                              realtime=params.realtime, time_scale=params.time_scale)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._tick_timer = self.create_timer(self.loop.tick_period, self._on_tick, clock=steady)
        return self.loop

    def _on_tick(self) -> None:
        if self.loop is None:
            return
        try:
            self.loop.tick()
            self.after_steps()
        except Exception as err:  # noqa: BLE001 - never let a tick kill the node
            self.get_logger().error(f"sim tick failed: {err!r}", throttle_duration_sec=1.0)

    def stop_loop(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        self.loop = None

    def publish_clock(self, t: float) -> None:
        self._pub_clock.publish(ClockMsg(clock=stamp(t)))

    # ---- camera ------------------------------------------------------------------------------
    def create_camera_publishers(self, camera: SimCameraParams) -> None:
        self._camera_frame_id = camera.frame_id
        self._pub_rgb = self.create_publisher(Image, camera.color_topic, 2)
        self._pub_depth = self.create_publisher(Image, camera.depth_topic, 2)
        self._pub_rgb_info = self.create_publisher(CameraInfo, camera.color_info_topic, 2)
        self._pub_depth_info = self.create_publisher(CameraInfo, camera.depth_info_topic, 2)

    def publish_frame(self, frame: CameraFrame) -> None:
        """Colour (rgb8), depth (32FC1, metres, NaN: no return) and both camera_infos."""
        header = Header(stamp=stamp(frame.stamp), frame_id=self._camera_frame_id)
        h, w = frame.depth.shape
        self._pub_rgb.publish(Image(header=header, height=h, width=w, encoding="rgb8",
                                    is_bigendian=0, step=w * 3,
                                    data=np.ascontiguousarray(frame.rgb).tobytes()))
        self._pub_depth.publish(Image(
            header=header, height=h, width=w, encoding="32FC1",
            is_bigendian=int(sys.byteorder == "big"), step=w * 4,
            data=np.ascontiguousarray(frame.depth, dtype=np.float32).tobytes()))
        k = frame.K
        info = CameraInfo(header=header, height=h, width=w, distortion_model="plumb_bob",
                          d=[0.0] * 5, k=k.flatten().tolist(), r=np.eye(3).flatten().tolist(),
                          p=[k[0, 0], 0.0, k[0, 2], 0.0, 0.0, k[1, 1], k[1, 2], 0.0,
                             0.0, 0.0, 1.0, 0.0])
        self._pub_rgb_info.publish(info)
        self._pub_depth_info.publish(info)
