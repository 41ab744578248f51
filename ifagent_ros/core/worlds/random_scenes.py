"""Randomized tabletop scenes for perception benchmarks and tests (ROS-free).

``random_scene(rng, n)`` draws ``n`` objects (blocks, bowls, plates, mugs) with random colours
from the palette (the rgba jittered a little), sizes and yaws, and places them without overlap
on the table in front of the robot. ``random_lighting`` draws a TinyRenderer light setting.
``ObjectPusher`` moves objects slowly across the table between frames (kinematically, without
collisions), the way a hand or the gripper pushes them, for tracking benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ifagent_ros.core.worlds.scene import (
    COLOR_PALETTE,
    ObjectSpec,
    Placement,
    SceneSpec,
    TableSpec,
    footprint,
    polygons_separated,
)

# Colours perception is asked to name (cyan is in the palette but not in the list).
BENCH_COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange", "purple", "pink",
                                 "brown", "white", "gray", "black")
LABEL_WEIGHTS: dict[str, float] = {"block": 0.55, "bowl": 0.15, "plate": 0.12, "mug": 0.18}


@dataclass(frozen=True)
class RandomSceneConfig:
    x_range: tuple[float, float] = (0.3, 0.75)  # object centres, base_link (the camera's view)
    y_range: tuple[float, float] = (-0.35, 0.35)
    clearance: float = 0.02  # minimum gap between footprints, metres
    color_jitter: float = 0.04  # uniform jitter on each rgb component
    colors: tuple[str, ...] = BENCH_COLORS
    max_tries: int = 400


def _random_size(label: str, rng: np.random.Generator) -> tuple[float, float, float]:
    if label == "block":
        a, b = rng.uniform(0.03, 0.06, size=2)
        return (float(a), float(b), float(rng.uniform(0.03, 0.06)))
    if label == "bowl":
        d = float(rng.uniform(0.12, 0.17))
        return (d, d, float(rng.uniform(0.045, 0.07)))
    if label == "plate":
        d = float(rng.uniform(0.13, 0.19))
        return (d, d, float(rng.uniform(0.012, 0.02)))
    cup = float(rng.uniform(0.06, 0.08))  # mug
    return (cup + float(rng.uniform(0.018, 0.025)), cup, float(rng.uniform(0.08, 0.1)))


def random_scene(rng: np.random.Generator, n_objects: int,
                 config: RandomSceneConfig | None = None) -> tuple[SceneSpec, list[Placement]]:
    """A scene of ``n_objects`` random objects and their non-overlapping resting placements."""
    cfg = config or RandomSceneConfig()
    labels = list(LABEL_WEIGHTS)
    weights = np.array(list(LABEL_WEIGHTS.values()))
    weights = weights / weights.sum()
    specs: list[ObjectSpec] = []
    placements: list[Placement] = []
    polys: list[np.ndarray] = []
    for i in range(n_objects):
        for _ in range(cfg.max_tries):
            label = str(rng.choice(labels, p=weights))
            size = _random_size(label, rng)
            color = str(rng.choice(cfg.colors))
            rgba = np.array(COLOR_PALETTE[color])
            rgba[:3] = np.clip(rgba[:3] + rng.uniform(-cfg.color_jitter, cfg.color_jitter, 3),
                               0.0, 1.0)
            spec = ObjectSpec(id=f"{color}_{label}_{i}", label=label,  # type: ignore[arg-type]
                              color={"name": color, "rgba": tuple(float(c) for c in rgba)},
                              size=size, position=(0.0, 0.0))
            x, y = rng.uniform(*cfg.x_range), rng.uniform(*cfg.y_range)
            yaw = float(rng.uniform(-math.pi, math.pi))
            poly = footprint(spec, x, y, yaw)
            if all(polygons_separated(poly, q, cfg.clearance) for q in polys):
                specs.append(spec.model_copy(update={"position": (float(x), float(y)), "yaw": yaw}))
                placements.append(Placement((float(x), float(y), spec.resting_z), yaw))
                polys.append(poly)
                break
        else:
            raise ValueError(f"could not place {n_objects} objects without overlap; "
                             f"placed {len(specs)}")
    scene = SceneSpec(name="random", table=TableSpec(), objects=specs)
    return scene, placements


@dataclass(frozen=True)
class Lighting:
    direction: tuple[float, float, float]
    ambient: float
    diffuse: float
    specular: float


def random_lighting(rng: np.random.Generator) -> Lighting:
    """A light from above at a random azimuth and elevation, with varied strength."""
    az = rng.uniform(-math.pi, math.pi)
    el = rng.uniform(math.radians(35.0), math.radians(85.0))
    d = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
    return Lighting(direction=tuple(float(v) for v in d),  # type: ignore[arg-type]
                    ambient=float(rng.uniform(0.45, 0.7)), diffuse=float(rng.uniform(0.3, 0.5)),
                    specular=float(rng.uniform(0.0, 0.08)))


class ObjectPusher:
    """Random slow pushes: each object drifts with its own velocity, turning away from others.

    ``step(poses, dt)`` returns new placements; an object whose move would overlap another or
    leave the area stays put and picks a new direction (so nothing teleports through anything).
    """

    def __init__(self, scene: SceneSpec, rng: np.random.Generator, speed: float = 0.05,
                 config: RandomSceneConfig | None = None) -> None:
        self.scene = scene
        self.rng = rng
        self.speed = speed
        self.cfg = config or RandomSceneConfig()
        self._vel = [self._new_velocity() for _ in scene.objects]

    def _new_velocity(self) -> np.ndarray:
        a = self.rng.uniform(-math.pi, math.pi)
        return self.speed * np.array([math.cos(a), math.sin(a)])

    def step(self, placements: list[Placement], dt: float) -> list[Placement]:
        out = list(placements)
        for i, (obj, pl) in enumerate(zip(self.scene.objects, placements, strict=True)):
            x, y = np.array(pl.position[:2]) + self._vel[i] * dt
            lo_x, hi_x = self.cfg.x_range
            lo_y, hi_y = self.cfg.y_range
            poly = footprint(obj, x, y, pl.yaw)
            ok = lo_x <= x <= hi_x and lo_y <= y <= hi_y and all(
                polygons_separated(poly, footprint(o, *q.position[:2], q.yaw),
                                   self.cfg.clearance / 2.0)
                for j, (o, q) in enumerate(zip(self.scene.objects, out, strict=True)) if j != i)
            if ok:
                out[i] = replace(pl, position=(float(x), float(y), pl.position[2]))
            else:
                self._vel[i] = self._new_velocity()
        return out
