"""What the shared-autonomy controller conditions its model on, and direct motion shaping.

* :class:`Conditioning`: one utterance as the model sees it (text, cached embedding, LILAC's
  alpha) plus the :class:`Shaping` its correction asks for.
* :class:`UtteranceStack`: LILAC's conditioning history. An instruction starts a new stack; a
  correction is pushed on top and replaces what the model conditions on; undo pops one entry;
  reset goes back to the original instruction (LILAC's revert button).
* :func:`shape_basis`: blends a correction's direction into the basis row most aligned with it
  and re-orthonormalizes, so "a bit more to the left" moves left even when the model's basis
  has no left in it.
* :func:`orthonormal_rows`: Gram-Schmidt for a (2, 6) basis, used to check and repair what a
  model returns.
* :class:`Conditioner`: instructions, corrections, undo and reset -> the stack. An utterance
  unlike every training sentence (``model.novelty`` < threshold) is refused and the previous
  conditioning stays (a directional correction still shapes the motion); a self-contradictory
  correction is ignored; every decision is in ``last_event``.

ROS-free and torch-free (numpy only); nothing here raises on a degenerate basis: it returns None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ifagent_ros.core.schemas import Correction

EPS = 1e-6
ShapingKind = Literal["direction", "rotation", "target"]
Source = Literal["instruction", "correction"]


@dataclass(frozen=True)
class Shaping:
    """A direct push of the motion towards ``vector`` (6-D normalized action, unit norm), or
    towards the objects ``target_ids`` (resolved each step against the end effector)."""

    kind: ShapingKind
    weight: float  # in (0, 1]: how much of the shaped basis row comes from the correction
    vector: np.ndarray | None = None
    target_ids: tuple[str, ...] = ()
    since: float = 0.0

    def describe(self) -> str:
        if self.vector is not None:
            v = ", ".join(f"{x:+.2f}" for x in self.vector)
            return f"{self.kind} [{v}] w={self.weight:.2f}"
        return f"{self.kind} {'/'.join(self.target_ids)} w={self.weight:.2f}"


@dataclass(frozen=True)
class Conditioning:
    text: str  # what the model conditions on
    alpha: float  # 1 = use the scene context, 0 = context-free correction
    lang: np.ndarray | None  # the model's embedding of ``text`` (None: no model)
    source: Source
    said: str  # the words heard; differs from ``text`` when the model refused them
    novelty: float | None = None  # max cosine similarity of ``text`` to the training sentences
    shaping: Shaping | None = None
    since: float = 0.0


@dataclass
class UtteranceStack:
    """The conditioning history; ``active`` is what the model sees now."""

    entries: list[Conditioning] = field(default_factory=list)
    original: Conditioning | None = None

    @property
    def active(self) -> Conditioning | None:
        return self.entries[-1] if self.entries else None

    @property
    def depth(self) -> int:
        return len(self.entries)

    def instruct(self, entry: Conditioning) -> None:
        self.entries = [entry]
        self.original = entry

    def push(self, entry: Conditioning) -> None:
        self.entries.append(entry)

    def undo(self) -> str | None:
        """Drop the newest correction; returns why nothing happened, or None."""
        if not self.entries:
            return "nothing to undo"
        if len(self.entries) == 1 and self.entries[0] is self.original:
            return "nothing to undo: the original instruction is active"
        self.entries.pop()
        return None

    def reset(self) -> str | None:
        """Back to the original instruction; returns why nothing happened, or None."""
        if self.original is None:
            if not self.entries:
                return "nothing to reset"
            self.entries = []  # corrections without an instruction: forget them all
            return None
        self.entries = [self.original]
        return None


def orthonormal_rows(basis: np.ndarray) -> np.ndarray | None:
    """Gram-Schmidt on the rows of a (2, n) matrix; None when the rows are (nearly) dependent."""
    b0 = basis[0]
    n0 = float(np.linalg.norm(b0))
    if not np.isfinite(n0) or n0 < EPS:
        return None
    u0 = b0 / n0
    b1 = basis[1] - float(basis[1] @ u0) * u0
    n1 = float(np.linalg.norm(b1))
    if not np.isfinite(n1) or n1 < EPS:
        return None
    return np.stack([u0, b1 / n1])


def is_orthonormal(basis: np.ndarray, tol: float = 1e-3) -> bool:
    """For a (2, n) basis; False for NaN rows (comparisons with NaN fail)."""
    b0, b1 = basis[0], basis[1]
    return (abs(float(b0 @ b0) - 1.0) <= tol and abs(float(b1 @ b1) - 1.0) <= tol
            and abs(float(b0 @ b1)) <= tol)


def _any_orthogonal(u: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to unit ``u`` (from the axis least aligned with it)."""
    e = np.zeros_like(u)
    e[int(np.argmin(np.abs(u)))] = 1.0
    v = e - float(e @ u) * u
    return v / float(np.linalg.norm(v))


def shape_basis(basis: np.ndarray, direction: np.ndarray, weight: float
                ) -> tuple[np.ndarray, int] | None:
    """Blend unit ``direction`` into the basis row most aligned with it.

    Row i (largest ``|B_i . d|``, sign s of that product, +1 when zero) becomes
    ``normalize(w * s * d + (1 - w) * B_i)``; the other row is made orthogonal to it again.
    Pushing the stick along +s on axis i then moves (partly, w) along ``direction``.
    Returns (shaped basis, i), or None when ``direction`` is degenerate.
    """
    d = np.asarray(direction, dtype=float)
    nd = float(np.linalg.norm(d))
    if not np.isfinite(nd) or nd < EPS:
        return None
    d = d / nd
    proj = basis @ d
    i = int(np.argmax(np.abs(proj)))
    s = 1.0 if proj[i] >= 0.0 else -1.0
    w = min(max(float(weight), 0.0), 1.0)
    u = w * s * d + (1.0 - w) * basis[i]
    nu = float(np.linalg.norm(u))
    u = s * d if nu < EPS else u / nu
    other = basis[1 - i] - float(basis[1 - i] @ u) * u
    no = float(np.linalg.norm(other))
    other = _any_orthogonal(u) if no < EPS else other / no
    out = np.empty_like(basis, dtype=float)
    out[i] = u
    out[1 - i] = other
    return out, i


def shaping_from_correction(c: Correction, weights: dict[str, float], now: float
                            ) -> tuple[Shaping | None, str | None]:
    """The shaping a direction/rotation/target correction asks for, as (shaping, None), or
    (None, why it is unusable): a missing vector, or one that cancels out ("left and right")
    or is not finite. A target correction without grounded ids shapes nothing (None, None)."""
    weight = weights[c.magnitude]
    if c.type == "target":
        ids = tuple(c.target_ids)
        return (Shaping("target", weight, None, ids, now) if ids else None), None
    if c.type not in ("direction", "rotation"):
        return None, None
    vec = c.direction if c.type == "direction" else c.rotation
    if vec is None:
        return None, f"a {c.type} correction without a {c.type} vector"
    v = np.asarray(vec, dtype=float)
    n = float(np.linalg.norm(v))
    if not math.isfinite(n):
        return None, f"the {c.type} is not finite"
    if n < EPS:
        return None, f"self-contradictory {c.type} (it cancels out)"
    six = np.zeros(6)
    six[(slice(0, 3) if c.type == "direction" else slice(3, 6))] = v / n
    return Shaping(c.type, weight, six, (), now), None


@dataclass(frozen=True)
class ConditionerConfig:
    novelty_threshold: float = 0.5
    shaping_weights: tuple[float, float, float] = (0.5, 0.75, 0.9)  # small, medium, large
    min_speed_scale: float = 0.25
    max_speed_scale: float = 2.0


class Conditioner:
    """Turns instructions, corrections, undo and reset into the utterance stack, the spoken
    speed factor and gripper requests. ``model`` (``embed``, optional ``novelty``) may be None:
    the stack is then kept for display only. ``last_event`` says what the last input did."""

    def __init__(self, model: Any, config: ConditionerConfig | None = None) -> None:
        self.model = model
        self.config = config or ConditionerConfig()
        self.stack = UtteranceStack()
        self.speed_scale = 1.0
        self.last_event: str | None = None
        self.no_conditioning_reason = "no instruction yet"  # why the stack is empty

    def instruct(self, text: str, now: float) -> bool:
        """A new task; False when it was refused (the previous conditioning stays)."""
        text = " ".join(str(text).split())
        if not text:
            self.last_event = "ignored an empty instruction"
            return False
        entry, why = self._conditioning(text, 1.0, "instruction", now)
        if entry is None:
            self._refused(text, why)
            return False
        self.stack.instruct(entry)
        self.last_event = f"instruction: {text!r}"
        return True

    def correct(self, c: Correction, now: float) -> str | None:
        """Applies one correction; returns "open"/"close" when it asks for the gripper."""
        said = f"said {c.text!r}" if c.text else c.type
        if c.type == "stop":
            self.last_event = "stop: handled by the executor's e-stop, not here"
        elif c.type == "unknown":
            self.last_event = f"ignored {c.text!r}: {c.question or 'not understood'}"
        elif c.type == "undo":
            self.undo(said)
        elif c.type == "reset":
            self.reset(said)
        elif c.type == "instruction":
            self.instruct(c.text, now)
        elif c.type == "speed":
            f = c.speed_factor
            if f is None or not math.isfinite(f) or f <= 0.0:
                self.last_event = f"ignored {c.text!r}: speed factor {f} is not a positive number"
            else:
                cfg = self.config
                self.speed_scale = min(max(self.speed_scale * f, cfg.min_speed_scale),
                                       cfg.max_speed_scale)
                self.last_event = f"speed x{f:g} -> {self.speed_scale:.2f}"
        elif c.type == "gripper":
            if c.gripper in ("open", "close"):
                self.last_event = f"gripper {c.gripper} ({c.text!r})"
                return c.gripper
            self.last_event = f"ignored {c.text!r}: gripper correction without open/close"
        else:  # direction, rotation, target: re-condition, and shape the motion
            self._directional(c, now)
        return None

    def undo(self, why: str) -> None:
        failed = self.stack.undo()
        active = self.stack.active
        self.last_event = (f"{why}: {failed}" if failed else f"{why}: back to {active.text!r}"
                           if active else f"{why}: nothing active")

    def reset(self, why: str) -> None:
        failed = self.stack.reset()
        self.speed_scale = 1.0
        active = self.stack.active
        self.last_event = (f"{why}: {failed}" if failed else f"{why}: back to {active.text!r}"
                           if active else f"{why}: cleared")

    def _refused(self, text: str, why: str) -> None:
        active = self.stack.active
        keep = f"kept {active.text!r}" if active else "no usable instruction: EE teleop"
        self.last_event = f"refused {text!r}: {why}; {keep}"
        if active is None:
            self.no_conditioning_reason = f"refused {text!r}: {why}"

    def _conditioning(self, text: str, alpha: float, source: Source, now: float
                      ) -> tuple[Conditioning | None, str]:
        """Embeds and novelty-checks ``text``; (None, why) when the model must not use it."""
        if self.model is None:
            return Conditioning(text, alpha, None, source, text, since=now), ""
        threshold = self.config.novelty_threshold
        try:
            novelty_fn = getattr(self.model, "novelty", None)
            novelty = float(novelty_fn(text)) if callable(novelty_fn) else None
            if novelty is not None and not math.isfinite(novelty):
                return None, "the model's novelty score is not finite"
            if novelty is not None and novelty < threshold:
                return None, (f"unlike any training sentence (similarity {novelty:.2f} < "
                              f"{threshold:.2f})")
            lang = np.asarray(self.model.embed(text), dtype=np.float32)
        except Exception as exc:  # noqa: BLE001 - a broken encoder must not stop the controller
            return None, f"embedding failed: {type(exc).__name__}: {exc}"
        if lang.ndim != 1 or not np.all(np.isfinite(lang)):
            return None, "the embedding is not a finite vector"
        return Conditioning(text, alpha, lang, source, text, novelty, since=now), ""

    def _directional(self, c: Correction, now: float) -> None:
        small, medium, large = self.config.shaping_weights
        weights = {"small": small, "medium": medium, "large": large}
        shaping, bad = shaping_from_correction(c, weights, now)
        if bad is not None:
            self.last_event = f"ignored {c.text!r}: {bad}"
            return
        alpha = 0.0 if c.context_free else 1.0
        text = " ".join(c.text.split())
        entry, why = (self._conditioning(text, alpha, "correction", now) if text
                      else (None, "no words to condition on"))
        if entry is None:
            prev = self.stack.active
            if shaping is None or prev is None:
                self._refused(text, why)
                return
            # The model keeps its previous utterance; the parsed direction still steers.
            entry = Conditioning(prev.text, prev.alpha, prev.lang, "correction", text,
                                 prev.novelty, since=now)
            self.last_event = (f"{text!r} not used by the model ({why}); kept {prev.text!r}, "
                               f"shaping {shaping.describe()}")
        else:
            self.last_event = f"correction: {text!r} (alpha {alpha:g})"
        self.stack.push(Conditioning(entry.text, entry.alpha, entry.lang, "correction",
                                     text or entry.said, entry.novelty, shaping, now))
