"""The floor-plan schema of ``houses/*.yaml`` (pydantic, strict keys); see ``house.py``.

Every model forbids unknown keys, so a typo is an error naming the key. Object defaults (size,
shape, colour, whether it blocks the base) come from :mod:`ifagent_ros.core.worlds.furniture` by
label.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ifagent_ros.core.worlds.furniture import FURNITURE, furniture_defaults
from ifagent_ros.core.worlds.geometry import Box2D, Circle2D, Obstacle
from ifagent_ros.core.worlds.scene import COLOR_PALETTE, ColorSpec

ROOM_TYPES: tuple[str, ...] = ("bedroom", "kitchen", "living room", "bathroom", "hallway",
                               "office", "dining room", "laundry room", "closet")
RoomType = Literal["bedroom", "kitchen", "living room", "bathroom", "hallway", "office",
                   "dining room", "laundry room", "closet"]
_EPS = 1e-6


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _interval(v: tuple[float, float]) -> tuple[float, float]:
    if not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
        raise ValueError(f"must be [min, max] with finite min < max, got {list(v)}")
    return v


def _finite(v: tuple[float, ...]) -> tuple[float, ...]:
    if not all(math.isfinite(c) for c in v):
        raise ValueError(f"must be finite, got {list(v)}")
    return v


class RoomSpec(_Strict):
    id: str = Field(min_length=1)
    type: RoomType
    x: tuple[float, float]
    y: tuple[float, float]

    @field_validator("x", "y")
    @classmethod
    def _ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        return _interval(v)

    @property
    def center(self) -> tuple[float, float]:
        return (self.x[0] + self.x[1]) / 2.0, (self.y[0] + self.y[1]) / 2.0

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        return (self.x[0] + margin <= x <= self.x[1] - margin
                and self.y[0] + margin <= y <= self.y[1] - margin)


class DoorSpec(_Strict):
    id: str = Field(min_length=1)
    between: tuple[str, str]
    at: tuple[float, float]  # centre of the opening (snapped onto the shared wall)
    width: float = Field(0.9, gt=0.0, le=4.0)
    open: bool = True

    @field_validator("at")
    @classmethod
    def _finite_at(cls, v: tuple[float, float]) -> tuple[float, float]:
        return _finite(v)  # type: ignore[return-value]


class WallSpec(_Strict):
    start: tuple[float, float]
    end: tuple[float, float]

    @model_validator(mode="after")
    def _axis_aligned(self) -> WallSpec:
        _finite(self.start + self.end)
        dx, dy = abs(self.end[0] - self.start[0]), abs(self.end[1] - self.start[1])
        if (dx > _EPS) == (dy > _EPS):
            raise ValueError("a wall must be axis-aligned with non-zero length")
        return self


class ObjectSpec(_Strict):
    """Furniture or a landmark. ``size`` is the bounding box [x, y, z] in the object frame."""

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)  # lower case, what instructions call it ("sofa", "tv")
    position: tuple[float, float]  # footprint centre, metres
    yaw: float = 0.0
    size: tuple[float, float, float] | None = None
    shape: Literal["box", "cylinder"] | None = None
    color: ColorSpec | None = None
    room: str | None = None  # checked against the position when given
    blocks: bool | None = None  # is it an obstacle for the base (a rug is not)

    @field_validator("color", mode="before")
    @classmethod
    def _named_color(cls, v: Any) -> Any:
        if isinstance(v, str):
            if v not in COLOR_PALETTE:
                raise ValueError(f"unknown colour name {v!r}; use one of {sorted(COLOR_PALETTE)}")
            return {"name": v, "rgba": COLOR_PALETTE[v]}
        return v

    @field_validator("label")
    @classmethod
    def _lower(cls, v: str) -> str:
        if v != v.strip().lower():
            raise ValueError(f"labels are lower case without padding, got {v!r}")
        return v

    @model_validator(mode="after")
    def _defaults(self) -> ObjectSpec:
        _finite((*self.position, self.yaw))
        d = furniture_defaults(self.label)
        if d is None and self.size is None:
            raise ValueError(f"size: required for label {self.label!r} (no default; known "
                             f"labels: {', '.join(sorted(FURNITURE))})")
        if self.size is None:
            self.size = d.size  # type: ignore[union-attr]
        if not all(math.isfinite(s) and s > 0.0 for s in self.size):
            raise ValueError(f"size: all sizes must be finite and > 0, got {list(self.size)}")
        self.shape = self.shape or (d.shape if d else "box")
        if self.color is None:
            name = d.color if d else "gray"
            self.color = ColorSpec(name=name, rgba=COLOR_PALETTE[name])
        if self.blocks is None:
            self.blocks = d.blocks if d else True
        return self

    def obstacle(self) -> Obstacle:
        sx, sy, _ = self.size  # type: ignore[misc]
        if self.shape == "cylinder":
            return Circle2D(self.position[0], self.position[1], max(sx, sy) / 2.0)
        return Box2D(self.position[0], self.position[1], sx / 2.0, sy / 2.0, self.yaw)


class HouseSpec(_Strict):
    name: str = "house"
    description: str = ""
    wall_thickness: float = Field(0.1, gt=0.0, le=0.5)
    wall_height: float = Field(2.4, gt=0.0)
    rooms: list[RoomSpec] = Field(min_length=1)
    doors: list[DoorSpec] = Field(default_factory=list)
    walls: list[WallSpec] = Field(default_factory=list)
    objects: list[ObjectSpec] = Field(default_factory=list)


def format_errors(where: str, err: ValidationError) -> str:
    """One line naming each offending key (model-level checks name theirs in the message)."""
    parts = []
    for e in err.errors():
        key = ".".join(str(x) for x in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        msg = msg.removeprefix("Value error, ")
        parts.append(f"{key}: {msg}" if key else msg)
    return f"{where}: " + "; ".join(parts)
