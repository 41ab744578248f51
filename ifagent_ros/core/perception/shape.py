"""Object extent and a shape label from the geometry of its points (opencv, numpy).

Points are in ``base_link`` with their height above the support plane. The footprint is the
convex hull of the points projected on the plane (x, y); from above the camera sees every
object's rim or top face, so the hull covers the whole footprint even when sides are hidden.

Labels: ``block`` (box: rectangular footprint, flat top), ``plate`` (round, thin), ``bowl``
(round, open: its inside is lower than its rim), ``mug`` (open cup, tall for its width, often
with a handle), ``cylinder`` (round, closed top), ``other``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class ShapeConfig:
    min_rectangularity: float = 0.70  # hull area / min-area-rectangle area for a block
    min_circularity: float = 0.80  # hull area / min-enclosing-circle area for round objects
    plate_max_height: float = 0.03
    top_band: float = 0.008  # metres below the top that count as "the top"
    beyond_fraction: float = 0.25  # of the radius past the centre, seen from the camera
    open_min_fraction: float = 0.18  # of the points below the top lying there: open
    mug_min_aspect: float = 0.75  # height / cup diameter of a mug (bowls are flatter)


@dataclass(frozen=True)
class ShapeEstimate:
    label: str
    center: np.ndarray  # bounding-box centre in base_link
    size: np.ndarray  # axis-aligned extent in base_link
    height: float  # above the support plane
    rectangularity: float
    circularity: float
    open_fraction: float
    confidence: float


def estimate_shape(points: np.ndarray, heights: np.ndarray, plane_z_at: float,
                   resting: bool, view_xy: np.ndarray, config: ShapeConfig | None = None
                   ) -> ShapeEstimate:
    """Centre, extent and label of one object's points (N x 3) with heights above the plane.

    ``plane_z_at`` is the support plane's z under the object; ``resting`` says the object stands
    on it (then its bottom is the plane even though the camera cannot see the bottom);
    ``view_xy`` is the camera's position projected on the table.
    """
    cfg = config or ShapeConfig()
    xy = points[:, :2].astype(np.float32)
    top = float(np.percentile(heights, 99.0))
    bottom = 0.0 if resting else float(np.percentile(heights, 1.0))
    height = max(top - bottom, 1e-3)
    hull = cv2.convexHull(xy)
    hull_area = float(cv2.contourArea(hull))
    (rcx, rcy), (rw, rh), _ = cv2.minAreaRect(hull)
    (ccx, ccy), radius = cv2.minEnclosingCircle(hull)
    rect_area = max(rw * rh, 1e-9)
    circ_area = max(math.pi * radius * radius, 1e-9)
    rectangularity = hull_area / rect_area
    circularity = hull_area / circ_area
    # Open objects (bowl, mug): the camera sees their inside wall on the side away from it.
    # A closed convex object shows only the top and the sides that face the camera, so below
    # its top nothing is visible beyond its centre (as seen from the camera).
    away = np.array([ccx, ccy]) - np.asarray(view_xy, dtype=float)
    away /= max(float(np.linalg.norm(away)), 1e-9)
    low = heights < top - cfg.top_band
    if low.sum() >= 10:
        beyond = (xy[low] - np.array([ccx, ccy])) @ away > cfg.beyond_fraction * radius
        open_fraction = float(beyond.mean())
    else:
        open_fraction = 0.0
    is_open = open_fraction >= cfg.open_min_fraction and height > cfg.plate_max_height
    round_ = circularity >= cfg.min_circularity and circularity > rectangularity
    diameter = 2.0 * radius
    if rectangularity >= cfg.min_rectangularity and not is_open and not round_:
        label, margin = "block", rectangularity - cfg.min_rectangularity
        center_xy = (rcx, rcy)
    elif height <= cfg.plate_max_height and round_:
        label, margin = "plate", cfg.plate_max_height - height
        center_xy = (ccx, ccy)
    elif is_open:
        cup = min(rw, rh) if not round_ else diameter
        tall = height / max(cup, 1e-3) >= cfg.mug_min_aspect
        label = "mug" if tall or not round_ else "bowl"
        margin = open_fraction - cfg.open_min_fraction
        center_xy = (rcx, rcy) if label == "mug" else (ccx, ccy)
    elif round_:
        label, margin = "cylinder", circularity - cfg.min_circularity
        center_xy = (ccx, ccy)
    else:
        label, margin = "other", 0.0
        center_xy = (rcx, rcy)
    mins, maxs = points.min(axis=0), points.max(axis=0)
    size = np.array([maxs[0] - mins[0], maxs[1] - mins[1], height])
    center = np.array([center_xy[0], center_xy[1], plane_z_at + bottom + height / 2.0])
    confidence = float(np.clip(0.6 + 4.0 * margin, 0.3, 1.0)) if label != "other" else 0.3
    return ShapeEstimate(label, center, size, height, rectangularity, circularity, open_fraction,
                         confidence)
