"""SimUserSession: the simulated person as sim_user_node runs it, without ROS."""

from __future__ import annotations

import numpy as np

from ifagent_ros.core.latent_actions.sim_user import SimulatedUser, SimUserConfig
from ifagent_ros.core.latent_actions.sim_user_session import SimUserSession, SimUserStatus
from ifagent_ros.core.latent_actions.tasks import ObjectState, Waypoint

GOAL = np.array([0.5, 0.0, 0.2])


class ReachTask:
    """A task-like object: one waypoint; success is the end effector within 1 cm of it."""

    family = "reach"
    text = "reach the goal"

    def waypoints(self, objects):  # the TaskInstance signature
        return [Waypoint(GOAL.copy(), None, 0.01, "goal")]

    def __init__(self) -> None:
        self.widths: list[float] = []  # what the success check was given

    def success(self, objects, start, width, ee) -> bool:
        assert start is not None and "cube" in start
        self.widths.append(width)
        return float(np.linalg.norm(np.asarray(ee) - GOAL)) < 0.01


def fk(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(q[:3], dtype=float), np.eye(3)


def session(interface: str = "latent") -> SimUserSession:
    user = SimulatedUser(ReachTask(), interface, SimUserConfig(seed=1, reaction_delay_s=0.0),
                         corrections=False)  # type: ignore[arg-type]
    return SimUserSession(user, "lila", fk, stale_s=0.5, repeat_s=1.0)


CUBE = {"cube": ObjectState("cube", "block", "red", np.array([0.6, 0.1, 0.02]))}


def test_instruction_is_repeated_until_the_interface_shows_it() -> None:
    s = session()
    sent = [t for t in np.arange(0.0, 3.0, 0.05) if s.tick(float(t)).instruction]
    assert np.allclose(sent, [0.0, 1.0, 2.0])
    s.on_interface_status({"instruction": "something else"})
    assert s.tick(3.0).instruction == "reach the goal"
    s.on_interface_status({"instruction": "reach the goal"})
    assert s.tick(4.5).instruction is None and s.status(4.5).instruction_acknowledged
    assert session("teleop").tick(0.0).instruction is None  # teleop_node takes none


def test_hands_off_until_it_sees_a_fresh_arm_and_the_objects() -> None:
    s = session()
    deadman = s.user.pad.layout.deadman
    assert s.tick(0.0).out.buttons[deadman] == 0  # nothing seen
    s.on_objects(CUBE)
    s.on_arm(np.array([np.nan] * 7), 0.08, 0.1)  # ignored
    assert s.tick(0.1).out.buttons[deadman] == 0 and s.distance is None
    s.on_arm(np.array([0.3, 0.0, 0.2, 0, 0, 0, 0]), 0.08, 0.2)
    s.tick(0.2)  # the first look plans the waypoints ...
    s.tick(0.25)  # ... and from then on it knows how far the goal is
    assert s.distance is not None and abs(s.distance - 0.2) < 1e-9
    s.on_arm(np.array([*GOAL, 0, 0, 0, 0]), 0.08, 0.3)
    s.tick(1.0)  # that view is 0.7 s old (> stale_s): the person does not see it
    assert abs(s.distance - 0.2) < 1e-9
    s.on_arm(np.array([*GOAL, 0, 0, 0, 0]), 0.08, 1.1)
    s.tick(1.1)
    assert s.distance < 1e-9


def test_success_is_judged_once_against_the_first_scene() -> None:
    s = session()
    s.on_objects(CUBE)
    s.on_arm(np.array([0.3, 0.0, 0.2, 0, 0, 0, 0]), 0.08, 1.0)
    assert s.tick(1.0).events == []
    s.on_objects({})  # later views do not replace the start scene
    s.on_arm(np.array([*GOAL, 0, 0, 0, 0]), 0.08, 3.5)
    tick = s.tick(3.5)
    assert tick.events == ["task done in 2.5 s"]
    assert s.tick(3.6).events == []  # once
    status = s.status(4.0)
    assert isinstance(status, SimUserStatus)
    assert (status.success, status.time_to_success_s, status.task, status.condition) == (
        True, 2.5, "reach", "lila")


def test_the_verdict_is_the_shared_success_rule() -> None:
    from ifagent_ros.core.campaign.tasks.shared_autonomy import UNKNOWN_GRIPPER_WIDTH

    s = session()
    s.on_objects(CUBE)
    s.on_arm(np.array([0.3, 0.0, 0.2, 0, 0, 0, 0]), None, 0.0)  # no finger joints seen
    s.tick(0.0)
    s.on_arm(np.array([0.3, 0.0, 0.2, 0, 0, 0, 0]), 0.05, 0.1)
    s.tick(0.1)
    assert s.task.widths == [UNKNOWN_GRIPPER_WIDTH, 0.05]
