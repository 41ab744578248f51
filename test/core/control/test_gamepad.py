"""The one gamepad layout: defaults are joy_node's Xbox layout, bad layouts fail at config time."""

from __future__ import annotations

import pytest

from ifagent_ros.core.control.gamepad import XBOX, Button, PadLayout


def test_defaults_are_the_xbox_layout_of_the_spine_contract() -> None:
    pad = PadLayout()
    assert (pad.num_axes, pad.num_buttons) == (8, 11)
    assert (pad.axis_left_x, pad.axis_left_y, pad.axis_right_x, pad.axis_right_y) == (0, 1, 3, 4)
    assert pad.trigger_axes == (2, 5)
    assert pad.deadman == Button.RB == 5 and pad.mode == Button.X == 2
    assert XBOX == pad


def test_neutral_message_rests_triggers_at_one() -> None:
    axes, buttons = PadLayout().neutral()
    assert axes == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert buttons == [0] * 11


def test_shape_error_names_both_counts() -> None:
    pad = PadLayout()
    assert pad.shape_error([0.0] * 8, [0] * 11) is None
    assert pad.shape_error([0.0] * 6, [0] * 11) == "6 axes / 11 buttons, expected 8 / 11"
    assert pad.shape_error([0.0] * 8, [0] * 12) == "8 axes / 12 buttons, expected 8 / 11"


def test_trigger_axes_from_a_ros_array_become_a_tuple() -> None:
    assert PadLayout(trigger_axes=[2, 5]).trigger_axes == (2, 5)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_axes": 0}, "num_axes"),
    ({"axis_left_x": 8}, "axis_left_x=8"),
    ({"axis_right_y": -1}, "axis_right_y=-1"),
    ({"trigger_axes": (2, 9)}, r"trigger_axes\[1\]=9"),
    ({"deadman": 11}, "deadman=11"),
    ({"mode": -1}, "mode=-1"),
    ({"sign_left_y": 0.5}, "sign_left_y"),
    ({"axis_limit": 0.9}, "axis_limit"),
    ({"axis_limit": float("inf")}, "axis_limit"),
    ({"deadband": 1.0}, "deadband"),
    ({"num_buttons": 4}, "deadman=5 outside 0..3"),
])
def test_bad_layouts_are_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PadLayout(**kwargs)  # type: ignore[arg-type]


def test_check_button_for_a_config_role() -> None:
    PadLayout().check_button("button_gripper_open", Button.B)
    with pytest.raises(ValueError, match="button_undo=11 outside 0..10"):
        PadLayout().check_button("button_undo", 11)
