"""Domain randomization of campaign episodes: the factor catalogue, sampling, and the mapping of
sampled values to node parameters and link impairments.

A scenario names factors with a range (``{min: a, max: b}``, uniform) or a list
(``{choices: [...]}``). Each episode draws every factor from its scene seed, so the same index
gets the same world in every condition (the paired design). Each factor draws from its own
stream (``default_rng([seed, stream])``), so adding or removing one factor never changes the
draws of another; the streams are fixed in :data:`FACTORS` (append new factors at the end).
Which factors a task kind takes and which topics its links impair: its ``core/campaign/tasks``
module (``factors``, ``link_topics``).

ROS-free: numpy and pydantic only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from ifagent_ros.core.campaign.tasks import get_task, kinds_with
from ifagent_ros.core.campaign.types import LinkImpairment

__all__ = [
    "FACTORS",
    "NOMINAL_CAMERA",
    "SPEECH_TOPIC",
    "Factor",
    "FactorRange",
    "apply",
    "check_factors",
    "sample",
]

@dataclass(frozen=True)
class Factor:
    """One randomizable quantity: its unit, its allowed values (the tasks say where it
    applies)."""

    name: str
    stream: int                      # its own rng stream (never reuse a number)
    unit: str
    doc: str
    low: float = -math.inf           # allowed values: [low, high] (low excluded if low_open)
    high: float = math.inf
    low_open: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        """The task kinds it applies to (those whose ``factors`` name it)."""
        return tuple(kinds_with("factors", self.name))

    def check(self, value: float) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        if value < self.low or (self.low_open and value == self.low) or value > self.high:
            lo = "(" if self.low_open else "["
            return f"{value} is outside {lo}{self.low:g}, {self.high:g}]"
        return None


_F = Factor
FACTORS: dict[str, Factor] = {f.name: f for f in (
    _F("object_xy_jitter_m", 1, "m",
       "objects' spawn x/y moved by up to this (sim_node domain.object_xy_jitter)", 0.0),
    _F("colour_jitter", 2, "",
       "object RGB moved by up to this per channel (domain.colour_jitter)", 0.0, 1.0),
    _F("light_scale", 3, "x", "light intensity factor (domain.light_scale)",
       0.0, low_open=True),
    _F("camera_fov_error_deg", 4, "deg",
       "camera field of view = nominal + this (camera.fov_deg)"),
    _F("camera_position_error_m", 5, "m",
       "camera eye moved this far in a seeded random direction (camera.eye)", 0.0),
    _F("camera_rotation_error_deg", 6, "deg",
       "camera view axis turned by this angle in a seeded random direction (camera.target)",
       0.0, 30.0),
    _F("depth_noise_std_m", 7, "m", "depth noise std (camera.depth_noise_std)", 0.0),
    _F("friction_scale", 8, "x", "object friction factor (domain.friction_scale)",
       0.0, low_open=True),
    _F("mass_scale", 9, "x", "object mass factor (domain.mass_scale)", 0.0,
       low_open=True),
    _F("latency_s", 10, "s", "delay on the task's sensor/command topics", 0.0),
    _F("jitter_s", 11, "s", "extra uniform delay in [0, jitter] on those topics", 0.0),
    _F("drop_rate", 12, "", "probability a message on those topics is dropped",
       0.0, 1.0),
    _F("asr_word_error_rate", 13, "",
       "per-word error rate on /ifagent/speech/text (the user's corrections)", 0.0, 1.0),
    _F("user_skill", 14, "", "simulated user's skill (sim_user_node skill)", 0.0, 1.0),
    _F("user_reaction_delay_s", 15, "s",
       "simulated user's reaction delay (sim_user_node reaction_delay_s)", 0.0),
)}

SPEECH_TOPIC = "/ifagent/speech/text"
# sim_node's camera defaults (config/shared_autonomy.yaml) when the params file has none.
NOMINAL_CAMERA: dict[str, Any] = {
    "camera.eye": [1.2, 0.0, 0.75], "camera.target": [0.45, 0.0, 0.0], "camera.fov_deg": 45.0}
_DIRECTION_STREAMS = {"camera_position_error_m": 101, "camera_rotation_error_deg": 102}


class FactorRange(BaseModel):
    """``{min: a, max: b}`` (uniform) or ``{choices: [...]}`` (one of them, equally likely)."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    choices: list[float] | None = None

    def values(self) -> list[float]:
        """The values the range can take at its ends (for bound checks)."""
        if self.choices is not None:
            return list(self.choices)
        return [v for v in (self.min, self.max) if v is not None]


def check_factors(ranges: Mapping[str, FactorRange], kind: str,
                  nominal_sim_params: Mapping[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """What is wrong with a scenario's ``randomization`` map: (location, message) pairs."""
    import difflib

    out: list[tuple[tuple[Any, ...], str]] = []
    for name, spec in ranges.items():
        loc = ("randomization", name)
        factor = FACTORS.get(name)
        if factor is None:
            close = difflib.get_close_matches(name, list(FACTORS), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append((loc, f"unknown randomization factor {name!r}; allowed: "
                             f"{', '.join(sorted(FACTORS))}{hint}"))
            continue
        if name not in get_task(kind).factors:
            out.append((loc, f"randomization factor {name!r} does not apply to task kind "
                             f"{kind!r} (it applies to: {', '.join(factor.kinds)})"))
            continue
        if spec.choices is not None:
            if spec.min is not None or spec.max is not None:
                out.append((loc, f"randomization {name}: give either min/max or choices, "
                                 f"not both"))
                continue
            if not spec.choices:
                out.append((loc, f"randomization {name}: choices is empty"))
                continue
        elif spec.min is None or spec.max is None:
            out.append((loc, f"randomization {name}: needs both min and max (or choices)"))
            continue
        elif spec.min > spec.max:
            out.append((loc, f"randomization {name}: min {spec.min:g} > max {spec.max:g}"))
            continue
        bad = [why for v in spec.values() if (why := factor.check(v)) is not None]
        if bad:
            out.append((loc, f"randomization {name}: {bad[0]} ({factor.doc})"))
            continue
        if name == "camera_fov_error_deg":
            fov = float(nominal_sim_params.get("camera.fov_deg", NOMINAL_CAMERA["camera.fov_deg"]))
            if not all(1.0 <= fov + v <= 179.0 for v in spec.values()):
                out.append((loc, f"randomization {name}: nominal fov {fov:g} deg + "
                                 f"{spec.values()} leaves [1, 179] deg"))
    return out


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, stream])


def sample(factors: Mapping[str, FactorRange], seed: int) -> dict[str, float]:
    """One value per factor, drawn from ``seed`` (deterministic, one stream per factor)."""
    out: dict[str, float] = {}
    for name in FACTORS:  # catalogue order: the dict the spec records is stable
        spec = factors.get(name)
        if spec is None:
            continue
        rng = _rng(seed, FACTORS[name].stream)
        if spec.choices is not None:
            out[name] = float(spec.choices[int(rng.integers(len(spec.choices)))])
        else:
            assert spec.min is not None and spec.max is not None  # checked when loaded
            out[name] = float(rng.uniform(spec.min, spec.max)) if spec.max > spec.min \
                else float(spec.min)
    return out


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _floats(values: Sequence[Any], name: str) -> np.ndarray:
    arr = np.asarray([float(v) for v in values], dtype=float)
    if arr.shape != (3,):
        raise ValueError(f"sim_node {name} must be 3 numbers, got {list(values)}")
    return arr


def _camera(values: Mapping[str, float], nominal: Mapping[str, Any],
            seed: int) -> dict[str, Any]:
    cam = {**NOMINAL_CAMERA, **{k: v for k, v in nominal.items() if k in NOMINAL_CAMERA}}
    out: dict[str, Any] = {}
    if "camera_fov_error_deg" in values:
        fov = float(cam["camera.fov_deg"]) + values["camera_fov_error_deg"]
        if not 1.0 <= fov <= 179.0:
            raise ValueError(f"camera.fov_deg {cam['camera.fov_deg']} + error "
                             f"{values['camera_fov_error_deg']} is not a usable field of view")
        out["camera.fov_deg"] = float(fov)
    eye = _floats(cam["camera.eye"], "camera.eye")
    target = _floats(cam["camera.target"], "camera.target")
    if "camera_position_error_m" in values:
        d = _unit(_rng(seed, _DIRECTION_STREAMS["camera_position_error_m"]))
        eye = eye + values["camera_position_error_m"] * d
        out["camera.eye"] = [float(v) for v in eye]
    if "camera_rotation_error_deg" in values:
        axis = target - eye
        dist = float(np.linalg.norm(axis))
        if dist < 1e-6:
            raise ValueError("sim_node camera.eye and camera.target coincide")
        axis /= dist
        # A random direction perpendicular to the view axis; moving the target that way by
        # dist * tan(angle) turns the view axis by exactly the angle (about the eye).
        r = _unit(_rng(seed, _DIRECTION_STREAMS["camera_rotation_error_deg"]))
        perp = r - float(r @ axis) * axis
        n = float(np.linalg.norm(perp))
        perp = perp / n if n > 1e-9 else np.cross(axis, [0.0, 0.0, 1.0])
        perp /= np.linalg.norm(perp)
        target = target + perp * dist * math.tan(math.radians(values["camera_rotation_error_deg"]))
        out["camera.target"] = [float(v) for v in target]
    return out


def apply(values: Mapping[str, float], kind: str, nominal_sim_params: Mapping[str, Any],
          *, seed: int = 0) -> tuple[dict[str, dict[str, Any]], dict[str, LinkImpairment]]:
    """Sampled factor values -> (node overrides, link impairments) for a task ``kind``.

    ``nominal_sim_params``: sim_node's parameters from the params file (dotted names), for the
    nominal camera; ``seed``: the scene seed, for the camera error directions.
    """
    for name in values:
        if name not in FACTORS:
            raise ValueError(f"unknown randomization factor {name!r}; known: {', '.join(FACTORS)}")
        if name not in get_task(kind).factors:
            raise ValueError(f"randomization factor {name!r} does not apply to task kind "
                             f"{kind!r} (it applies to {', '.join(FACTORS[name].kinds)})")
    v = {k: float(x) for k, x in values.items()}
    sim: dict[str, Any] = {}
    for factor, param in (("object_xy_jitter_m", "domain.object_xy_jitter"),
                          ("colour_jitter", "domain.colour_jitter"),
                          ("light_scale", "domain.light_scale"),
                          ("friction_scale", "domain.friction_scale"),
                          ("mass_scale", "domain.mass_scale"),
                          ("depth_noise_std_m", "camera.depth_noise_std")):
        if factor in v:
            sim[param] = v[factor]
    sim.update(_camera(v, nominal_sim_params, seed))
    user = {param: v[factor] for factor, param in (("user_skill", "skill"),
                                                   ("user_reaction_delay_s", "reaction_delay_s"))
            if factor in v}
    overrides = {node: p for node, p in (("sim_node", sim), ("sim_user_node", user)) if p}
    links: dict[str, LinkImpairment] = {}
    if any(k in v for k in ("latency_s", "jitter_s", "drop_rate")):
        # the task's link topics: what its robot's decisions depend on (sensors in, the
        # person's commands in)
        for topic in get_task(kind).link_topics:
            links[topic] = LinkImpairment(latency_s=v.get("latency_s", 0.0),
                                          jitter_s=v.get("jitter_s", 0.0),
                                          drop_rate=v.get("drop_rate", 0.0))
    if "asr_word_error_rate" in v:
        links[SPEECH_TOPIC] = LinkImpairment(word_error_rate=v["asr_word_error_rate"])
    return overrides, links
