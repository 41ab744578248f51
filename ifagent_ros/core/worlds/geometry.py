"""2-D obstacles for floor plans: oriented boxes and circles, with segment and point tests.

``inflate`` grows an obstacle by a margin (the robot's radius plus clearance): a box grows by a
square margin (slightly conservative at its corners), a circle by the margin exactly. Pure
Python, no numpy: a house has tens of obstacles and the tests are a few float operations each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box2D:
    cx: float
    cy: float
    hx: float  # half extent along the box's own x axis
    hy: float
    yaw: float = 0.0  # counter-clockwise from the world +x, rad

    def _local(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.cx, y - self.cy
        if self.yaw == 0.0:
            return dx, dy
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return c * dx + s * dy, -s * dx + c * dy

    def contains(self, x: float, y: float, inflate: float = 0.0) -> bool:
        lx, ly = self._local(x, y)
        return abs(lx) <= self.hx + inflate and abs(ly) <= self.hy + inflate

    def hits_segment(self, a: Sequence[float], b: Sequence[float], inflate: float = 0.0) -> bool:
        """Does segment a-b touch the (inflated) box? Liang-Barsky clipping in the box frame."""
        ax, ay = self._local(a[0], a[1])
        bx, by = self._local(b[0], b[1])
        dx, dy = bx - ax, by - ay
        t0, t1 = 0.0, 1.0
        for p, q in ((-dx, ax + self.hx + inflate), (dx, self.hx + inflate - ax),
                     (-dy, ay + self.hy + inflate), (dy, self.hy + inflate - ay)):
            if p == 0.0:
                if q < 0.0:
                    return False
                continue
            r = q / p
            if p < 0.0:
                t0 = max(t0, r)
            else:
                t1 = min(t1, r)
            if t0 > t1:
                return False
        return True

    def corners(self) -> list[tuple[float, float]]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return [(self.cx + c * lx - s * ly, self.cy + s * lx + c * ly)
                for lx, ly in ((self.hx, self.hy), (-self.hx, self.hy),
                               (-self.hx, -self.hy), (self.hx, -self.hy))]

    def bounds(self) -> tuple[float, float, float, float]:
        xs, ys = zip(*self.corners(), strict=True)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def radius(self) -> float:
        """Radius of the enclosing circle."""
        return math.hypot(self.hx, self.hy)


@dataclass(frozen=True)
class Circle2D:
    cx: float
    cy: float
    r: float

    def contains(self, x: float, y: float, inflate: float = 0.0) -> bool:
        return math.hypot(x - self.cx, y - self.cy) <= self.r + inflate

    def hits_segment(self, a: Sequence[float], b: Sequence[float], inflate: float = 0.0) -> bool:
        return point_segment_distance((self.cx, self.cy), a, b) <= self.r + inflate

    def bounds(self) -> tuple[float, float, float, float]:
        return self.cx - self.r, self.cy - self.r, self.cx + self.r, self.cy + self.r

    @property
    def radius(self) -> float:
        return self.r


Obstacle = Box2D | Circle2D


def point_segment_distance(p: Sequence[float], a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, bx, by = a[0], a[1], b[0], b[1]
    dx, dy = bx - ax, by - ay
    n2 = dx * dx + dy * dy
    t = 0.0 if n2 == 0.0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / n2))
    return math.hypot(p[0] - (ax + t * dx), p[1] - (ay + t * dy))
