"""Colour names from pixels: HSV statistics of an object's lit surfaces (opencv).

Shading darkens the faces turned away from the light, so the name is decided on the brighter
part of the object's pixels: hue as a circular mean, the median saturation and the 90th
percentile of value. Thresholds are in OpenCV's 8-bit HSV (H in [0, 180), S and V in [0, 255]).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

COLOR_NAMES: tuple[str, ...] = ("red", "orange", "yellow", "green", "cyan", "blue", "purple",
                                "pink", "brown", "white", "gray", "black")


@dataclass(frozen=True)
class ColorConfig:
    black_value: float = 50.0  # V90 below this: black, whatever the hue
    achromatic_saturation: float = 60.0  # median S below this: white or gray
    white_value: float = 165.0  # achromatic with V90 above this: white, else gray
    brown_value: float = 150.0  # orange/yellow-ish hue with V90 below this: brown
    pink_saturation: float = 170.0  # red-ish hue with S below this: pink
    lit_quantile: float = 60.0  # pixels at or above this V percentile are "lit"
    # Hue bins (upper edges, OpenCV degrees/2) for chromatic colours, checked in order.
    hue_bins: tuple[tuple[float, str], ...] = (
        (8.0, "red"), (21.0, "orange"), (34.0, "yellow"), (85.0, "green"), (99.0, "cyan"),
        (130.0, "blue"), (152.0, "purple"), (180.0, "red"))


@dataclass(frozen=True)
class ColorEstimate:
    name: str
    hue: float  # OpenCV hue [0, 180)
    saturation: float
    value: float  # 90th percentile of V
    confidence: float  # how far the statistics are from the nearest decision boundary, 0..1


def _circular_mean_hue(h: np.ndarray) -> float:
    ang = h.astype(np.float64) * (np.pi / 90.0)
    mean = np.arctan2(np.sin(ang).mean(), np.cos(ang).mean())
    return float((mean * 90.0 / np.pi) % 180.0)


def classify_hsv(hue: float, sat: float, val: float, cfg: ColorConfig) -> tuple[str, float]:
    """Name and a 0..1 margin-based confidence for HSV statistics."""
    if val < cfg.black_value:
        return "black", min(1.0, (cfg.black_value - val) / 20.0)
    if sat < cfg.achromatic_saturation:
        margin_s = (cfg.achromatic_saturation - sat) / 30.0
        if val >= cfg.white_value:
            return "white", min(1.0, margin_s, (val - cfg.white_value) / 20.0)
        return "gray", min(1.0, margin_s, (cfg.white_value - val) / 20.0,
                           (val - cfg.black_value) / 20.0)
    name = "red"
    lower = 0.0
    for upper, label in cfg.hue_bins:
        if hue < upper:
            name = label
            break
        lower = upper
    margin_h = min(hue - lower, upper - hue) / 4.0 if name != "red" else 1.0
    conf = min(1.0, (sat - cfg.achromatic_saturation) / 30.0, max(margin_h, 0.25))
    if name in ("orange", "yellow") and hue < 26.0 and val < cfg.brown_value:
        return "brown", min(conf, (cfg.brown_value - val) / 20.0)
    if name in ("red", "purple") and (hue >= 150.0 or hue < 8.0) and sat < cfg.pink_saturation:
        return "pink", min(conf, (cfg.pink_saturation - sat) / 20.0)
    return name, conf


def estimate_color(rgb_pixels: np.ndarray, config: ColorConfig | None = None) -> ColorEstimate:
    """Colour name of an object from its RGB pixels (N x 3 uint8)."""
    cfg = config or ColorConfig()
    px = np.asarray(rgb_pixels, dtype=np.uint8).reshape(-1, 1, 3)
    if px.shape[0] == 0:
        return ColorEstimate("unknown", 0.0, 0.0, 0.0, 0.0)
    hsv = cv2.cvtColor(px, cv2.COLOR_RGB2HSV).reshape(-1, 3).astype(np.float32)
    v = hsv[:, 2]
    lit = hsv[v >= np.percentile(v, cfg.lit_quantile)]
    hue = _circular_mean_hue(lit[:, 0])
    sat = float(np.median(lit[:, 1]))
    val = float(np.percentile(v, 90.0))
    name, conf = classify_hsv(hue, sat, val, cfg)
    return ColorEstimate(name, hue, sat, val, float(max(0.0, conf)))
