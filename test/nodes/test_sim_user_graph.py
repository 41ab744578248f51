"""The simulated user drives the real node graph over DDS: sim_node (realtime PyBullet) ->
executor_node <- shared_autonomy_node <- /joy, /ifagent/speech/text -> correction_node, all
started with bringup's start_graph in one process on a private domain."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from ros_helpers import private_domain_id

from ifagent_ros.bringup import NODE_REGISTRY, start_graph

MODEL = Path(__file__).resolve().parents[2] / "models" / "lilac.pt"
REGISTRY = {**NODE_REGISTRY,
            "shared_autonomy_node": "ifagent_ros.nodes.shared_autonomy_node",
            "correction_node": "ifagent_ros.nodes.correction_node",
            "sim_user_node": "ifagent_ros.nodes.sim_user_node"}


def _params(model: Path | None) -> dict[str, dict]:
    return {
        "sim_node": {"camera.enabled": False, "ground_truth_rate_hz": 20.0, "seed": 3},
        "executor_node": {"control_rate_hz": 250.0},
        # No perception here: the controller takes the simulator's ground truth as objects.
        "shared_autonomy_node": {"model_path": str(model) if model else "",
                                 "objects_topic": "/sim/ground_truth"},
        "correction_node": {},
        # Without a model the node is plain EE teleop (X cycles modes, B closes): the same
        # person drives it with the mode-switching strategy.
        "sim_user_node": {"task": "pick_place_bowl", "seed": 3,
                          "condition": "lilac" if model else "teleop",
                          "buttons.gripper_close": 1, "buttons.gripper_open": 3},
    }


def test_sim_user_moves_the_arm_towards_the_first_waypoint_through_the_graph() -> None:
    model = MODEL if MODEL.is_file() else None
    with start_graph(_params(model), registry=REGISTRY, domain_id=private_domain_id()) as graph:
        user = graph.nodes["sim_user_node"]
        deadline = time.monotonic() + 20.0
        while user.distance is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert user.distance is not None, "the user never saw the arm and the objects"
        first_label = user.status()["waypoint"]
        start = user.distance
        best = start
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and graph.error is None:
            time.sleep(0.2)
            s = user.status()
            if s["waypoint_index"] > 0:  # reached it
                best = 0.0
                break
            best = min(best, s["distance"])
            if start - best > 0.15:
                break
        assert graph.error is None, graph.error
        sa = graph.nodes["shared_autonomy_node"].status()
        assert start - best > 0.1, (first_label, start, best, user.status(), sa)
        # The commands came from the user's /joy through the shared-autonomy node.
        assert graph.nodes["shared_autonomy_node"].twists_sent > 0
        assert np.isfinite(best)


def test_sim_user_node_names_the_known_conditions_for_an_unknown_one(ros_context) -> None:
    from rclpy.parameter import Parameter

    from ifagent_ros.nodes.sim_user_node import SimUserNode

    with pytest.raises(ValueError, match="'lilacc'.*teleop, bc, lila, lilac"):
        SimUserNode(context=ros_context,
                    parameter_overrides=[Parameter("condition", value="lilacc")])


def test_sim_user_node_takes_its_interface_from_the_condition_table(ros_context) -> None:
    from rclpy.parameter import Parameter

    from ifagent_ros.core.latent_actions.conditions import CONDITIONS
    from ifagent_ros.nodes.sim_user_node import SimUserNode

    for name in ("bc", "lilac"):
        node = SimUserNode(context=ros_context, node_name=f"sim_user_{name}",
                           parameter_overrides=[Parameter("condition", value=name)])
        try:
            assert node.session.condition == name == node.status()["condition"]
            assert node.user.interface == CONDITIONS[name].interface
            assert node.user.corrections_enabled == CONDITIONS[name].speaks
        finally:
            node.destroy_node()
