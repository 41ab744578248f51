"""QoS profiles are defined once, in nodes/topics.py: the latched e-stop is one profile for its
publishers and subscribers, and the recorder adapts to what publishers offer."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from ifagent_ros.nodes import topics

PACKAGE = Path(__file__).resolve().parents[2] / "ifagent_ros"


def test_the_estop_is_latched_and_reliable() -> None:
    assert topics.ESTOP_QOS is topics.LATCHED_QOS
    qos = topics.ESTOP_QOS
    assert qos.reliability == ReliabilityPolicy.RELIABLE
    assert qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert qos.depth == 1
    assert topics.latched_qos(100).depth == 100
    assert topics.latched_qos(100).durability == DurabilityPolicy.TRANSIENT_LOCAL


@dataclass
class Endpoint:  # what rclpy's TopicEndpointInfo offers matching_qos
    qos_profile: QoSProfile


def _offer(reliable: bool, latched: bool) -> Endpoint:
    return Endpoint(QoSProfile(
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE))


@pytest.mark.parametrize(("offers", "reliable", "latched"), [
    ([(True, True)], True, True),  # the e-stop: a late recorder still gets the latched stop
    ([(True, True), (True, False)], True, False),  # one volatile publisher: volatile
    ([(False, False), (True, False)], False, False),  # a best-effort camera driver
])
def test_matching_qos_receives_from_every_publisher(offers: list[tuple[bool, bool]],
                                                    reliable: bool, latched: bool) -> None:
    qos = topics.matching_qos([_offer(*o) for o in offers], depth=50)  # type: ignore[misc]
    assert qos.depth == 50
    assert (qos.reliability == ReliabilityPolicy.RELIABLE) == reliable
    assert (qos.durability == DurabilityPolicy.TRANSIENT_LOCAL) == latched


def test_no_module_but_topics_builds_a_qos_profile() -> None:
    """A QoS profile written out twice can drift apart, and on a latched safety topic a
    publisher and a subscriber that disagree never match."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "nodes" / "topics.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "QoSProfile"):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, f"use nodes/topics.py's profiles instead: {offenders}"
