"""Colour names from pixels: every palette colour under dimmer light, hue wrap-around, no pixels."""

from __future__ import annotations

import numpy as np
import pytest

from ifagent_ros.core.perception.color import ColorConfig, classify_hsv, estimate_color
from ifagent_ros.core.worlds.scene import COLOR_PALETTE

NAMED = [c for c in COLOR_PALETTE if c != "cyan"]
FACTORS = (0.6, 0.7, 0.8, 0.9, 1.0)
DIM_LIGHT = ("white", "orange", "yellow")  # see the xfail reason below


def _pixels(rgb01: tuple[float, ...], factor: float, seed: int, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    px = np.asarray(rgb01[:3]) * 255.0 * factor + rng.normal(0.0, 3.0, (n, 3))
    return np.clip(np.round(px), 0, 255).astype(np.uint8)


def _named_over(color: str, factors: tuple[float, ...]) -> list[tuple[float, str]]:
    wrong = []
    for k, f in enumerate(factors):
        est = estimate_color(_pixels(COLOR_PALETTE[color], f, seed=k))
        if est.name != color:
            wrong.append((f, est.name))
    return wrong


DIM_LIGHT_XFAIL = pytest.mark.xfail(
    strict=True,
    reason="brightness 0.6 (the dimmest lit face random_lighting produces: ambient 0.45 + "
           "diffuse 0.3 * sin 35 deg) is misnamed: white -> gray (V90 ~150 < white_value "
           "165; also at 0.65), orange/yellow -> brown (V90 ~149 < brown_value 150). "
           "Thresholds between the brightest gray/brown (V90 ~131/~119 at 1.0) and the "
           "dimmest white/orange/yellow (~145-150 at 0.6) would name all of them")


@pytest.mark.parametrize("color", [
    pytest.param(c, marks=DIM_LIGHT_XFAIL) if c in DIM_LIGHT else c for c in NAMED])
def test_palette_colour_named_under_brightness_0_6_to_1(color: str) -> None:
    assert _named_over(color, FACTORS) == []


@pytest.mark.parametrize("color", DIM_LIGHT)
def test_dim_light_colours_named_from_brightness_0_7(color: str) -> None:
    assert _named_over(color, (0.7, 0.8, 0.9, 1.0)) == []


def test_named_on_shaded_object_uses_lit_pixels() -> None:
    # A blue block: 40 % of its pixels on a face in shadow (brightness 0.3), the rest lit.
    lit = _pixels(COLOR_PALETTE["blue"], 1.0, seed=1, n=300)
    dark = _pixels(COLOR_PALETTE["blue"], 0.3, seed=2, n=200)
    assert estimate_color(np.concatenate([dark, lit])).name == "blue"


@pytest.mark.parametrize("hue", [0.0, 2.0, 5.0, 175.0, 178.0, 179.5])
def test_red_hue_wraps_around(hue: float) -> None:
    name, conf = classify_hsv(hue, 230.0, 220.0, ColorConfig())
    assert name == "red" and conf > 0.0


def test_red_pixels_on_both_sides_of_hue_zero() -> None:
    # Half the pixels at OpenCV hue ~178, half at ~2: the circular mean is ~0, not ~90 (green).
    import cv2

    hsv = np.zeros((200, 1, 3), np.uint8)
    hsv[:100, 0] = (178, 230, 220)
    hsv[100:, 0] = (2, 230, 220)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(-1, 3)
    est = estimate_color(rgb)
    assert est.name == "red"
    assert min(est.hue, 180.0 - est.hue) < 3.0


def test_empty_pixels_are_unknown() -> None:
    est = estimate_color(np.zeros((0, 3), np.uint8))
    assert est.name == "unknown" and est.confidence == 0.0


def test_confidence_is_lower_near_a_boundary() -> None:
    cfg = ColorConfig()
    _, far = classify_hsv(60.0, 230.0, 220.0, cfg)  # middle of green
    name, near = classify_hsv(84.0, 230.0, 220.0, cfg)  # 1 unit below green/cyan
    assert name == "green" and near < far
