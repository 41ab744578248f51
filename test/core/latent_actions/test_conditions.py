"""The one condition table (teleop / bc / lila / lilac) and the readers that share it."""

from __future__ import annotations

import pytest

from ifagent_ros.core.latent_actions.conditions import CONDITIONS, Condition, get_condition


def test_the_four_conditions_of_the_comparison() -> None:
    assert list(CONDITIONS) == ["teleop", "bc", "lila", "lilac"]
    assert [(c.interface, c.model_file, c.speaks) for c in CONDITIONS.values()] == [
        ("teleop", None, False), ("policy", "bc.pt", False), ("latent", "lila.pt", False),
        ("latent", "lilac.pt", True)]
    assert all(name == c.name for name, c in CONDITIONS.items())


def test_get_condition_names_the_known_ones() -> None:
    assert get_condition("lilac") is CONDITIONS["lilac"]
    with pytest.raises(ValueError, match="'lilacc'.*teleop, bc, lila, lilac"):
        get_condition("lilacc")


def test_a_condition_must_fit_its_interface() -> None:
    with pytest.raises(ValueError, match="interface"):
        Condition("x", "joystick", None, speaks=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs a model"):
        Condition("x", "latent", None, speaks=True)
    with pytest.raises(ValueError, match="takes no model"):
        Condition("x", "teleop", "m.pt", speaks=False)


def test_the_evaluation_reads_the_same_table() -> None:
    from ifagent_ros.bench import shared_autonomy

    assert shared_autonomy.CONDITIONS is CONDITIONS
