"""Shape labels and centres from the surfaces a camera sees (synthetic point sets).

Each object stands on the plane z = 0 and is sampled on a ~3 mm grid, keeping only what a camera
at ``CAM`` sees: the top (or rim), the outside walls that face the camera and, for open
containers, the inside wall and floor visible over the near rim.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ifagent_ros.core.perception.shape import estimate_shape

CAM = np.array([1.2, 0.0, 0.75])
STEP = 0.003


def _rot(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s], [s, c]])


def _facing(points: np.ndarray, normals_xy: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", CAM[None, :2] - points[:, :2], normals_xy) > 0.0


def _span(lo: float, hi: float) -> np.ndarray:
    n = max(2, int(round((hi - lo) / STEP)) + 1)
    return np.linspace(lo, hi, n)


def box_points(center: tuple[float, float], size: tuple[float, float, float],
               yaw: float = 0.0) -> np.ndarray:
    sx, sy, sz = size
    r = _rot(yaw)
    gx, gy = np.meshgrid(_span(-sx / 2, sx / 2), _span(-sy / 2, sy / 2))
    top = np.column_stack([np.column_stack([gx.ravel(), gy.ravel()]) @ r.T + center,
                           np.full(gx.size, sz)])
    parts = [top]
    for axis, sign in ((0, 1), (0, -1), (1, 1), (1, -1)):
        half_n, half_t = (sx / 2, sy / 2) if axis == 0 else (sy / 2, sx / 2)
        t, z = np.meshgrid(_span(-half_t, half_t), _span(0.0, sz))
        local = np.zeros((t.size, 2))
        local[:, axis] = sign * half_n
        local[:, 1 - axis] = t.ravel()
        normal = np.zeros(2)
        normal[axis] = sign
        face = np.column_stack([local @ r.T + center, z.ravel()])
        if _facing(face[:1], (r @ normal)[None, :])[0]:
            parts.append(face)
    return np.concatenate(parts)


def _disc(center: np.ndarray, r_lo: float, r_hi: float, z: float) -> np.ndarray:
    gx, gy = np.meshgrid(_span(-r_hi, r_hi), _span(-r_hi, r_hi))
    rr = np.hypot(gx, gy).ravel()
    keep = (rr <= r_hi) & (rr >= r_lo)
    return np.column_stack([gx.ravel()[keep] + center[0], gy.ravel()[keep] + center[1],
                            np.full(int(keep.sum()), z)])


def _wall(center: np.ndarray, radius: float, z0: float, z1: float) -> tuple[np.ndarray, np.ndarray]:
    a, z = np.meshgrid(np.arange(0.0, 2 * math.pi, STEP / radius), _span(z0, z1))
    n = np.column_stack([np.cos(a.ravel()), np.sin(a.ravel())])
    return np.column_stack([center + radius * n, z.ravel()]), n


def cylinder_points(center: tuple[float, float], diameter: float, height: float) -> np.ndarray:
    c = np.asarray(center, float)
    side, n = _wall(c, diameter / 2, 0.0, height)
    return np.concatenate([_disc(c, 0.0, diameter / 2, height), side[_facing(side, n)]])


def _over_rim(points: np.ndarray, center: np.ndarray, r_in: float, rim: float) -> np.ndarray:
    """Inside points whose ray to the camera passes over the rim (not through the near wall)."""
    t = (rim - points[:, 2]) / (CAM[2] - points[:, 2])
    q = points[:, :2] + t[:, None] * (CAM[None, :2] - points[:, :2])
    return np.linalg.norm(q - center, axis=1) <= r_in


def container_points(center: np.ndarray, diameter: float, height: float,
                     wall: float) -> np.ndarray:
    r_out, r_in = diameter / 2, diameter / 2 - wall
    outer, n = _wall(center, r_out, 0.0, height)
    inner, n_in = _wall(center, r_in, wall, height)
    floor = _disc(center, 0.0, r_in, wall)
    inner = inner[_facing(inner, -n_in) & _over_rim(inner, center, r_in, height)]
    floor = floor[_over_rim(floor, center, r_in, height)]
    return np.concatenate([_disc(center, r_in, r_out, height), outer[_facing(outer, n)],
                           inner, floor])


def mug_points(bbox_center: tuple[float, float], cup: float, handle: float, height: float,
               yaw: float) -> np.ndarray:
    """A cup with a handle sticking out ``handle`` metres along the local +x (yaw-rotated)."""
    d = _rot(yaw) @ np.array([1.0, 0.0])
    cup_center = np.asarray(bbox_center, float) - d * handle / 2
    body = container_points(cup_center, cup, height, wall=0.005)
    grip_center = cup_center + d * (cup / 2 + handle / 2)
    grip = box_points(tuple(grip_center), (handle, 0.012, 0.6 * height), yaw)
    grip[:, 2] += 0.2 * height
    return np.concatenate([body, grip])


def _estimate(points: np.ndarray):
    return estimate_shape(points, points[:, 2].copy(), 0.0, True, CAM[:2])


MINAREARECT_XFAIL = pytest.mark.xfail(
    strict=True,
    reason="shape.py: a mug's centre is the cv2.minAreaRect centre of its hull; for a cup plus a "
           "thin handle the minimum-area rectangle is tilted, not aligned with the handle, so "
           "the centre is ~7 mm off the bounding-box centre (and with the handle pointing at the "
           "camera the near wall and handle dilute open_fraction to 0.176 < 0.18: 'block')")

CASES = [
    ("block", box_points((0.5, 0.1), (0.04, 0.04, 0.04)), (0.5, 0.1, 0.02)),
    ("block", box_points((0.45, -0.2), (0.04, 0.04, 0.04), 0.3), (0.45, -0.2, 0.02)),
    ("block", box_points((0.6, 0.0), (0.05, 0.05, 0.03), math.pi / 4), (0.6, 0.0, 0.015)),
    ("block", box_points((0.4, 0.25), (0.06, 0.03, 0.05), -1.0), (0.4, 0.25, 0.025)),
    pytest.param("block", box_points((0.7, -0.3), (0.035, 0.055, 0.04), 2.2), (0.7, -0.3, 0.02),
                 marks=pytest.mark.xfail(
                     strict=True,
                     reason="shape.py open test: the long side face seen obliquely reaches past "
                            "the centre by > 0.25 r, open_fraction 0.1875 >= 0.18 -> 'mug' "
                            "(the same block rendered at 640x480 in the sim is named 'block': "
                            "the margin is thin, sampling decides)")),
    ("cylinder", cylinder_points((0.45, -0.1), 0.06, 0.07), (0.45, -0.1, 0.035)),
    ("cylinder", cylinder_points((0.65, 0.2), 0.08, 0.05), (0.65, 0.2, 0.025)),
    ("plate", cylinder_points((0.6, 0.25), 0.18, 0.015), (0.6, 0.25, 0.0075)),
    ("plate", cylinder_points((0.5, -0.3), 0.14, 0.02), (0.5, -0.3, 0.01)),
    ("bowl", container_points(np.array([0.6, -0.25]), 0.16, 0.05, 0.006), (0.6, -0.25, 0.025)),
    ("bowl", container_points(np.array([0.45, 0.2]), 0.13, 0.06, 0.006), (0.45, 0.2, 0.03)),
    ("mug", mug_points((0.5, -0.15), 0.07, 0.02, 0.08, math.pi / 4), (0.5, -0.15, 0.04)),
    pytest.param("mug", mug_points((0.35, 0.3), 0.08, 0.03, 0.09, 0.0), (0.35, 0.3, 0.045),
                 marks=MINAREARECT_XFAIL),
    pytest.param("mug", mug_points((0.55, 0.15), 0.08, 0.025, 0.1, -math.pi / 2),
                 (0.55, 0.15, 0.05), marks=MINAREARECT_XFAIL),
]
IDS = ["block_square", "block_yaw0.3", "block_yaw45", "block_long_yaw-1", "block_long_yaw2.2",
       "cylinder_tall", "cylinder_wide", "plate_18cm", "plate_14cm", "bowl_16cm", "bowl_13cm",
       "mug_handle_yaw45", "mug_handle_to_camera", "mug_handle_sideways"]


@pytest.mark.parametrize(("label", "points", "center"), CASES, ids=IDS)
def test_label_and_centre(label: str, points: np.ndarray, center: tuple[float, ...]) -> None:
    est = _estimate(points)
    assert est.label == label, est
    assert np.linalg.norm(est.center - np.array(center)) < 0.005, (est.center, center)
    assert est.height == pytest.approx(2 * center[2], abs=0.004)
    assert 0.3 <= est.confidence <= 1.0


def test_block_extent_follows_rotation() -> None:
    straight = _estimate(box_points((0.5, 0.0), (0.06, 0.03, 0.04)))
    np.testing.assert_allclose(straight.size, [0.06, 0.03, 0.04], atol=0.004)
    turned = _estimate(box_points((0.5, 0.0), (0.06, 0.03, 0.04), math.pi / 2))
    np.testing.assert_allclose(turned.size, [0.03, 0.06, 0.04], atol=0.004)
    assert straight.rectangularity > 0.9


def test_open_containers_show_their_inside_and_closed_ones_do_not() -> None:
    closed = _estimate(cylinder_points((0.6, -0.25), 0.16, 0.05))
    open_ = _estimate(container_points(np.array([0.6, -0.25]), 0.16, 0.05, 0.006))
    assert closed.open_fraction < 0.05
    assert open_.open_fraction > 0.18


def test_lifted_object_centre_uses_its_own_bottom() -> None:
    # A block held 10 cm above the plane: not resting, so its bottom is seen, not assumed.
    pts = box_points((0.5, 0.0), (0.04, 0.04, 0.04))
    bottom = pts.copy()
    bottom[:, 2] = 0.0
    pts = np.concatenate([pts, bottom[np.abs(pts[:, 2] - 0.04) < 1e-9]])  # its underside too
    pts[:, 2] += 0.10
    est = estimate_shape(pts, pts[:, 2].copy(), 0.0, False, CAM[:2])
    assert est.center[2] == pytest.approx(0.12, abs=0.003)
    assert est.height == pytest.approx(0.04, abs=0.003)
