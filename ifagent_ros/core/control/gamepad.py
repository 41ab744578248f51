"""The one gamepad layout (ROS-free): which ``sensor_msgs/Joy`` index means what.

Every reader and writer of ``/joy`` takes its indices from a :class:`PadLayout`: the executor (the
deadman), teleop and the shared-autonomy controller (sticks, mode button), the scripted operator
and the simulated user (what they press). Defaults are the Xbox layout joy_node reports
(docs/spine_contract.md):

* axes: 0 left-X (left = +1), 1 left-Y (up = +1), 2 LT (+1 released .. -1 pressed), 3 right-X,
  4 right-Y, 5 RT, 6 dpad-X, 7 dpad-Y;
* buttons: 0 A, 1 B, 2 X, 3 Y, 4 LB, 5 RB, 6 back, 7 start, 8 guide, 9 LS, 10 RS.

Buttons whose meaning depends on the interface (which button closes the gripper: A in teleop, B in
shared autonomy) stay in that interface's config, written with the :class:`Button` names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum


class Button(IntEnum):
    """Xbox button indices as joy_node reports them."""

    A = 0
    B = 1
    X = 2
    Y = 3
    LB = 4
    RB = 5
    BACK = 6
    START = 7
    GUIDE = 8
    LEFT_STICK = 9
    RIGHT_STICK = 10


@dataclass(frozen=True)
class PadLayout:
    """A gamepad's shape and the roles every node agrees on. Each field is a ROS parameter
    ``pad.<field>`` of the nodes that read or write ``/joy``."""

    num_axes: int = 8  # a Joy message with another count is rejected
    num_buttons: int = 11
    axis_left_x: int = 0  # left = +1
    axis_left_y: int = 1  # up = +1
    axis_right_x: int = 3
    axis_right_y: int = 4
    # Multiplied onto the raw stick value, to fix pads whose axes report the other way round.
    sign_left_x: float = 1.0
    sign_left_y: float = 1.0
    sign_right_x: float = 1.0
    sign_right_y: float = 1.0
    # Triggers report +1 when released (joy_node convention): they rest at 1.0, not 0.0.
    trigger_axes: tuple[int, ...] = (2, 5)
    # Some pads overshoot 1.0 slightly; beyond this an axis value is taken as a broken message.
    axis_limit: float = 1.05
    # Rescaled stick deadband the interfaces apply (and a scripted person pushes past).
    deadband: float = 0.1
    deadman: int = int(Button.RB)  # motion only while held (read by the executor)
    mode: int = int(Button.X)  # cycles the end-effector teleop modes

    def __post_init__(self) -> None:
        if not isinstance(self.trigger_axes, tuple):  # a ROS array parameter arrives as a list
            object.__setattr__(self, "trigger_axes", tuple(int(i) for i in self.trigger_axes))
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field that cannot describe a pad."""
        for name in ("num_axes", "num_buttons"):
            if getattr(self, name) < 1:
                raise ValueError(f"pad.{name} must be >= 1")
        axes = {name: getattr(self, name)
                for name in ("axis_left_x", "axis_left_y", "axis_right_x", "axis_right_y")}
        axes.update({f"trigger_axes[{i}]": idx for i, idx in enumerate(self.trigger_axes)})
        for name, idx in axes.items():
            if not 0 <= idx < self.num_axes:
                raise ValueError(f"pad.{name}={idx} outside 0..{self.num_axes - 1}")
        for name in ("deadman", "mode"):
            self.check_button(name, getattr(self, name))
        for name in ("sign_left_x", "sign_left_y", "sign_right_x", "sign_right_y"):
            if getattr(self, name) not in (1.0, -1.0):
                raise ValueError(f"pad.{name} must be +1 or -1")
        if not (math.isfinite(self.axis_limit) and self.axis_limit >= 1.0):
            raise ValueError("pad.axis_limit must be finite and >= 1")
        if not 0.0 <= self.deadband < 1.0:
            raise ValueError("pad.deadband must be in [0, 1)")

    def check_button(self, name: str, index: int) -> None:
        """Raise ValueError unless ``index`` is a button of this pad (for a config's own roles)."""
        if not 0 <= index < self.num_buttons:
            raise ValueError(f"{name}={index} outside 0..{self.num_buttons - 1}")

    def shape_error(self, axes: Sequence[object], buttons: Sequence[object]) -> str | None:
        """Why a Joy message does not fit this pad (wrong counts), or None."""
        if len(axes) != self.num_axes or len(buttons) != self.num_buttons:
            return (f"{len(axes)} axes / {len(buttons)} buttons, "
                    f"expected {self.num_axes} / {self.num_buttons}")
        return None

    def neutral(self) -> tuple[list[float], list[int]]:
        """A message of this pad untouched: sticks centred, triggers released, nothing pressed."""
        axes = [0.0] * self.num_axes
        for idx in self.trigger_axes:
            axes[idx] = 1.0
        return axes, [0] * self.num_buttons


XBOX = PadLayout()
