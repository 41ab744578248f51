"""A pinhole RGB-D camera rendered with PyBullet's TinyRenderer (CPU, headless).

Conventions:
- Intrinsics follow OpenCV/ROS: pixel centres at integer coordinates, ``u = fx X/Z + cx`` with
  (X, Y, Z) in the optical frame (z forward, x right, y down). The OpenGL projection handed to
  PyBullet is built from K, so the two agree exactly (including an off-centre cx, cy).
- Depth is the z-depth along the optical axis in metres (what ``32FC1`` depth images carry, not
  the ray length). Pixels that hit nothing are NaN (REP 118 "no return").
- The pose returned is that of ``camera_color_optical_frame`` in the world (== base_link).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pybullet as p

Vec3 = tuple[float, float, float]


@dataclass
class CameraConfig:
    width: int = 640
    height: int = 480
    fov_deg: float = 45.0  # vertical field of view; used when fx/fy are not given
    fx: float | None = None
    fy: float | None = None
    cx: float | None = None  # default: image centre, (width - 1) / 2
    cy: float | None = None
    near: float = 0.05
    far: float = 5.0
    eye: Vec3 = (1.2, 0.0, 0.75)  # in front of the table, looking back and down at it
    target: Vec3 = (0.45, 0.0, 0.0)
    up: Vec3 = (0.0, 0.0, 1.0)
    # Lighting of TinyRenderer (direction towards the light, in the world frame) and coefficients.
    light_direction: Vec3 = (0.4, 0.2, 1.0)
    light_ambient: float = 0.6
    light_diffuse: float = 0.4
    light_specular: float = 0.02
    # Depth sensor model (off by default): axial noise sigma(z) = depth_noise * (1.5e-3 +
    # 1.9e-3 * (z - 0.4)^2) metres (Nguyen et al. 2012, Kinect-class structured light) and a
    # fraction of pixels with no return (NaN). ``noise_seed`` makes the noise reproducible.
    depth_noise: float = 0.0
    depth_dropout: float = 0.0
    # Plain Gaussian depth noise (metres, the same sigma at every range): a domain-randomization
    # knob for test campaigns, on top of the model above. Also seeded by ``noise_seed``.
    depth_noise_std: float = 0.0
    noise_seed: int | None = None

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"camera width/height must be > 0, got {self.width}x{self.height}")
        if not 0.0 < self.near < self.far:
            raise ValueError(f"camera needs 0 < near < far, got near={self.near} far={self.far}")
        if (self.fx is None) != (self.fy is None):
            raise ValueError("camera: give both fx and fy, or neither (then fov_deg is used)")
        if self.fx is None and not 0.0 < self.fov_deg < 180.0:
            raise ValueError(f"camera fov_deg must be in (0, 180), got {self.fov_deg}")
        f = np.subtract(self.target, self.eye)
        if np.linalg.norm(f) < 1e-9:
            raise ValueError("camera eye and target coincide")
        if np.linalg.norm(np.cross(f, self.up)) < 1e-9 * np.linalg.norm(f):
            raise ValueError("camera up vector is parallel to the viewing direction")
        if self.depth_noise < 0.0 or not 0.0 <= self.depth_dropout < 1.0:
            raise ValueError("camera depth_noise must be >= 0 and depth_dropout in [0, 1)")
        if not (math.isfinite(self.depth_noise_std) and self.depth_noise_std >= 0.0):
            raise ValueError(f"camera depth_noise_std must be a finite number >= 0 (metres), "
                             f"got {self.depth_noise_std}")

    # -- intrinsics ------------------------------------------------------------------------
    def intrinsics(self) -> np.ndarray:
        """K (3x3) of the rendered image."""
        if self.fx is not None and self.fy is not None:
            fx, fy = float(self.fx), float(self.fy)
        else:
            fy = (self.height / 2.0) / math.tan(math.radians(self.fov_deg) / 2.0)
            fx = fy  # square pixels
        cx = (self.width - 1) / 2.0 if self.cx is None else float(self.cx)
        cy = (self.height - 1) / 2.0 if self.cy is None else float(self.cy)
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    def projection_matrix(self) -> list[float]:
        """OpenGL projection (column-major, as PyBullet wants it) equivalent to K."""
        k = self.intrinsics()
        w, h, n, f = self.width, self.height, self.near, self.far
        # TinyRenderer samples column u at ndc x = 2u/w - 1 and row v (row 0 = top) at
        # ndc y = 1 - 2(v + 1)/h (pixel corners, not centres); this offset makes pixel (u, v)
        # of the returned image exactly the ray K^-1 [u, v, 1] (checked against rayTest).
        ax = 2.0 * k[0, 2] / w - 1.0
        ay = 1.0 - (2.0 * k[1, 2] + 2.0) / h
        m = np.array([
            [2.0 * k[0, 0] / w, 0.0, -ax, 0.0],
            [0.0, 2.0 * k[1, 1] / h, -ay, 0.0],
            [0.0, 0.0, -(f + n) / (f - n), -2.0 * f * n / (f - n)],
            [0.0, 0.0, -1.0, 0.0],
        ])
        return m.T.flatten().tolist()

    # -- extrinsics ------------------------------------------------------------------------
    def optical_rotation(self) -> np.ndarray:
        """Columns: the optical frame's x (right), y (down), z (forward) in the world."""
        fwd = np.subtract(self.target, self.eye).astype(float)
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, self.up)
        right /= np.linalg.norm(right)
        down = np.cross(fwd, right)
        return np.stack([right, down, fwd], axis=1)

    def optical_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Position and quaternion (x, y, z, w) of camera_color_optical_frame in base_link."""
        return np.array(self.eye, dtype=float), rotation_to_quaternion(self.optical_rotation())

    def view_matrix(self) -> list[float]:
        """OpenGL view matrix (column-major): world -> GL camera (x right, y up, z backward)."""
        r_opt = self.optical_rotation()
        r_gl = r_opt * np.array([1.0, -1.0, -1.0])  # flip y and z axes
        v = np.eye(4)
        v[:3, :3] = r_gl.T
        v[:3, 3] = -r_gl.T @ np.asarray(self.eye, dtype=float)
        return v.T.flatten().tolist()

    def project(self, points_world: np.ndarray) -> np.ndarray:
        """Pixel coordinates (N x 2, u right, v down) of world points (N x 3)."""
        pts = np.atleast_2d(points_world) - np.asarray(self.eye, dtype=float)
        cam = pts @ self.optical_rotation()
        uvw = cam @ self.intrinsics().T
        return uvw[:, :2] / uvw[:, 2:3]


@dataclass
class CameraFrame:
    rgb: np.ndarray  # H x W x 3 uint8
    depth: np.ndarray  # H x W float32, metres (z-depth), NaN where nothing was hit
    segmentation: np.ndarray  # H x W int32: scene object index, -1 = robot / table / background
    K: np.ndarray  # 3 x 3
    position: np.ndarray  # optical frame origin in base_link
    orientation: np.ndarray  # optical frame quaternion x, y, z, w in base_link
    stamp: float  # sim seconds


def rotation_to_quaternion(r: np.ndarray) -> np.ndarray:
    """Quaternion (x, y, z, w) of a proper rotation matrix (Shepperd's method)."""
    tr = np.trace(r)
    if tr > 0.0:
        s = 2.0 * math.sqrt(tr + 1.0)
        q = [(r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4]
    elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
        s = 2.0 * math.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2])
        q = [s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s, (r[2, 1] - r[1, 2]) / s]
    elif r[1, 1] > r[2, 2]:
        s = 2.0 * math.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2])
        q = [(r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s, (r[0, 2] - r[2, 0]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1])
        q = [(r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4, (r[1, 0] - r[0, 1]) / s]
    qa = np.array(q)
    return qa / np.linalg.norm(qa)


def render(config: CameraConfig, client: int, body_to_object: Mapping[int, int],
           stamp: float = 0.0) -> CameraFrame:
    """Render one RGB-D frame; ``body_to_object`` maps PyBullet body ids to scene indices."""
    w, h = config.width, config.height
    _, _, rgba, zbuf, seg = p.getCameraImage(
        w, h, viewMatrix=config.view_matrix(), projectionMatrix=config.projection_matrix(),
        renderer=p.ER_TINY_RENDERER, lightDirection=list(config.light_direction),
        lightAmbientCoeff=config.light_ambient, lightDiffuseCoeff=config.light_diffuse,
        lightSpecularCoeff=config.light_specular, physicsClientId=client)
    rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[:, :, :3].copy()
    zbuf = np.asarray(zbuf, dtype=np.float64).reshape(h, w)
    seg = np.asarray(seg, dtype=np.int64).reshape(h, w)
    n, f = config.near, config.far
    # PyBullet's depth buffer is the nonlinear OpenGL z in [0, 1]; invert the projection.
    depth = (f * n / (f - (f - n) * zbuf)).astype(np.float32)
    depth[seg < 0] = np.nan
    if config.depth_noise > 0.0 or config.depth_dropout > 0.0 or config.depth_noise_std > 0.0:
        rng = np.random.default_rng(None if config.noise_seed is None
                                    else [config.noise_seed, round(stamp * 1e6)])
        if config.depth_noise > 0.0 or config.depth_dropout > 0.0:
            depth = add_depth_noise(depth, config.depth_noise, config.depth_dropout, rng)
        if config.depth_noise_std > 0.0:
            depth = add_gaussian_depth_noise(depth, config.depth_noise_std, rng, n, f)
    objects = np.full((h, w), -1, dtype=np.int32)
    for body, idx in body_to_object.items():
        objects[seg == body] = idx
    pos, quat = config.optical_pose()
    return CameraFrame(rgb=rgb, depth=depth, segmentation=objects, K=config.intrinsics(),
                       position=pos, orientation=quat, stamp=stamp)


def add_depth_noise(depth: np.ndarray, scale: float, dropout: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Axial Gaussian noise growing with range, plus random missing pixels (NaN)."""
    out = depth.astype(np.float32, copy=True)
    if scale > 0.0:
        z = np.nan_to_num(out, nan=0.0)
        sigma = scale * (1.5e-3 + 1.9e-3 * (z - 0.4) ** 2)
        out += (rng.standard_normal(out.shape) * sigma).astype(np.float32)
    if dropout > 0.0:
        out[rng.random(out.shape) < dropout] = np.nan
    return out


def add_gaussian_depth_noise(depth: np.ndarray, std: float, rng: np.random.Generator,
                             near: float, far: float) -> np.ndarray:
    """Gaussian noise of ``std`` metres on every valid pixel (finite, nearer than ``far``),
    clipped to [near, far]; no-return (NaN) and far-plane pixels stay as they are."""
    out = depth.astype(np.float32, copy=True)
    valid = np.isfinite(out) & (out < far)
    noise = rng.standard_normal(out.shape).astype(np.float32) * np.float32(std)
    out[valid] = np.clip(out[valid] + noise[valid], near, far)
    return out
