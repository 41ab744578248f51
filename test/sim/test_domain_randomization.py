"""Domain randomization of the tabletop (sim/tabletop_domain.py, camera depth noise) and the
real-time pacing arithmetic; pure functions first, then their effect on PyBullet bodies."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pybullet as p
import pytest

from ifagent_ros.core.worlds.scene import (
    REPO_SCENE_DIR,
    _conflict,
    load_scene,
    parse_scene,
    sample_placements,
)
from ifagent_ros.sim.camera import CameraConfig, add_gaussian_depth_noise
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim
from ifagent_ros.sim.tabletop_domain import (
    DomainConfig,
    Pacer,
    jitter_placements,
    jitter_rgba,
    lit_camera,
    stack_groups,
)

SMALL_CAM = CameraConfig(width=96, height=72)
DEFAULT = load_scene(REPO_SCENE_DIR / "tabletop_default.yaml")
BLOCKS = load_scene(REPO_SCENE_DIR / "tabletop_blocks.yaml")


# ---- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "name"), [
    ("object_xy_jitter", -0.01, "domain.object_xy_jitter"),
    ("object_xy_jitter", math.nan, "domain.object_xy_jitter"),
    ("colour_jitter", 1.5, "domain.colour_jitter"),
    ("colour_jitter", -0.1, "domain.colour_jitter"),
    ("friction_scale", 0.0, "domain.friction_scale"),
    ("mass_scale", -2.0, "domain.mass_scale"),
    ("mass_scale", math.inf, "domain.mass_scale"),
])
def test_domain_config_rejects_bad_values_naming_the_parameter(field: str, value: float,
                                                               name: str) -> None:
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        DomainConfig(**{field: value})


def test_jitter_without_seed_is_an_error() -> None:
    with pytest.raises(ValueError, match="need a seed"):
        TabletopConfig(domain=DomainConfig(object_xy_jitter=0.02))
    with pytest.raises(ValueError, match="need a seed"):
        TabletopConfig(domain=DomainConfig(colour_jitter=0.1))
    TabletopConfig(domain=DomainConfig(friction_scale=2.0))  # no draws: no seed needed


def test_camera_and_light_validation() -> None:
    with pytest.raises(ValueError, match="depth_noise_std"):
        CameraConfig(depth_noise_std=-0.01)
    with pytest.raises(ValueError, match=r"domain\.light_scale"):
        lit_camera(SMALL_CAM, 0.0)
    with pytest.raises(ValueError, match=r"domain\.light_direction"):
        lit_camera(SMALL_CAM, 1.0, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"domain\.light_direction"):
        lit_camera(SMALL_CAM, 1.0, [1.0, 0.0])
    with pytest.raises(ValueError, match="time_scale"):
        Pacer(1 / 240, time_scale=0.0)


# ---- object poses ----------------------------------------------------------------------------

def _assert_valid(scene: Any, placements: list[Any]) -> None:
    placed: dict[int, Any] = {}
    for i, pl in enumerate(placements):
        assert _conflict(scene, i, pl, placed, clearance=-1e-4) is None, scene.objects[i].id
        placed[i] = pl


def test_zero_jitter_is_the_identity() -> None:
    base = sample_placements(DEFAULT, 4)
    assert jitter_placements(DEFAULT, base, 0.0, seed=4) == base


def test_jitter_is_seeded_bounded_and_valid() -> None:
    base = sample_placements(DEFAULT, None)
    a = jitter_placements(DEFAULT, base, 0.03, seed=7)
    assert a == jitter_placements(DEFAULT, base, 0.03, seed=7)  # reproducible
    b = jitter_placements(DEFAULT, base, 0.03, seed=8)
    assert a != b
    moved = 0
    for pa, p0 in zip(a, base, strict=True):
        d = np.subtract(pa.position, p0.position)
        assert np.all(np.abs(d[:2]) <= 0.03 + 1e-12) and d[2] == 0.0 and pa.yaw == p0.yaw
        moved += bool(np.any(d != 0.0))
    assert moved >= len(base) - 1  # (almost) every object moves
    _assert_valid(DEFAULT, a)
    _assert_valid(DEFAULT, b)


def test_stacks_move_as_one() -> None:
    base = sample_placements(BLOCKS, None)
    groups = stack_groups(BLOCKS, base)
    ids = [[BLOCKS.objects[i].id for i in g] for g in groups]
    assert ["red_block", "yellow_block"] in ids  # bottom-up
    assert sum(len(g) for g in groups) == len(BLOCKS.objects)
    for seed in range(5):
        out = jitter_placements(BLOCKS, base, 0.04, seed)
        d_red = np.subtract(out[0].position, base[0].position)
        d_yellow = np.subtract(out[1].position, base[1].position)
        np.testing.assert_allclose(d_red, d_yellow)
        _assert_valid(BLOCKS, out)


def test_jitter_keeps_objects_on_the_table() -> None:
    # A block exactly as large as the table: any offset would hang over an edge.
    scene = parse_scene({"table": {"x": [0.3, 0.5], "y": [-0.1, 0.1]}, "objects": [
        {"id": "slab", "label": "block", "color": "red", "size": [0.2, 0.2, 0.02],
         "position": [0.4, 0.0]}]})
    base = sample_placements(scene, None)
    assert jitter_placements(scene, base, 0.05, seed=1) == base


# ---- appearance and noise --------------------------------------------------------------------

def test_colour_jitter_bounded_clipped_and_seeded() -> None:
    rgbas = [(0.5, 0.5, 0.5, 1.0), (0.0, 1.0, 0.99, 0.5)]
    out = jitter_rgba(rgbas, 0.2, seed=3)
    assert out == jitter_rgba(rgbas, 0.2, seed=3) != jitter_rgba(rgbas, 0.2, seed=4)
    assert jitter_rgba(rgbas, 0.0, seed=3) == rgbas
    for new, old in zip(out, rgbas, strict=True):
        assert new[3] == old[3]
        assert all(0.0 <= c <= 1.0 for c in new[:3])
        assert all(abs(n - o) <= 0.2 + 1e-12 for n, o in zip(new[:3], old[:3], strict=True))
    assert out[0][:3] != rgbas[0][:3]


def test_gaussian_depth_noise_keeps_invalid_pixels() -> None:
    depth = np.full((200, 200), 1.0, dtype=np.float32)
    depth[:10] = np.nan
    depth[10:20] = 5.0  # at the far plane
    out = add_gaussian_depth_noise(depth, 0.01, np.random.default_rng(0), 0.05, 5.0)
    assert np.isnan(out[:10]).all() and np.all(out[10:20] == 5.0)
    assert float(np.std(out[20:])) == pytest.approx(0.01, rel=0.05)
    assert float(np.mean(out[20:])) == pytest.approx(1.0, abs=1e-3)
    again = add_gaussian_depth_noise(depth, 0.01, np.random.default_rng(0), 0.05, 5.0)
    np.testing.assert_array_equal(out, again)
    assert depth[25, 25] == 1.0  # input untouched


def test_lit_camera_scales_coefficients() -> None:
    assert lit_camera(SMALL_CAM) is SMALL_CAM
    cam = lit_camera(SMALL_CAM, 0.5, [0.0, 0.0, 1.0])
    assert cam.light_ambient == pytest.approx(SMALL_CAM.light_ambient * 0.5)
    assert cam.light_diffuse == pytest.approx(SMALL_CAM.light_diffuse * 0.5)
    assert cam.light_direction == (0.0, 0.0, 1.0)


# ---- pacing ----------------------------------------------------------------------------------

def test_pacer_steps_at_time_scale() -> None:
    pacer = Pacer(timestep=0.25, time_scale=3.0, max_catchup_s=10.0)
    assert pacer.steps_due(1.0, 0.0) == (12, False)  # 3 sim s owed after 1 wall s
    assert pacer.steps_due(1.0, 2.0) == (4, False)
    assert pacer.steps_due(1.0, 5.0) == (0, False)  # ahead: wait
    assert pacer.cap == 120
    assert pacer.steps_due(100.0, 0.0) == (120, True)  # stalled: drop the backlog
    slow = Pacer(timestep=0.25, time_scale=0.5, max_catchup_s=10.0)
    assert slow.steps_due(1.0, 0.0) == (2, False)
    # time_scale 1 is the old arithmetic: cap = max catch-up / timestep
    assert Pacer(timestep=0.25, max_catchup_s=1.0).cap == 4


# ---- effect on the PyBullet world ------------------------------------------------------------

@pytest.fixture
def sims() -> Iterator[list[TabletopSim]]:
    made: list[TabletopSim] = []
    yield made
    for s in made:
        s.close()


def _sim(made: list[TabletopSim], **over: Any) -> TabletopSim:
    cfg = TabletopConfig(camera=SMALL_CAM, **over)
    made.append(TabletopSim(cfg))
    return made[-1]


def _dyn(sim: TabletopSim) -> list[tuple[float, float]]:
    return [tuple(p.getDynamicsInfo(b, -1, physicsClientId=sim.client_id)[:2])
            for b in sim.object_ids]


def test_friction_and_mass_scales_reach_the_bodies(sims: list[TabletopSim]) -> None:
    plain = _dyn(_sim(sims))
    scaled = _dyn(_sim(sims, domain=DomainConfig(friction_scale=0.5, mass_scale=2.0)))
    for (m0, f0), (m1, f1) in zip(plain, scaled, strict=True):
        assert m1 == pytest.approx(2.0 * m0) and f1 == pytest.approx(0.5 * f0)


def test_xy_and_colour_jitter_reach_the_bodies(sims: list[TabletopSim]) -> None:
    dom = DomainConfig(object_xy_jitter=0.03, colour_jitter=0.3)
    a, a2, b = (_sim(sims, seed=5, domain=dom), _sim(sims, seed=5, domain=dom),
                _sim(sims, seed=6, domain=dom))
    nominal = _sim(sims, seed=5)
    pos = {s: [o["position"] for o in s.object_poses()] for s in (a, a2, b, nominal)}
    assert pos[a] == pos[a2] and pos[a] != pos[b] and pos[a] != pos[nominal]

    def rgba(sim: TabletopSim) -> list[tuple[float, ...]]:
        return [p.getVisualShapeData(body, physicsClientId=sim.client_id)[0][7]
                for body in sim.object_ids]

    assert rgba(a) == rgba(a2) != rgba(b)
    assert rgba(a) != rgba(nominal)
    # The ground truth keeps the colour names of the scene file.
    assert [o["color"] for o in a.object_poses()] == [o.color.name for o in DEFAULT.objects]


def _brightness(sim: TabletopSim, cam: CameraConfig) -> float:
    return float(sim.render_camera(cam).rgb.mean())


def test_light_scale_changes_brightness(sims: list[TabletopSim]) -> None:
    sim = _sim(sims)
    base = _brightness(sim, SMALL_CAM)
    assert _brightness(sim, lit_camera(SMALL_CAM, 0.6)) < base - 20.0
    assert _brightness(sim, lit_camera(SMALL_CAM, 1.3)) > base + 10.0


def test_depth_noise_std_changes_depth(sims: list[TabletopSim]) -> None:
    sim = _sim(sims)
    clean = sim.render_camera(SMALL_CAM).depth
    noisy_cam = replace(SMALL_CAM, depth_noise_std=0.02, noise_seed=1)
    noisy = sim.render_camera(noisy_cam).depth
    np.testing.assert_array_equal(np.isnan(clean), np.isnan(noisy))
    diff = (noisy - clean)[np.isfinite(clean)]
    assert float(np.std(diff)) == pytest.approx(0.02, rel=0.15)
    np.testing.assert_array_equal(noisy, sim.render_camera(noisy_cam).depth)  # seeded


def test_camera_eye_and_fov_change_the_image_and_k(sims: list[TabletopSim]) -> None:
    # The campaign's camera calibration errors: shifted eye / target, wrong fov.
    sim = _sim(sims)
    base = sim.render_camera(SMALL_CAM)
    moved = sim.render_camera(replace(SMALL_CAM, eye=(1.2, 0.05, 0.75)))
    assert np.abs(moved.rgb.astype(int) - base.rgb.astype(int)).mean() > 1.0
    np.testing.assert_array_equal(moved.K, base.K)
    wide = sim.render_camera(replace(SMALL_CAM, fov_deg=55.0))
    assert wide.K[0, 0] < base.K[0, 0]


def test_render_worker_draws_the_same_randomized_world(sims: list[TabletopSim]) -> None:
    # The real-time node renders in a child process that rebuilds the world from the config.
    from ifagent_ros.sim.render_worker import RenderWorker

    cam = lit_camera(replace(SMALL_CAM, depth_noise_std=0.01, noise_seed=3), 0.8)
    sim = _sim(sims, seed=3, domain=DomainConfig(object_xy_jitter=0.03, colour_jitter=0.3))
    sim.step(50)
    worker = RenderWorker(sim)
    try:
        remote, local = worker.render(sim.snapshot(), cam), sim.render_camera(cam)
    finally:
        worker.close()
    np.testing.assert_array_equal(remote.rgb, local.rgb)
    np.testing.assert_array_equal(remote.depth, local.depth)
