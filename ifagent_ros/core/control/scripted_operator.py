"""A scripted "person with a gamepad" that drives the teleop baseline to a goal (ROS-free).

It only sees what a person sees (where the gripper is, where the goal is) and only does what a
person can do with the pad: hold RB (the executor's deadman), push the left stick, and press the
mode button once at a time. It never reads teleop's internals, so a demo run with it exercises the
same path (``/joy`` -> teleop -> executor) as a human operator.

Strategy, in the order a person would do it:

1. hold the deadman with the stick centred for a moment (the executor must see RB first);
2. if the gripper is well below the goal height, rise first (TRANSLATE_Z_YAW), so it does not sweep
   through blocks on the table;
3. align x/y in TRANSLATE_XY, pushing the stick in proportion to the error;
4. press the mode button to get to TRANSLATE_Z_YAW and move z; if x/y drifts beyond a looser
   threshold (hysteresis), switch back (two presses: the cycle is XY -> Z_YAW -> ROTATE -> XY);
5. within tolerance: centre the stick, wait to see it stays there, release RB, report done.

Teleop's mode is cyclic and not visible on the pad, so the operator keeps a *belief* of the mode
(starting in TRANSLATE_XY, teleop's default) and may correct it from ``/ifagent/teleop/status`` via
:meth:`ScriptedOperator.observe_teleop_mode`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from ifagent_ros.core.control.gamepad import PadLayout
from ifagent_ros.core.control.teleop import MODE_CYCLE, TeleopMode

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class ScriptedOperatorConfig:
    """How the scripted operator behaves and which pad layout it talks to."""

    tolerance: float = 0.02  # m, 3-D distance at which it lets go
    gain: float = 8.0  # stick deflection per metre of error (full stick beyond 1/gain m)
    min_stick: float = 0.05  # smallest useful push after deadband compensation (0..1 speed)
    timeout_s: float = 60.0
    settle_s: float = 0.3  # stick centred, RB held, before releasing RB
    start_s: float = 0.1  # RB held with the stick centred before the first push
    # The pad it presses (deadman, mode button, left stick). Its deadband is teleop's: a person
    # learns to push past it, so the operator compensates for it.
    pad: PadLayout = field(default_factory=PadLayout)
    # Fractions of `tolerance`: align x/y to this before going down ...
    align_xy_fraction: float = 0.4
    # ... go back to x/y only if it drifts past this (hysteresis, avoids mode chatter) ...
    drift_xy_fraction: float = 0.6
    # ... and z is done within this. sqrt(0.6^2 + 0.4^2) = 0.72 < 1, so done means within tolerance.
    z_fraction: float = 0.4
    # Rise first when the goal is this far above the gripper (m).
    rise_margin: float = 0.03
    # Ignore teleop status this long after a press: a status sent before the press may still arrive.
    confirm_grace_s: float = 0.5

    def __post_init__(self) -> None:
        if self.tolerance <= 0 or self.gain <= 0:
            raise ValueError("tolerance and gain must be > 0")


def hover_goal(position: Sequence[float], size: Sequence[float], clearance: float = 0.01) -> Vec3:
    """TCP goal ``clearance`` above the top face of a box centred at ``position``."""
    return (float(position[0]), float(position[1]),
            float(position[2]) + float(size[2]) / 2.0 + clearance)


class ScriptedOperator:
    """Call :meth:`step` once per gamepad message; it returns ``(axes, buttons, done)``."""

    def __init__(self, config: ScriptedOperatorConfig | None = None) -> None:
        self.config = config if config is not None else ScriptedOperatorConfig()
        self.reset()

    def reset(self) -> None:
        self.mode: TeleopMode = TeleopMode.TRANSLATE_XY  # belief; teleop starts here
        self.phase: str = "waiting"
        self.done: bool = False
        self.reached: bool = False
        self.distance: float | None = None
        self._t0: float | None = None
        self._deadman: bool = False
        self._presses_left: int = 0
        self._press_down: bool = False  # the previous message had the mode button pressed
        self._last_press_t: float = -math.inf
        self._settle_since: float | None = None
        self._start_t: float = 0.0

    # -- belief correction ---------------------------------------------------------------------
    def observe_teleop_mode(self, mode: str | TeleopMode, t: float) -> None:
        """Take teleop's reported mode as the truth, unless a press may still be in flight."""
        try:
            observed = TeleopMode(mode)
        except ValueError:
            return
        recent = t - self._last_press_t < self.config.confirm_grace_s
        if self._presses_left or self._press_down or recent:
            return
        self.mode = observed

    # -- pad output helpers ----------------------------------------------------------------------
    def _pad(self, stick_x: float = 0.0, stick_y: float = 0.0,
             mode_pressed: bool = False) -> tuple[list[float], list[int]]:
        pad = self.config.pad
        axes, buttons = pad.neutral()
        axes[pad.axis_left_x] = max(-1.0, min(1.0, pad.sign_left_x * stick_x))
        axes[pad.axis_left_y] = max(-1.0, min(1.0, pad.sign_left_y * stick_y))
        if self._deadman:
            buttons[pad.deadman] = 1
        if mode_pressed:
            buttons[pad.mode] = 1
        return axes, buttons

    def _stick(self, error_a: float, error_b: float) -> tuple[float, float]:
        """Proportional push for a 2-D error, pre-compensated for teleop's rescaled deadband."""
        cfg = self.config
        ua, ub = cfg.gain * error_a, cfg.gain * error_b
        norm = math.hypot(ua, ub)
        if norm < 1e-9:
            return 0.0, 0.0
        # Speed fraction in [min_stick, 1], direction kept (teleop clips the norm, too).
        speed = min(1.0, max(cfg.min_stick, norm))
        ua, ub = ua / norm * speed, ub / norm * speed
        db = cfg.pad.deadband

        def push(u: float) -> float:
            # Inverse of teleop's deadband: stick = d + (1 - d) * u gives speed fraction u.
            return 0.0 if abs(u) < 1e-6 else math.copysign(db + (1.0 - db) * abs(u), u)

        return push(ua), push(ub)

    def _wanted_mode(self, exy: float, ez: float) -> TeleopMode | None:
        """Which mode the next push needs, or None when the goal is reached."""
        cfg = self.config
        align = cfg.align_xy_fraction * cfg.tolerance
        drift = cfg.drift_xy_fraction * cfg.tolerance
        ztol = cfg.z_fraction * cfg.tolerance
        if self.mode is TeleopMode.TRANSLATE_Z_YAW:
            if exy > drift:
                # Below the goal height: finish rising before travelling (going up is always
                # free of the table). XY mode only asks to rise above `rise_margin` > ztol, so
                # the two rules cannot chatter.
                return TeleopMode.TRANSLATE_Z_YAW if ez > ztol else TeleopMode.TRANSLATE_XY
            return TeleopMode.TRANSLATE_Z_YAW if abs(ez) > ztol else None
        if exy > align:
            if ez > cfg.rise_margin:
                return TeleopMode.TRANSLATE_Z_YAW  # too low to travel: rise first
            return TeleopMode.TRANSLATE_XY
        return TeleopMode.TRANSLATE_Z_YAW if abs(ez) > ztol else None

    # -- main step -----------------------------------------------------------------------------
    def step(self, ee_position: Sequence[float] | None, goal: Sequence[float] | None,
             t: float) -> tuple[list[float], list[int], bool]:
        """One gamepad message for time ``t`` (s).

        ``None`` for either input means "cannot see": the stick is centred, RB kept as it was.
        """
        cfg = self.config
        if self.done:
            self._deadman = False
            axes, buttons = self._pad()
            return axes, buttons, True
        if self._t0 is None:
            self._t0 = t
        if t - self._t0 > cfg.timeout_s:
            self.phase, self.done, self._deadman = "timeout", True, False
            axes, buttons = self._pad()
            return axes, buttons, True

        # A mode-button press spans two messages: pressed, then released (one rising edge each).
        if self._press_down:
            self._press_down = False
            axes, buttons = self._pad()
            return axes, buttons, False
        if self._presses_left:
            self._presses_left -= 1
            self._press_down = True
            self._last_press_t = t
            self.mode = MODE_CYCLE[(MODE_CYCLE.index(self.mode) + 1) % len(MODE_CYCLE)]
            axes, buttons = self._pad(mode_pressed=True)
            return axes, buttons, False

        if ee_position is None or goal is None:
            self.phase = "waiting"
            axes, buttons = self._pad()
            return axes, buttons, False

        ex, ey, ez = (float(goal[i]) - float(ee_position[i]) for i in range(3))
        exy = math.hypot(ex, ey)
        self.distance = math.sqrt(exy * exy + ez * ez)

        if not self._deadman:  # grab RB first, centred stick, so the executor is armed
            self._deadman = True
            self._settle_since = None
            self.phase = "start"
            self._start_t = t
        if self.phase == "start" and t - self._start_t < cfg.start_s:
            axes, buttons = self._pad()
            return axes, buttons, False

        wanted = self._wanted_mode(exy, ez)
        if wanted is None:
            # Within tolerance: centre the stick and check it stays there before letting go.
            if self._settle_since is None:
                self._settle_since = t
            self.phase = "settle"
            if t - self._settle_since >= cfg.settle_s:
                self.reached = self.distance <= cfg.tolerance
                self.phase, self.done, self._deadman = "done", True, False
                axes, buttons = self._pad()
                return axes, buttons, True
            axes, buttons = self._pad()
            return axes, buttons, False
        self._settle_since = None

        if wanted is not self.mode:
            n = len(MODE_CYCLE)
            self._presses_left = (MODE_CYCLE.index(wanted) - MODE_CYCLE.index(self.mode)) % n
            self.phase = "switch_mode"
            # Release the stick in this message; the presses follow in the next ones.
            axes, buttons = self._pad()
            return axes, buttons, False

        if self.mode is TeleopMode.TRANSLATE_XY:
            self.phase = "align_xy"
            sy, sx = self._stick(ex, ey)  # stick up -> +x, stick left -> +y
            axes, buttons = self._pad(stick_x=sx, stick_y=sy)
        else:
            rising = ez > 0 and exy > cfg.align_xy_fraction * cfg.tolerance
            self.phase = "rise" if rising else "move_z"
            _, sy = self._stick(0.0, ez)  # stick up -> +z; stick x (yaw) stays centred
            axes, buttons = self._pad(stick_y=sy)
        return axes, buttons, False

    def status(self) -> dict[str, object]:
        """What ``/ifagent/scripted_gamepad/status`` reports."""
        return {
            "phase": self.phase,
            "distance": self.distance,
            "done": self.done,
            "reached": self.reached,
            "mode": self.mode.value,
            "deadman": self._deadman,
        }
