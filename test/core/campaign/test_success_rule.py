"""The one shared-autonomy success rule (tasks/shared_autonomy.SuccessJudge) that the in-process
evaluation, the episode driver and the bag metrics share, and the relay's ROS-free parts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ifagent_ros.core.campaign.impairments import ActiveFault
from ifagent_ros.core.campaign.relay import GarbageClock, RelayConfig, RelayRoutes, RouteState
from ifagent_ros.core.campaign.tasks.shared_autonomy import (
    SETTLE_S,
    UNKNOWN_GRIPPER_WIDTH,
    SuccessJudge,
    settled,
)
from ifagent_ros.core.latent_actions.tasks import FAR_X, ObjectState, TaskInstance

TASK = TaskInstance("far_side", {"block_id": "b"}, "put the block on the far side", "heldout")
START = {"b": ObjectState("b", "block", "red", np.array([0.45, 0.0, 0.02]))}
FAR = {"b": ObjectState("b", "block", "red", np.array([FAR_X + 0.05, 0.0, 0.02]))}
ABOVE = np.array([FAR_X + 0.05, 0.0, 0.05])   # the hand still at the block
AWAY = np.array([0.4, 0.0, 0.3])


def test_success_is_the_first_sample_the_check_holds_on_and_stays() -> None:
    judge = SuccessJudge(TASK, START)
    assert judge.observe(1.0, START, 0.08, AWAY) is False and not judge.success
    assert judge.observe(2.0, FAR, 0.08, ABOVE) is True  # released: gripper open
    assert judge.first_success == 2.0 and judge.success
    assert judge.observe(2.5, START, 0.08, AWAY) is False  # a later slip does not undo it
    assert judge.success and judge.first_success == 2.0 and judge.last is False


def test_an_unknown_gripper_opening_counts_as_closed() -> None:
    assert UNKNOWN_GRIPPER_WIDTH < 0.06  # closed: holds what it is at
    judge = SuccessJudge(TASK, START)
    assert judge.observe(1.0, FAR, None, ABOVE) is False          # closed at the block
    assert judge.observe(1.1, FAR, math.nan, ABOVE) is False      # not measurable: the same
    assert judge.observe(1.2, FAR, None, AWAY) is True            # the hand left it: released


def test_the_episode_ends_settle_s_after_the_first_success() -> None:
    assert SETTLE_S == 1.0
    judge = SuccessJudge(TASK, START)
    judge.observe(3.0, FAR, 0.08, AWAY)
    assert not judge.settled(3.0 + SETTLE_S - 0.01) and judge.settled(3.0 + SETTLE_S)
    assert not settled(None, 100.0) and settled(1.0, 1.5, settle_s=0.5)


def test_relay_config_names_what_is_wrong() -> None:
    ok = RelayConfig(RelayRoutes(inputs=["/raw/joy"], outputs=["/joy"],
                                 types=["sensor_msgs/msg/Joy"], latency_s=[0.01]))
    (route,) = ok.route_list()
    assert route.link.latency_s == 0.01 and route.link.drop_rate == 0.0
    with pytest.raises(ValueError, match="joy_topic /joy is routed with type std_msgs"):
        RelayConfig(RelayRoutes(inputs=["/a"], outputs=["/joy"],
                                types=["std_msgs/msg/String"])).validate()
    with pytest.raises(ValueError, match="the relay would loop"):
        RelayConfig(RelayRoutes(inputs=["/a"], outputs=["/a"],
                                types=["sensor_msgs/msg/Joy"])).validate()


def test_route_state_freezes_and_releases_in_order() -> None:
    (route,) = RelayConfig(RelayRoutes(inputs=["/raw/js"], outputs=["/joint_states"],
                                       types=["sensor_msgs/msg/JointState"])).route_list()
    st = RouteState.of(route, seed=1)
    assert st.freezes == "stale_joint_states"
    st.last = b"old"
    assert st.frozen_message(b"new") == b"old" and st.frozen_message(b"newer") == b"old"
    st.queue.extend([(1.0, b"a"), (2.0, b"b"), (3.0, b"c")])
    assert st.due(2.0) == [b"a", b"b"] and st.forwarded == 2 and st.due(2.5) == []


def test_a_garbage_burst_is_ceil_duration_times_rate_however_late() -> None:
    burst = ActiveFault("joy_garbage", start=10.0, duration_s=0.5, magnitude=50.0, seed=0)
    clock = GarbageClock()
    assert clock.due(burst, 10.0) == 1            # the first one at the start
    assert clock.due(burst, 10.1) == 5            # 10.02 .. 10.10
    assert clock.due(burst, 99.0) == 19           # late: the rest, never past the end
    assert clock.sent == math.ceil(0.5 * 50.0) and clock.due(burst, 100.0) == 0
