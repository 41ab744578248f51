"""Gamepad -> end-effector twist mapping: the mode-switching teleop baseline (ROS-free).

This is the baseline that LILAC and Losey et al. compare against: a 2-DoF stick drives a
6-DoF end effector by cycling through control modes with one button.

Modes (cycled with the mode button, X by default, on its rising edge only):

* ``TRANSLATE_XY``    left stick up -> +x (forward, away from the robot), left -> +y.
* ``TRANSLATE_Z_YAW`` left stick up -> +z, left -> +yaw (counter-clockwise seen from above).
* ``ROTATE``          left stick left -> +roll (about x), up -> -pitch (about y).
  With the gripper pointing down this makes the fingertips follow the stick (left -> tip moves
  +y, up -> tip moves +x), which is what operators expect.

Right stick (``right_stick_enabled``, default on; switch it off for a strict 2-DoF baseline):

* ``TRANSLATE_XY``    right up -> +z, right left -> +yaw.
* ``TRANSLATE_Z_YAW`` right up -> +x, right left -> +y.
* ``ROTATE``          right left -> +yaw.

Gripper: A (button 0) rising edge -> close (width 0.0), B (button 1) rising edge -> open (0.08 m).
If both rise in the same message, close wins (the conservative choice when grasping).

Every stick value goes through a rescaled deadband, ``(|v| - d) / (1 - d)``, so the output is 0 at
the deadband edge and grows continuously from there (no jump to ``d * vmax``). Linear and angular
parts are then norm-clipped separately to ``max_linear_speed`` / ``max_angular_speed``, so a
diagonal push is not sqrt(2) faster than a straight one.

Bad input (wrong axis/button counts, NaN/inf, axes outside ``[-axis_limit, axis_limit]``, values
that are not numbers) gives a zero twist and a ``rejection`` reason; ``update`` never raises.
A rejected message does not change the button edge state, so a press is not lost or doubled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from ifagent_ros.core.control.gamepad import Button, PadLayout

Vec3 = tuple[float, float, float]
ZERO3: Vec3 = (0.0, 0.0, 0.0)


class TeleopMode(str, Enum):
    """Control mode; the value is what ``/ifagent/teleop/status`` reports."""

    TRANSLATE_XY = "translate_xy"
    TRANSLATE_Z_YAW = "translate_z_yaw"
    ROTATE = "rotate"


# Order of the cycle the mode button walks through (wraps around).
MODE_CYCLE: tuple[TeleopMode, ...] = (
    TeleopMode.TRANSLATE_XY,
    TeleopMode.TRANSLATE_Z_YAW,
    TeleopMode.ROTATE,
)


def next_mode(mode: TeleopMode) -> TeleopMode:
    """The mode one button press after ``mode``."""
    return MODE_CYCLE[(MODE_CYCLE.index(mode) + 1) % len(MODE_CYCLE)]


@dataclass(frozen=True)
class TeleopConfig:
    """Everything the mapping needs; each field is a ROS parameter of ``teleop_node``.

    The sticks, signs, counts, deadband and mode button are the pad's (:class:`PadLayout`,
    defaults: the Xbox layout joy_node reports, see docs/spine_contract.md).
    """

    pad: PadLayout = field(default_factory=PadLayout)
    button_gripper_close: int = int(Button.A)
    button_gripper_open: int = int(Button.B)
    max_linear_speed: float = 0.15  # m/s
    max_angular_speed: float = 0.6  # rad/s
    right_stick_enabled: bool = True
    gripper_open_width: float = 0.08  # m
    gripper_closed_width: float = 0.0  # m
    # A mode name (a ROS parameter is a string); it is a TeleopMode once the config is built.
    initial_mode: Literal["translate_xy", "translate_z_yaw", "rotate"] = "translate_xy"
    frame_id: str = "base_link"

    def __post_init__(self) -> None:
        # Fail at configuration time, so that update() itself never has to raise.
        for name in ("button_gripper_close", "button_gripper_open"):
            self.pad.check_button(name, getattr(self, name))
        for name in ("max_linear_speed", "max_angular_speed"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"{name} must be finite and > 0")
        if not isinstance(self.initial_mode, TeleopMode):
            object.__setattr__(self, "initial_mode", TeleopMode(self.initial_mode))


@dataclass(frozen=True)
class TeleopOutput:
    """One mapped gamepad message. ``linear`` in m/s, ``angular`` in rad/s, both in ``frame_id``."""

    linear: Vec3
    angular: Vec3
    mode: TeleopMode
    stamp: float
    gripper_width: float | None = None  # set only on a gripper button's rising edge
    rejection: str | None = None
    mode_changed: bool = False
    frame_id: str = "base_link"

    @property
    def valid(self) -> bool:
        return self.rejection is None


def apply_deadband(value: float, deadband: float) -> float:
    """Rescaled deadband: 0 inside, then linear from 0 at the edge to +/-1 at full deflection."""
    mag = abs(value)
    if mag <= deadband:
        return 0.0
    return math.copysign(min(1.0, (mag - deadband) / (1.0 - deadband)), value)


def clip_norm(vec: Vec3, max_norm: float) -> Vec3:
    """Scale ``vec`` down (direction kept) so its Euclidean norm is at most ``max_norm``."""
    norm = math.sqrt(vec[0] ** 2 + vec[1] ** 2 + vec[2] ** 2)
    if norm <= max_norm or norm == 0.0:
        return vec
    # A hair under 1 so rounding in the multiply cannot push the norm past the limit.
    scale = max_norm / norm * (1.0 - 1e-12)
    return (vec[0] * scale, vec[1] * scale, vec[2] * scale)


def _as_float(value: object) -> float | None:
    """``float(value)`` for real numbers (incl. numpy scalars); None for bools, strings, others."""
    if isinstance(value, (bool, str, bytes)):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class _EdgeState:
    buttons: list[bool] = field(default_factory=list)

    def rising(self, pressed: list[bool], index: int) -> bool:
        was = self.buttons[index] if index < len(self.buttons) else False
        return pressed[index] and not was


class TeleopMapper:
    """Stateful gamepad -> twist mapper (holds the mode and the previous buttons for edges)."""

    def __init__(self, config: TeleopConfig | None = None) -> None:
        self.config = config if config is not None else TeleopConfig()
        self._mode = self.config.initial_mode
        # Start from "nothing pressed", so a press already present in the first message counts.
        self._edges = _EdgeState()

    @property
    def mode(self) -> TeleopMode:
        return self._mode

    def reset(self) -> None:
        """Back to the initial mode with no buttons remembered."""
        self._mode = self.config.initial_mode
        self._edges = _EdgeState()

    def update(self, axes: Sequence[float], buttons: Sequence[int], stamp: float) -> TeleopOutput:
        """Map one gamepad message. Never raises: bad input -> zero twist + ``rejection``."""
        try:
            return self._update(axes, buttons, stamp)
        except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
            return self._reject(f"internal error: {type(exc).__name__}: {exc}", stamp)

    def _reject(self, reason: str, stamp: float) -> TeleopOutput:
        return TeleopOutput(
            linear=ZERO3,
            angular=ZERO3,
            mode=self._mode,
            stamp=stamp,
            rejection=reason,
            frame_id=self.config.frame_id,
        )

    def _parse(
        self, axes: Sequence[float], buttons: Sequence[int]
    ) -> tuple[str | None, list[float], list[bool]]:
        """Check counts, types and ranges; return (reason, axes as floats, pressed flags)."""
        pad = self.config.pad
        if len(axes) != pad.num_axes:
            return f"expected {pad.num_axes} axes, got {len(axes)}", [], []
        if len(buttons) != pad.num_buttons:
            return f"expected {pad.num_buttons} buttons, got {len(buttons)}", [], []
        values: list[float] = []
        for i, a in enumerate(axes):
            f = _as_float(a)
            if f is None:
                return f"axis {i} is not a number: {a!r}", [], []
            if not math.isfinite(f):
                return f"axis {i} is not finite: {f}", [], []
            if abs(f) > pad.axis_limit:
                return f"axis {i} out of range: {f}", [], []
            values.append(f)
        pressed: list[bool] = []
        for i, b in enumerate(buttons):
            f = _as_float(b)
            if f is None or not math.isfinite(f):
                return f"button {i} is not a number: {b!r}", [], []
            if f not in (0.0, 1.0):  # joy_node sends 0/1: anything else is a broken driver
                return f"button {i} is {b!r}, not 0 or 1", [], []
            pressed.append(f == 1.0)
        return None, values, pressed

    def _update(self, axes: Sequence[float], buttons: Sequence[int], stamp: float) -> TeleopOutput:
        cfg, pad = self.config, self.config.pad
        reason, axes_f, pressed = self._parse(axes, buttons)
        if reason is not None:
            return self._reject(reason, stamp)

        mode_changed = False
        if self._edges.rising(pressed, pad.mode):
            self._mode = next_mode(self._mode)
            mode_changed = True
        gripper: float | None = None
        if self._edges.rising(pressed, cfg.button_gripper_close):
            gripper = cfg.gripper_closed_width
        elif self._edges.rising(pressed, cfg.button_gripper_open):
            gripper = cfg.gripper_open_width
        self._edges.buttons = pressed

        db = pad.deadband
        lx = pad.sign_left_x * apply_deadband(axes_f[pad.axis_left_x], db)
        ly = pad.sign_left_y * apply_deadband(axes_f[pad.axis_left_y], db)
        if cfg.right_stick_enabled:
            rx = pad.sign_right_x * apply_deadband(axes_f[pad.axis_right_x], db)
            ry = pad.sign_right_y * apply_deadband(axes_f[pad.axis_right_y], db)
        else:
            rx = ry = 0.0

        v, w = cfg.max_linear_speed, cfg.max_angular_speed
        if self._mode is TeleopMode.TRANSLATE_XY:
            linear: Vec3 = (ly * v, lx * v, ry * v)
            angular: Vec3 = (0.0, 0.0, rx * w)
        elif self._mode is TeleopMode.TRANSLATE_Z_YAW:
            linear = (ry * v, rx * v, ly * v)
            angular = (0.0, 0.0, lx * w)
        else:  # ROTATE
            linear = ZERO3
            angular = (lx * w, -ly * w, rx * w)

        return TeleopOutput(
            linear=clip_norm(linear, v),
            angular=clip_norm(angular, w),
            mode=self._mode,
            stamp=stamp,
            gripper_width=gripper,
            rejection=None,
            mode_changed=mode_changed,
            frame_id=cfg.frame_id,
        )
