"""Shared autonomy (LILAC): a 2-D stick drives the 6-D end effector through a learned,
language-conditioned basis, re-conditioned by every spoken correction while the arm moves.

ROS-free; the node feeds it and calls :meth:`SharedAutonomyController.step` at the control
rate, passing the clock in as ``now`` (seconds). Per step: stick -> rescaled deadband -> z in
[-1, 1]^2 -> ``model.action(state, lang, z, alpha, shaping)`` (``interface.ActionModel``; a
latent model (LILAC/LILA) gives z @ B for its basis B shaped by the active correction, a BC
policy drives on any stick push and also gives its gripper-close probability) -> normalized
action -> twist via ``ActionScale`` x spoken speed factor -> linear/angular parts norm-clipped
to the maxima.

Conditioning (see ``conditioning.py``): an instruction (alpha 1) starts the utterance stack; a
correction replaces what the model conditions on (alpha 0 if context-free, else 1); undo
(button or "undo") pops one; reset (button or "reset") reverts to the instruction. "stop" is the
executor's e-stop, not handled here. Speed corrections scale the speed; gripper corrections and
the gripper buttons give open/close on their rising edge.

Degrades, never raises from ``step``, never outputs NaN or an over-limit twist:
* no model or a model file error, no usable instruction yet, objects the state needs missing or
  stale, a model error or NaN (for ``model_retry_s``) -> plain end-effector teleop
  (``core/control/teleop.py``), ``status["reason"]`` says why;
* an utterance unlike every training sentence (``model.novelty`` < threshold) -> not used: the
  previous conditioning stays (a directional correction still shapes the motion);
* a self-contradictory or empty correction -> ignored, ``status["last_event"]`` says why;
* stale or bad /joy, stale joint states (with a model), the stick pinned at full deflection
  unchanged for ``pinned_s``, NaN anywhere -> zero twist (mode ``hold``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ifagent_ros.core.control.gamepad import Button, PadLayout
from ifagent_ros.core.control.teleop import TeleopConfig, TeleopMapper, TeleopOutput
from ifagent_ros.core.latent_actions.conditioning import (
    Conditioner,
    ConditionerConfig,
    Conditioning,
    UtteranceStack,
)
from ifagent_ros.core.latent_actions.controller_inputs import ObjectMemory, StickTracker
from ifagent_ros.core.latent_actions.interface import ActionModel, ModelOutputError
from ifagent_ros.core.latent_actions.state import MAX_GRIPPER_WIDTH, ActionScale, build_state
from ifagent_ros.core.schemas import Correction, ObjectList

ForwardKinematics = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
ZERO6 = np.zeros(6)


@dataclass(frozen=True)
class SharedAutonomyConfig:
    # The pad: its left stick gives z (z1 = left/right, z2 = up/down), its mode button (X)
    # cycles the EE-teleop fallback's modes; the deadman (RB) is the executor's.
    pad: PadLayout = field(default_factory=PadLayout)
    # This interface's own buttons; A is push-to-talk (speech_node).
    button_gripper_close: int = int(Button.B)
    button_gripper_open: int = int(Button.Y)
    button_undo: int = int(Button.LB)
    button_reset: int = int(Button.BACK)
    teleop_right_stick: bool = True
    max_linear_speed: float = 0.2  # m/s
    max_angular_speed: float = 0.8  # rad/s
    action_scale_linear: float = 0.15  # m/s per unit of normalized action (the training scale)
    action_scale_angular: float = 0.6
    min_speed_scale: float = 0.25
    max_speed_scale: float = 2.0
    joy_timeout_s: float = 0.5
    joint_state_timeout_s: float = 0.2
    objects_timeout_s: float = 2.0
    pinned_s: float = 5.0
    pinned_level: float = 0.95  # |axis| at or above this counts as full deflection
    pinned_tolerance: float = 0.02  # moving less than this counts as unchanged
    novelty_threshold: float = 0.5
    shaping_weight_small: float = 0.5
    shaping_weight_medium: float = 0.75
    shaping_weight_large: float = 0.9
    shaping_timeout_s: float = 0.0  # 0: shaping lasts while its correction is active
    model_retry_s: float = 1.0
    policy_close_threshold: float = 0.5
    gripper_open_width: float = MAX_GRIPPER_WIDTH

    def __post_init__(self) -> None:
        for name in ("button_gripper_close", "button_gripper_open", "button_undo",
                     "button_reset"):
            self.pad.check_button(name, getattr(self, name))
        for name in ("max_linear_speed", "max_angular_speed", "action_scale_linear",
                     "action_scale_angular", "min_speed_scale", "max_speed_scale",
                     "joy_timeout_s", "joint_state_timeout_s", "objects_timeout_s", "pinned_s"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0.0):
                raise ValueError(f"{name} must be finite and > 0")
        for name in ("shaping_weight_small", "shaping_weight_medium", "shaping_weight_large"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")

    def teleop_config(self) -> TeleopConfig:
        return TeleopConfig(
            pad=self.pad, button_gripper_close=self.button_gripper_close,
            button_gripper_open=self.button_gripper_open,
            max_linear_speed=self.action_scale_linear,
            max_angular_speed=self.action_scale_angular,
            right_stick_enabled=self.teleop_right_stick)


@dataclass(frozen=True)
class ControlOutput:
    twist: np.ndarray  # (6,) [vx, vy, vz, wx, wy, wz], m/s and rad/s in base_link
    gripper: str | None  # "open" | "close" on an edge, else None
    status: dict[str, Any]
    status_changed: bool = False


@dataclass
class _Step:
    mode: str  # latent | policy | teleop_fallback | hold
    category: str  # "ok" or why it degraded (counted in status["fallbacks"])
    reason: str | None = None
    twist: np.ndarray = field(default_factory=lambda: ZERO6)
    missing: tuple[str, ...] = ()


def _clip(twist: np.ndarray, max_linear: float, max_angular: float) -> np.ndarray:
    out = np.array(twist, dtype=float)
    for sl, limit in ((slice(0, 3), max_linear), (slice(3, 6), max_angular)):
        n = float(np.linalg.norm(out[sl]))
        if n > limit:
            out[sl] *= limit / n * (1.0 - 1e-12)
    return out


def _fresh(t: float | None, now: float, timeout: float) -> bool:
    """Arrived within ``timeout``; a clock that jumped back by more also counts as stale."""
    return t is not None and -timeout <= now - t <= timeout


def _model_name(model: ActionModel | None) -> str | None:
    """``model.name``, its model card's name, its file's stem, or its class name."""
    if model is None:
        return None
    card = getattr(model, "card", None)
    path = getattr(model, "path", None)
    for name in (getattr(model, "name", None),
                 card.get("name") if isinstance(card, Mapping) else None,
                 getattr(path, "stem", None)):
        if isinstance(name, str) and name:
            return name
    return type(model).__name__


class SharedAutonomyController:
    """Stateful; the node calls the ``on_*`` inputs from callbacks and ``step`` from a timer."""

    def __init__(self, config: SharedAutonomyConfig | None = None,
                 model: ActionModel | None = None, *, model_error: str | None = None,
                 model_name: str | None = None,
                 forward_kinematics: ForwardKinematics | None = None) -> None:
        self.config = config or SharedAutonomyConfig()
        cfg = self.config
        self.model = model
        self._model_error = model_error
        self.model_name = model_name or _model_name(model)
        self._fk = forward_kinematics
        # The scale the model was trained with, when its file says; else the configured one.
        trained = getattr(model, "action_scale", None) or {}
        self._scale = ActionScale(float(trained.get("linear", cfg.action_scale_linear)),
                                  float(trained.get("angular", cfg.action_scale_angular)))
        self._teleop = TeleopMapper(cfg.teleop_config())
        pad = cfg.pad
        axes = [pad.axis_left_x, pad.axis_left_y] + ([pad.axis_right_x, pad.axis_right_y]
                                                     if cfg.teleop_right_stick else [])
        self._stick = StickTracker(axes, (pad.sign_left_x, pad.sign_left_y), pad.deadband,
                                   cfg.pinned_level, cfg.pinned_tolerance)
        self.objects = ObjectMemory()
        self.conditioner = Conditioner(model, ConditionerConfig(
            cfg.novelty_threshold,
            (cfg.shaping_weight_small, cfg.shaping_weight_medium, cfg.shaping_weight_large),
            cfg.min_speed_scale, cfg.max_speed_scale))
        # Inputs, with the controller-clock time they arrived (None: never, or invalid).
        self._joy_at: float | None = None
        self._joy_error: str | None = None
        self._teleop_out: TeleopOutput | None = None
        self._q: np.ndarray | None = None
        self._q_at: float | None = None
        self._q_error: str | None = None
        self._gripper_width: float | None = None
        self._ee: tuple[np.ndarray, np.ndarray] | None = None  # FK of _q, computed on demand
        self._pending_gripper: str | None = None
        self._policy_closed: bool | None = None
        self._model_failed_until = -math.inf
        self._model_failure: str | None = None
        self.fallbacks: dict[str, int] = {}
        self._category = "ok"
        self._status_key: tuple[Any, ...] | None = None

    # ---------------------------------------------------------------- inputs
    def on_joy(self, axes: Sequence[float], buttons: Sequence[int], now: float) -> None:
        out = self._teleop.update(axes, buttons, now)  # validates, and tracks its mode button
        self._teleop_out = out
        if out.rejection is not None:
            self._joy_error, self._joy_at = f"bad /joy: {out.rejection}", None
            return
        self._joy_error, self._joy_at = None, now
        cfg = self.config
        rising = self._stick.update(axes, buttons, now)
        if cfg.button_gripper_close in rising:  # both at once: close, as in teleop
            self._pending_gripper = "close"
        elif cfg.button_gripper_open in rising:
            self._pending_gripper = "open"
        if cfg.button_undo in rising:
            self.conditioner.undo("undo button")
        if cfg.button_reset in rising:
            self.conditioner.reset("reset button")

    def on_joint_state(self, q: Sequence[float] | np.ndarray, now: float,
                       gripper_width: float | None = None) -> None:
        """7 arm joint positions (rad) and, when known, the gripper opening (m)."""
        try:
            qv = np.asarray(q, dtype=float).reshape(-1)
            bad = (f"expected 7 positions, got {qv.size}" if qv.shape != (7,) else
                   "NaN or inf" if not np.all(np.isfinite(qv)) else None)
        except (TypeError, ValueError) as exc:
            qv, bad = np.zeros(7), str(exc)
        if bad is not None:
            self._q_error = f"bad joint state: {bad}"
            self._q, self._q_at, self._ee = None, None, None
            return
        self._q_error, self._q, self._q_at, self._ee = None, qv, now, None  # FK once per new q
        if gripper_width is not None and math.isfinite(gripper_width):
            self._gripper_width = min(max(float(gripper_width), 0.0), MAX_GRIPPER_WIDTH)

    def on_objects(self, objects: ObjectList | Mapping[str, Sequence[float]], stamp: float,
                   now: float) -> None:
        """Perceived objects (``colour_label`` ids) or ground truth ``{id: xyz}``."""
        self.objects.update(objects, stamp, now)

    def on_instruction(self, text: str, now: float) -> None:
        if self.conditioner.instruct(text, now):
            self._policy_closed = None

    def on_correction(self, c: Correction, now: float) -> None:
        if c.type == "instruction":
            self.on_instruction(c.text, now)
            return
        gripper = self.conditioner.correct(c, now)
        if gripper is not None:
            self._pending_gripper = gripper

    def note(self, event: str) -> None:
        """Record something the node rejected (e.g. a malformed message) in the status."""
        self.conditioner.last_event = event

    @property
    def stack(self) -> UtteranceStack:
        return self.conditioner.stack

    @property
    def speed_scale(self) -> float:
        return self.conditioner.speed_scale

    @property
    def last_event(self) -> str | None:
        return self.conditioner.last_event

    # ---------------------------------------------------------------- step
    def step(self, now: float) -> ControlOutput:
        cfg = self.config
        try:
            s = self._step(now)
        except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
            s = _Step("hold", "internal_error", f"internal error: {type(exc).__name__}: {exc}")
        twist = _clip(s.twist, cfg.max_linear_speed, cfg.max_angular_speed)
        if twist.shape != (6,) or not np.all(np.isfinite(twist)):
            s = _Step("hold", "nan_output", "non-finite twist replaced by zero")
            twist = ZERO6.copy()
        if s.category != self._category and s.category != "ok":
            self.fallbacks[s.category] = self.fallbacks.get(s.category, 0) + 1
        self._category = s.category
        gripper, self._pending_gripper = self._pending_gripper, None
        if gripper is not None:
            self._gripper_width = cfg.gripper_open_width if gripper == "open" else 0.0
        status = self._status(s, now)
        key = (s.mode, s.category, s.missing, status["utterance"], status["alpha"],
               status["stack_depth"], status["shaping"], self.speed_scale, self.last_event)
        changed, self._status_key = key != self._status_key, key
        return ControlOutput(twist, gripper, status, changed)

    def _step(self, now: float) -> _Step:
        cfg = self.config
        if self._joy_error is not None:
            return _Step("hold", "bad_input", self._joy_error)
        if not _fresh(self._joy_at, now, cfg.joy_timeout_s):
            return _Step("hold", "joy_stale", "no /joy yet" if self._joy_at is None
                         else f"no /joy for {cfg.joy_timeout_s:g} s")
        if self._stick.pinned_for(now) > cfg.pinned_s:
            return _Step("hold", "stick_pinned", f"stick pinned at full deflection for more than "
                         f"{cfg.pinned_s:g} s: holding until it moves")
        if self.model is None:
            return self._fallback("no_model", self._model_error or "no model loaded")
        if self._q_error is not None:
            return _Step("hold", "bad_input", self._q_error)
        if not _fresh(self._q_at, now, cfg.joint_state_timeout_s):
            return _Step("hold", "joint_states_stale", "no fresh joint states")
        active = self.stack.active
        if active is None:
            return self._fallback("no_instruction", self.conditioner.no_conditioning_reason)
        if now < self._model_failed_until:
            return self._fallback("model_error", self._model_failure or "model error")
        if self._ee is None:
            fk = self._forward_kinematics()
            p, r = fk(self._q)  # type: ignore[arg-type]
            self._ee = (np.asarray(p, dtype=float), np.asarray(r, dtype=float))
        missing = self.objects.missing(self.model.object_ids, now, cfg.objects_timeout_s)
        if missing:
            s = self._fallback("objects_missing", "objects missing or stale: " + ", ".join(missing))
            s.missing = tuple(missing)
            return s
        z = self._stick.z
        if not np.any(z):  # no stick, no motion: the model is not even asked
            return _Step(self.model.interface, "ok")
        width = self._gripper_width if self._gripper_width is not None else cfg.gripper_open_width
        state = build_state(self._q, self._ee[0], self._ee[1], width,  # type: ignore[arg-type]
                            {k: self.objects.position(k) for k in self.model.object_ids},
                            self.model.object_ids)
        try:
            return self._model_step(state, z, active, now)
        except Exception as exc:  # noqa: BLE001 - a broken model degrades to teleop
            return self._model_failed(f"model error: {type(exc).__name__}: {exc}", now)

    def _model_step(self, state: np.ndarray, z: np.ndarray, active: Conditioning, now: float
                    ) -> _Step:
        model = self.model
        assert model is not None and active.lang is not None
        shaping = self._active_shaping(active, now)
        try:
            action, p_close = model.action(state, active.lang, z, active.alpha, shaping)
        except ModelOutputError as exc:
            return self._model_failed(str(exc), now)
        a = np.asarray(action, dtype=float).reshape(-1)
        if a.shape != (6,) or not np.all(np.isfinite(a)):
            return self._model_failed("the model returned NaN or a wrong shape", now)
        if p_close is not None:  # the model drives the gripper (BC)
            if not math.isfinite(p_close):
                return self._model_failed("the model returned a NaN gripper probability", now)
            self._follow_policy_gripper(p_close > self.config.policy_close_threshold)
        return _Step(model.interface, "ok", None, self._scale.to_twist(a) * self.speed_scale)

    def _follow_policy_gripper(self, closed: bool) -> None:
        if self._policy_closed is None:  # first step: compare with the gripper as it is
            w0 = self._gripper_width
            self._policy_closed = w0 is not None and w0 < self.config.gripper_open_width / 2
        if closed != self._policy_closed:
            self._policy_closed = closed
            self._pending_gripper = "close" if closed else "open"

    def _active_shaping(self, active: Conditioning, now: float) -> tuple[float, np.ndarray] | None:
        sh = active.shaping
        if sh is None:
            return None
        if self.config.shaping_timeout_s > 0.0 and now - sh.since > self.config.shaping_timeout_s:
            return None
        if sh.vector is not None:
            return sh.weight, sh.vector
        # Target: towards the first named object the controller knows, from the end effector.
        for oid in sh.target_ids:
            pos = self.objects.position(oid)
            if pos is not None and self._ee is not None:
                d = pos - self._ee[0]
                n = float(np.linalg.norm(d))
                if n > 1e-3:
                    return sh.weight, np.concatenate([d / n, np.zeros(3)])
        return None

    def _forward_kinematics(self) -> ForwardKinematics:
        if self._fk is None:
            from ifagent_ros.core.control.kinematics import ArmKinematics

            self._fk = ArmKinematics().ee_pose
        return self._fk

    def _model_failed(self, why: str, now: float) -> _Step:
        self._model_failure = f"{why}; EE teleop for {self.config.model_retry_s:g} s"
        self._model_failed_until = now + self.config.model_retry_s
        return _Step("hold", "model_error", self._model_failure)

    def _fallback(self, category: str, reason: str) -> _Step:
        out = self._teleop_out
        if out is None or out.rejection is not None:
            return _Step("hold", category, reason)
        twist = np.array([*out.linear, *out.angular]) * self.speed_scale
        return _Step("teleop_fallback", category, reason, twist)

    # ---------------------------------------------------------------- status
    def _status(self, s: _Step, now: float) -> dict[str, Any]:
        active = self.stack.active
        shaping = active.shaping if active is not None else None
        shaping_on = bool(shaping is not None and s.mode in ("latent", "policy") and (
            self.config.shaping_timeout_s <= 0.0
            or now - shaping.since <= self.config.shaping_timeout_s))
        return {
            "stamp": float(now),
            "mode": s.mode,
            "reason": s.reason,
            "model_kind": getattr(self.model, "kind", None),
            "model_name": self.model_name,
            "utterance": active.text if active else None,
            "said": active.said if active else None,
            "instruction": self.stack.original.text if self.stack.original else None,
            "alpha": active.alpha if active else None,
            "novelty": active.novelty if active else None,
            "stack_depth": self.stack.depth,
            "z": (float(self._stick.z[0]), float(self._stick.z[1])),
            "shaping": shaping.describe() if shaping is not None else None,
            "shaping_active": shaping_on,
            "speed_scale": self.speed_scale,
            "missing_objects": list(s.missing),
            "fallbacks": dict(self.fallbacks),
            "teleop_mode": self._teleop.mode.value,
            "last_event": self.last_event,
        }
