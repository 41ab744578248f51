"""The pacing loop both sim nodes share (ROS-free parts on a fake clock), and the house node on
its own."""

from __future__ import annotations

import pytest
from rclpy.context import Context
from rclpy.parameter import Parameter

from ifagent_ros.nodes.house_sim_node import HouseSimNode
from ifagent_ros.nodes.params import ParameterError
from ifagent_ros.nodes.sim_base import MAX_CATCHUP_S, MIN_TICK_S, PacedLoop, RateSchedule

DT = 1.0 / 240.0


class FakeSim:
    """A clock that advances one timestep per step; wall time is set by the test."""

    def __init__(self) -> None:
        self.time = 0.0
        self.wall = 100.0
        self.steps = 0

    def step(self) -> None:
        self.time += DT
        self.steps += 1


def loop(sim: FakeSim, **kw: object) -> PacedLoop:
    return PacedLoop(sim.step, lambda: sim.time, DT, wall=lambda: sim.wall, **kw)  # type: ignore[arg-type]


def test_real_time_keeps_sim_time_at_time_scale_times_the_wall_clock() -> None:
    sim = FakeSim()
    paced = loop(sim, time_scale=2.0)
    assert paced.tick_period == pytest.approx(DT / 2.0)
    assert paced.tick() == 0  # no wall time has passed
    for _ in range(50):
        sim.wall += 0.01
        paced.tick()
    assert sim.time == pytest.approx(2.0 * 0.5, abs=DT)


def test_a_stall_drops_the_backlog_instead_of_fast_forwarding() -> None:
    sim = FakeSim()
    paced = loop(sim)
    sim.wall += 2.0  # a two-second stall
    cap = paced.pacer.cap
    assert paced.tick() == cap == int(MAX_CATCHUP_S / DT)
    assert sim.time == pytest.approx(MAX_CATCHUP_S, abs=DT)
    for _ in range(30):
        sim.wall += 0.01
        paced.tick()  # paced from the stall's end, not from the start (2.3 s behind)
    assert sim.time == pytest.approx(0.3, abs=DT)


def test_not_real_time_steps_in_batches_as_fast_as_it_can() -> None:
    sim = FakeSim()

    def step() -> None:
        sim.step()
        sim.wall += 0.001  # each step costs a millisecond

    paced = PacedLoop(step, lambda: sim.time, DT, realtime=False, batch_s=0.005,
                      wall=lambda: sim.wall)
    assert paced.tick_period == 0.001
    assert paced.tick() == 5
    assert max(loop(FakeSim(), time_scale=100.0).tick_period, MIN_TICK_S) == MIN_TICK_S


def test_rate_schedule_is_due_once_per_period_without_bursts() -> None:
    schedule = RateSchedule({"cam": 0.2})
    assert schedule.due("cam", 0.0)
    assert not schedule.due("cam", 0.1)
    assert schedule.due("cam", 0.2)
    assert schedule.due("cam", 1.0)  # after a gap: once ...
    assert not schedule.due("cam", 1.05)  # ... and not again at once to catch up
    assert schedule.due("cam", 1.1)


def test_the_house_node_on_its_own(ros_context: Context) -> None:
    node = HouseSimNode(context=ros_context, parameter_overrides=[
        Parameter("start", value=[2.3, 2.2, 0.0]), Parameter("camera.enabled", value=False),
        Parameter("realtime", value=False)])
    try:
        assert node.get_name() == "house_sim_node" and node.params.world == "house"
        assert node.sim.base_pose()[:2] == pytest.approx((2.3, 2.2))
    finally:
        node.close()
        node.close()  # idempotent
        node.destroy_node()
    with pytest.raises(ParameterError, match="parameter world is 'tabletop', which sim_node runs"):
        HouseSimNode(context=ros_context, parameter_overrides=[
            Parameter("world", value="tabletop")])
