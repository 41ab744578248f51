"""What the shared-autonomy controller remembers of its inputs: the stick and the objects.

* :class:`StickTracker`: rescaled deadband -> z in [-1, 1]^2, button rising edges, and the
  "stick pinned at full deflection, unchanged" detector (a stuck stick or a pad lying on its
  stick must not drive the arm forever).
* :class:`ObjectMemory`: object positions by the ids a model's state uses. A perceived object
  with colour c and label l answers to ``f"{c}_{l}"`` (best confidence wins, then the newest);
  its own id (ground-truth ids such as ``red_block``) works too. Each position remembers when it
  was last seen on the controller's clock, so an object the camera lost for a moment keeps its
  place until ``timeout`` and only then counts as missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ifagent_ros.core.schemas import ObjectList


def deadband(value: float, band: float) -> float:
    """0 inside ``band``, then linear from 0 at its edge to +/-1 at full deflection."""
    mag = abs(value)
    return 0.0 if mag <= band else math.copysign(min(1.0, (mag - band) / (1.0 - band)), value)


class StickTracker:
    def __init__(self, stick_axes: Sequence[int], signs: Sequence[float], band: float,
                 pinned_level: float, pinned_tolerance: float) -> None:
        # stick_axes[:2] give z; all of them are watched for pinning (e.g. the right stick too).
        self.stick_axes = list(stick_axes)
        self.signs = (float(signs[0]), float(signs[1]))
        self.band = band
        self.pinned_level = pinned_level
        self.pinned_tolerance = pinned_tolerance
        self.z = np.zeros(2)
        self._pressed: list[bool] = []
        self._pin_ref: np.ndarray | None = None
        self._pin_since = 0.0

    def update(self, axes: Sequence[float], buttons: Sequence[float], now: float) -> list[int]:
        """Takes a validated message; returns the indices of the buttons that just went down."""
        raw = np.array([float(axes[i]) for i in self.stick_axes])
        self.z = np.array([self.signs[0] * deadband(raw[0], self.band),
                           self.signs[1] * deadband(raw[1], self.band)])
        if np.max(np.abs(raw)) >= self.pinned_level:
            ref = self._pin_ref
            if ref is None or np.max(np.abs(raw - ref)) > self.pinned_tolerance:
                self._pin_ref, self._pin_since = raw, now
        else:
            self._pin_ref = None
        pressed = [float(b) > 0.0 for b in buttons]
        old = self._pressed
        rising = [i for i, p in enumerate(pressed) if p and not (i < len(old) and old[i])]
        self._pressed = pressed
        return rising

    def pinned_for(self, now: float) -> float:
        """Seconds the stick has sat at full deflection without moving (0 when it is not)."""
        return 0.0 if self._pin_ref is None else max(0.0, now - self._pin_since)


class ObjectMemory:
    def __init__(self) -> None:
        self._seen: dict[str, tuple[np.ndarray, float, float]] = {}  # id -> (xyz, seen, conf)

    def update(self, objects: ObjectList | Mapping[str, Sequence[float]], stamp: float,
               now: float) -> None:
        """An ``ObjectList`` (perception) or ``{id: xyz}`` (ground truth) received at ``now``."""
        fresh: dict[str, tuple[np.ndarray, float, float]] = {}
        if isinstance(objects, ObjectList):
            for o in objects.objects:
                pos = np.asarray(o.position, dtype=float)
                if not np.all(np.isfinite(pos)):
                    continue
                # An object the tracker holds but did not see in this frame is that much older.
                age = stamp - o.last_seen if o.last_seen is not None else 0.0
                seen = now - age if math.isfinite(age) and age > 0.0 else now
                for key in {o.id, f"{o.color}_{o.label}"}:
                    best = fresh.get(key)
                    if best is None or (o.confidence, seen) > (best[2], best[1]):
                        fresh[key] = (pos, seen, o.confidence)
        else:
            for key, p in objects.items():
                try:
                    pos = np.asarray(p, dtype=float).reshape(-1)
                except (TypeError, ValueError):
                    continue
                if pos.shape == (3,) and np.all(np.isfinite(pos)):
                    fresh[str(key)] = (pos, now, 1.0)
        self._seen.update(fresh)

    def position(self, object_id: str) -> np.ndarray | None:
        rec = self._seen.get(object_id)
        return None if rec is None else rec[0]

    def missing(self, object_ids: Sequence[str], now: float, timeout: float) -> list[str]:
        """The ids never seen, or last seen more than ``timeout`` seconds ago."""
        out = []
        for oid in object_ids:
            rec = self._seen.get(oid)
            if rec is None or not now - rec[1] <= timeout:
                out.append(oid)
        return out
