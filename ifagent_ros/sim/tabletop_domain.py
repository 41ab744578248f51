"""Domain randomization of the tabletop and real-time pacing: plain, PyBullet-free functions.

Test campaigns vary the world per episode (object poses, colours, light, friction, mass, depth
noise) and run the simulator faster than the wall clock. Everything here is deterministic given
a seed, so an episode can be replayed exactly; the PyBullet side (``tabletop.py``) and the ROS
side (``nodes/sim_node.py``) only apply what these functions return.

Each randomized quantity draws from its own stream (``domain_rng(seed, STREAM)``), so changing
one factor (e.g. the colour jitter) never changes another's draws (e.g. the poses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ifagent_ros.core.worlds.scene import (
    Placement,
    SceneSpec,
    _conflict,
    footprint,
    polygons_separated,
)
from ifagent_ros.sim.camera import CameraConfig

STREAM_XY = 1
STREAM_COLOUR = 2
XY_TRIES = 30  # draws per object (or stack) before falling back to its un-jittered pose


@dataclass(frozen=True)
class DomainConfig:
    """Per-episode perturbations of the tabletop world (defaults: none)."""

    object_xy_jitter: float = 0.0  # metres, uniform in [-j, j] on x and y, added to each spawn
    colour_jitter: float = 0.0  # uniform in [-c, c] per RGB channel, clipped to [0, 1]
    friction_scale: float = 1.0  # multiplies every object's lateral friction
    mass_scale: float = 1.0  # multiplies every object's mass

    def __post_init__(self) -> None:
        check_nonnegative("domain.object_xy_jitter", self.object_xy_jitter)
        check_nonnegative("domain.colour_jitter", self.colour_jitter)
        if self.colour_jitter > 1.0:
            raise ValueError(f"parameter domain.colour_jitter must be in [0, 1], "
                             f"got {self.colour_jitter}")
        check_positive("domain.friction_scale", self.friction_scale)
        check_positive("domain.mass_scale", self.mass_scale)

    @property
    def needs_seed(self) -> bool:
        """Whether the world depends on random draws (then a seed makes it reproducible)."""
        return self.object_xy_jitter > 0.0 or self.colour_jitter > 0.0


def check_positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"parameter {name} must be a finite number > 0, got {value}")
    return value


def check_nonnegative(name: str, value: float) -> float:
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"parameter {name} must be a finite number >= 0, got {value}")
    return value


def domain_rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), stream])


# ---- object poses --------------------------------------------------------------------------

def stack_groups(scene: SceneSpec, placements: Sequence[Placement]) -> list[list[int]]:
    """Objects that rest on one another (overlapping footprints at different heights) move
    together, so a jitter never pulls a stack apart. Groups in file order of their first
    member; members bottom-up."""
    n = len(placements)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    prints = [footprint(o, pl.position[0], pl.position[1], pl.yaw)
              for o, pl in zip(scene.objects, placements, strict=True)]
    for i in range(n):
        for j in range(i):
            # A valid layout has no overlaps at one level, so overlapping footprints are a stack.
            if not polygons_separated(prints[i], prints[j], clearance=-1e-4):
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted((sorted(g, key=lambda k: placements[k].position[2]) for g in groups.values()),
                  key=min)


def jitter_placements(scene: SceneSpec, placements: Sequence[Placement], jitter: float,
                      seed: int, tries: int = XY_TRIES) -> list[Placement]:
    """Every object (stacks as one) shifted by a uniform [-jitter, jitter] xy offset, kept on
    the table, off the robot base and apart from the objects placed before it.

    Up to ``tries`` draws per stack, then its un-jittered pose; ValueError naming the object
    when even that collides with a jittered neighbour (reduce the jitter). Unlike the scene's
    own ``randomize``, this moves ``randomize: false`` objects too (a stack moves as one)."""
    out = list(placements)
    if jitter == 0.0:
        return out
    rng = domain_rng(seed, STREAM_XY)
    clearance = scene.randomize.clearance
    done: dict[int, Placement] = {}
    for group in stack_groups(scene, placements):
        offsets = [tuple(rng.uniform(-jitter, jitter, size=2)) for _ in range(tries)]
        # The fallback (no offset) only needs what the layout had: no overlap, touching is fine.
        for (dx, dy), gap in [*((o, clearance) for o in offsets), ((0.0, 0.0), -1e-4)]:
            moved = {i: Placement((placements[i].position[0] + dx, placements[i].position[1] + dy,
                                   placements[i].position[2]), placements[i].yaw) for i in group}
            why = None
            for i in group:
                why = _conflict(scene, i, moved[i], done, gap)
                if why is not None:
                    break
            if why is None:
                done.update(moved)
                break
        else:
            raise ValueError(
                f"domain.object_xy_jitter {jitter}: cannot place object "
                f"'{scene.objects[group[0]].id}' with seed {seed} ({why}); reduce the jitter")
    return [done[i] for i in range(len(out))]


# ---- appearance ----------------------------------------------------------------------------

def jitter_rgba(rgbas: Sequence[Sequence[float]], jitter: float,
                seed: int) -> list[tuple[float, float, float, float]]:
    """Each colour's RGB offset by a uniform [-jitter, jitter] per channel, clipped to [0, 1];
    alpha kept. One draw of 3 per colour, in order."""
    out = [tuple(float(c) for c in rgba) for rgba in rgbas]
    if jitter == 0.0:
        return out  # type: ignore[return-value]
    rng = domain_rng(seed, STREAM_COLOUR)
    jittered = []
    for rgba in out:
        rgb = np.clip(np.asarray(rgba[:3]) + rng.uniform(-jitter, jitter, size=3), 0.0, 1.0)
        jittered.append((*(float(c) for c in rgb), rgba[3]))
    return jittered  # type: ignore[return-value]


def lit_camera(camera: CameraConfig, light_scale: float = 1.0,
               light_direction: Sequence[float] | None = None) -> CameraConfig:
    """The camera with its light coefficients scaled (brighter > 1 > darker; TinyRenderer
    saturates at white) and, if given, a new light direction (towards the light, world)."""
    check_positive("domain.light_scale", light_scale)
    direction = camera.light_direction
    if light_direction is not None:
        d = [float(v) for v in light_direction]
        if len(d) != 3 or not all(math.isfinite(v) for v in d) or math.hypot(*d) < 1e-9:
            raise ValueError("parameter domain.light_direction must be 3 finite values, not all "
                             f"zero, got {list(light_direction)}")
        direction = (d[0], d[1], d[2])
    if light_scale == 1.0 and direction == camera.light_direction:
        return camera
    return replace(camera, light_direction=direction,
                   light_ambient=camera.light_ambient * light_scale,
                   light_diffuse=camera.light_diffuse * light_scale,
                   light_specular=camera.light_specular * light_scale)


# ---- pacing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pacer:
    """How many physics steps keep sim time at ``time_scale`` x the wall clock.

    ``steps_due`` returns (steps, resync): after a stall worth more than ``max_catchup_s`` of
    wall time the caller drops the backlog (restarts its reference times) instead of
    fast-forwarding, and runs ``steps`` (the cap) this tick."""

    timestep: float
    time_scale: float = 1.0
    max_catchup_s: float = 0.1  # wall seconds

    def __post_init__(self) -> None:
        check_positive("time_scale", self.time_scale)
        check_positive("timestep", self.timestep)

    @property
    def cap(self) -> int:
        return max(1, int(self.max_catchup_s * self.time_scale / self.timestep))

    def steps_due(self, wall_elapsed: float, sim_elapsed: float) -> tuple[int, bool]:
        behind = wall_elapsed * self.time_scale - sim_elapsed
        n = int(behind / self.timestep)
        if n > self.cap:
            return self.cap, True
        return max(n, 0), False
