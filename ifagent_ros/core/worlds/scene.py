"""Tabletop scene files: schema, validation, path resolution and seeded pose randomization.

A scene is data (``scenes/*.yaml``)::

    name: tabletop_default
    table: {x: [-0.2, 0.9], y: [-0.6, 0.6]}        # optional, metres in base_link
    randomize: {xy: 0.05, yaw: 3.14}                # optional; only used when a seed is given
    objects:
      - {id: red_block, label: block, color: red, size: [0.04, 0.04, 0.04], position: [0.5, 0.1]}
      - id: yellow_bowl
        label: bowl
        color: {name: yellow, rgba: [0.95, 0.8, 0.1, 1.0]}
        size: [0.16, 0.16, 0.05]
        position: [0.55, -0.15]
        yaw: 0.0
        mass: 0.2
        friction: 0.8

``position`` is the centre of the object's bounding box; with only [x, y] it rests on the table.
``size`` is the bounding-box extent [x, y, z] in the object's frame (round objects: [d, d, h];
a mug: [cup diameter + handle, cup diameter, height]). Nothing here touches PyBullet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Repo checkout: <repo>/ifagent_ros/core/worlds/scene.py -> <repo>/scenes
REPO_SCENE_DIR = Path(__file__).resolve().parents[3] / "scenes"

COLOR_PALETTE: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.1, 0.1, 1.0),
    "green": (0.1, 0.7, 0.2, 1.0),
    "blue": (0.1, 0.25, 0.85, 1.0),
    "yellow": (0.95, 0.8, 0.1, 1.0),
    "orange": (0.95, 0.5, 0.1, 1.0),
    "purple": (0.55, 0.2, 0.7, 1.0),
    "pink": (0.95, 0.45, 0.65, 1.0),
    "cyan": (0.1, 0.75, 0.8, 1.0),
    "white": (0.95, 0.95, 0.95, 1.0),
    "black": (0.08, 0.08, 0.08, 1.0),
    "gray": (0.5, 0.5, 0.5, 1.0),
    "brown": (0.45, 0.28, 0.12, 1.0),
}

ObjectLabel = Literal["block", "bowl", "plate", "mug"]
ROUND_LABELS = ("bowl", "plate")
DEFAULT_MASS = {"block": 0.1, "bowl": 0.2, "plate": 0.3, "mug": 0.25}
BASE_KEEPOUT_RADIUS = 0.15  # the Panda's base occupies roughly this disc around the origin
_Positive = Field(gt=0.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColorSpec(_Strict):
    name: str
    rgba: tuple[float, float, float, float]

    @field_validator("rgba")
    @classmethod
    def _unit_range(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not all(0.0 <= c <= 1.0 for c in v):
            raise ValueError("rgba components must be in [0, 1]")
        return v


class TableSpec(_Strict):
    x: tuple[float, float] = (-0.2, 0.9)  # the robot base stands near the x_min edge
    y: tuple[float, float] = (-0.6, 0.6)
    height: float = Field(0.75, gt=0.0)  # the floor is at z = -height
    rgba: tuple[float, float, float, float] = (0.72, 0.62, 0.5, 1.0)
    friction: float = Field(0.8, ge=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> TableSpec:
        if not (self.x[0] < self.x[1] and self.y[0] < self.y[1]):
            raise ValueError("table x and y must be [min, max] with min < max")
        return self


class RandomizeSpec(_Strict):
    xy: float = Field(0.0, ge=0.0)  # uniform jitter in [-xy, xy] on each of x and y, metres
    yaw: float = Field(0.0, ge=0.0)  # uniform jitter in [-yaw, yaw], radians
    clearance: float = Field(0.01, ge=0.0)  # minimum gap between jittered footprints, metres
    max_tries: int = Field(200, gt=0)


class ObjectSpec(_Strict):
    id: str = Field(min_length=1)
    label: ObjectLabel
    color: ColorSpec
    size: tuple[float, float, float]
    position: tuple[float, float] | tuple[float, float, float]
    yaw: float = 0.0
    mass: float | None = Field(None, gt=0.0)
    friction: float | None = Field(None, ge=0.0)
    randomize: bool = True  # false keeps e.g. a stacked object exactly where it is written

    @field_validator("color", mode="before")
    @classmethod
    def _named_color(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v not in COLOR_PALETTE:
                raise ValueError(f"unknown colour name {v!r}; use one of {sorted(COLOR_PALETTE)} "
                                 "or {name: ..., rgba: [r, g, b, a]}")
            return {"name": v, "rgba": COLOR_PALETTE[v]}
        return v

    @field_validator("size")
    @classmethod
    def _positive_size(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(math.isfinite(s) and s > 0.0 for s in v):
            raise ValueError(f"all sizes must be finite and > 0, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _shape_rules(self) -> ObjectSpec:
        sx, sy, _ = self.size
        if self.label in ROUND_LABELS and abs(sx - sy) > 1e-9:
            raise ValueError(f"size: a {self.label} is round, size[0] must equal size[1]")
        if self.label == "mug" and not sx > sy:
            raise ValueError("size: a mug's size[0] (cup + handle) must exceed size[1] (cup)")
        return self

    @property
    def resting_z(self) -> float:
        """Bounding-box centre height when the object stands on the table (1 mm drop)."""
        return self.size[2] / 2.0 + 0.001

    @property
    def effective_mass(self) -> float:
        return self.mass if self.mass is not None else DEFAULT_MASS[self.label]


class SceneSpec(_Strict):
    name: str = "scene"
    description: str = ""
    table: TableSpec = Field(default_factory=TableSpec)
    randomize: RandomizeSpec = Field(default_factory=RandomizeSpec)
    objects: list[ObjectSpec]


@dataclass(frozen=True)
class Placement:
    """Where an object starts: bounding-box centre in base_link and yaw about z."""

    position: tuple[float, float, float]
    yaw: float


def _format_errors(where: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        key = ".".join(str(x) for x in e["loc"]) or "<object>"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        parts.append(f"{key}: {msg}")
    return f"{where}: " + "; ".join(parts)


def parse_scene(data: Any, source: str = "<scene>") -> SceneSpec:
    """Validate a scene mapping; errors are ValueErrors naming the object id and the key."""
    if not isinstance(data, dict):
        raise ValueError(f"scene {source}: top level must be a mapping, got {type(data).__name__}")
    raw_objects = data.get("objects")
    if not isinstance(raw_objects, list) or not raw_objects:
        raise ValueError(f"scene {source}: key 'objects' must be a non-empty list")
    objects: list[ObjectSpec] = []
    for i, raw in enumerate(raw_objects):
        oid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        try:
            objects.append(ObjectSpec.model_validate(raw))
        except ValidationError as err:
            raise ValueError(_format_errors(f"scene {source}: object '{oid}'", err)) from None
    ids = [o.id for o in objects]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"scene {source}: duplicate object ids {dupes}")
    rest = {k: v for k, v in data.items() if k != "objects"}
    try:
        return SceneSpec.model_validate({**rest, "objects": objects})
    except ValidationError as err:
        raise ValueError(_format_errors(f"scene {source}", err)) from None


def load_scene(path: str | Path) -> SceneSpec:
    path = Path(path)
    with path.open() as f:
        data = yaml.safe_load(f)
    return parse_scene(data, source=str(path))


def resolve_scene_path(scene: str | Path, search_dirs: Sequence[str | Path] = ()) -> Path:
    """An absolute path as is; a relative name in ``search_dirs`` then the repo's ``scenes``."""
    p = Path(scene).expanduser()
    if p.is_absolute():
        if not p.is_file():
            raise FileNotFoundError(f"scene file {p} does not exist")
        return p
    names = [p] if p.suffix in (".yaml", ".yml") else [p, p.with_name(p.name + ".yaml")]
    tried = []
    for d in [*map(Path, search_dirs), REPO_SCENE_DIR, Path.cwd()]:
        for name in names:
            cand = d / name
            tried.append(str(cand))
            if cand.is_file():
                return cand
    raise FileNotFoundError(f"scene {scene!r} not found; tried {tried}")


# ---- footprints and placement ---------------------------------------------------------------

def footprint(obj: ObjectSpec, x: float, y: float, yaw: float) -> np.ndarray:
    """Convex xy outline (N x 2) of an object; round ones as a circumscribed 16-gon."""
    if obj.label in ROUND_LABELS:
        n = 16
        r = obj.size[0] / 2.0 / math.cos(math.pi / n)
        a = np.arange(n) * 2.0 * math.pi / n
        return np.stack([x + r * np.cos(a), y + r * np.sin(a)], axis=1)
    hx, hy = obj.size[0] / 2.0, obj.size[1] / 2.0
    corners = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
    c, s = math.cos(yaw), math.sin(yaw)
    return corners @ np.array([[c, s], [-s, c]]) + np.array([x, y])


def polygons_separated(a: np.ndarray, b: np.ndarray, clearance: float = 0.0) -> bool:
    """Separating-axis test for convex polygons: True when the gap is at least ``clearance``."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        pa, pb = a @ normals.T, b @ normals.T
        gap = np.maximum(pb.min(axis=0) - pa.max(axis=0), pa.min(axis=0) - pb.max(axis=0))
        if np.any(gap >= clearance):
            return True
    return False


def _z_range(obj: ObjectSpec, z: float) -> tuple[float, float]:
    return z - obj.size[2] / 2.0, z + obj.size[2] / 2.0


def _conflict(scene: SceneSpec, idx: int, pl: Placement, placed: dict[int, Placement],
              clearance: float) -> str | None:
    """Why placement ``pl`` of object ``idx`` is invalid, or None."""
    obj = scene.objects[idx]
    poly = footprint(obj, pl.position[0], pl.position[1], pl.yaw)
    t = scene.table
    if (poly[:, 0].min() < t.x[0] or poly[:, 0].max() > t.x[1]
            or poly[:, 1].min() < t.y[0] or poly[:, 1].max() > t.y[1]):
        return "it is not fully on the table"
    keepout = np.array([[BASE_KEEPOUT_RADIUS * math.cos(a), BASE_KEEPOUT_RADIUS * math.sin(a)]
                        for a in np.linspace(0.0, 2.0 * math.pi, 16, endpoint=False)])
    if not polygons_separated(poly, keepout):
        return "it overlaps the robot base"
    zlo, zhi = _z_range(obj, pl.position[2])
    for j, other_pl in placed.items():
        other = scene.objects[j]
        olo, ohi = _z_range(other, other_pl.position[2])
        if zhi <= olo + 1e-6 or ohi <= zlo + 1e-6:
            continue  # stacked: different heights
        opoly = footprint(other, other_pl.position[0], other_pl.position[1], other_pl.yaw)
        if not polygons_separated(poly, opoly, clearance):
            return f"it overlaps object '{other.id}'"
    return None


def nominal_placements(scene: SceneSpec) -> list[Placement]:
    out = []
    for obj in scene.objects:
        z = obj.position[2] if len(obj.position) == 3 else obj.resting_z
        out.append(Placement((obj.position[0], obj.position[1], z), obj.yaw))
    return out


def sample_placements(scene: SceneSpec, seed: int | None) -> list[Placement]:
    """Nominal poses (seed None) or poses jittered per ``scene.randomize``, reproducible per seed.

    Rejection sampling per object in file order; raises ValueError naming the object when no
    valid pose is found (or when the nominal layout itself is invalid).
    """
    nominal = nominal_placements(scene)
    rnd = scene.randomize
    if seed is None or (rnd.xy == 0.0 and rnd.yaw == 0.0):
        placed: dict[int, Placement] = {}
        for i, pl in enumerate(nominal):
            why = _conflict(scene, i, pl, placed, clearance=-1e-4)  # touching is fine here
            if why:
                raise ValueError(f"scene '{scene.name}': object '{scene.objects[i].id}' "
                                 f"at its written pose is invalid: {why}")
            placed[i] = pl
        return nominal
    rng = np.random.default_rng(seed)
    placed = {}
    for i, (obj, base) in enumerate(zip(scene.objects, nominal, strict=True)):
        if not obj.randomize:
            candidates = [base]
        else:
            candidates = []
            for _ in range(rnd.max_tries):
                dx, dy = rng.uniform(-rnd.xy, rnd.xy, size=2)
                dyaw = rng.uniform(-rnd.yaw, rnd.yaw)
                candidates.append(Placement(
                    (base.position[0] + dx, base.position[1] + dy, base.position[2]),
                    base.yaw + dyaw))
        clearance = rnd.clearance if obj.randomize else -1e-4
        why = "no candidates"
        for pl in candidates:
            why = _conflict(scene, i, pl, placed, clearance)
            if why is None:
                placed[i] = pl
                break
        else:
            raise ValueError(
                f"scene '{scene.name}': cannot place object '{obj.id}' with seed {seed} after "
                f"{len(candidates)} tries (last: {why}); reduce randomize.xy or spread objects")
    return [placed[i] for i in range(len(scene.objects))]
