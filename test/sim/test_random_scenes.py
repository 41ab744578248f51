"""Random scenes, lighting, the object pusher and the camera's depth-noise model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pybullet as p
import pytest

from ifagent_ros.core.worlds.random_scenes import (
    BENCH_COLORS,
    ObjectPusher,
    RandomSceneConfig,
    random_lighting,
    random_scene,
)
from ifagent_ros.core.worlds.scene import footprint, parse_scene, polygons_separated
from ifagent_ros.sim.bodies import object_parts
from ifagent_ros.sim.camera import CameraConfig, add_depth_noise
from ifagent_ros.sim.tabletop import TabletopConfig, TabletopSim

SMALL = CameraConfig(width=160, height=120)


def _no_overlap(scene, placements, clearance: float) -> bool:
    polys = [footprint(o, *pl.position[:2], pl.yaw)
             for o, pl in zip(scene.objects, placements, strict=True)]
    return all(polygons_separated(a, b, clearance)
               for i, a in enumerate(polys) for b in polys[i + 1:])


@pytest.mark.parametrize("seed", range(5))
def test_random_scene_places_n_objects_without_overlap(seed: int) -> None:
    cfg = RandomSceneConfig()
    scene, placements = random_scene(np.random.default_rng(seed), 8, cfg)
    assert len(scene.objects) == len(placements) == 8
    assert len({o.id for o in scene.objects}) == 8
    assert _no_overlap(scene, placements, cfg.clearance - 1e-9)
    for obj, pl in zip(scene.objects, placements, strict=True):
        assert cfg.x_range[0] <= pl.position[0] <= cfg.x_range[1]
        assert cfg.y_range[0] <= pl.position[1] <= cfg.y_range[1]
        assert pl.position[2] == pytest.approx(obj.resting_z)
        assert obj.position[:2] == pytest.approx(pl.position[:2]) and obj.yaw == pl.yaw
        assert obj.color.name in BENCH_COLORS
    # The scene is valid for the simulator as written.
    from ifagent_ros.core.worlds.scene import sample_placements

    assert len(sample_placements(scene, None)) == 8


def test_random_scene_reproducible_per_seed() -> None:
    a = random_scene(np.random.default_rng(3), 6)
    b = random_scene(np.random.default_rng(3), 6)
    c = random_scene(np.random.default_rng(4), 6)
    assert a[0] == b[0] and a[1] == b[1]
    assert a[0] != c[0]


def test_random_scene_too_crowded_raises() -> None:
    tiny = RandomSceneConfig(x_range=(0.5, 0.52), y_range=(0.0, 0.02), max_tries=20)
    with pytest.raises(ValueError, match="could not place"):
        random_scene(np.random.default_rng(0), 5, tiny)


def test_random_lighting_is_from_above_and_seeded() -> None:
    rng = np.random.default_rng(0)
    lights = [random_lighting(rng) for _ in range(50)]
    for light in lights:
        assert np.linalg.norm(light.direction) == pytest.approx(1.0)
        assert light.direction[2] > 0.5
        assert 0.45 <= light.ambient <= 0.7 and 0.3 <= light.diffuse <= 0.5
    assert random_lighting(np.random.default_rng(5)) == random_lighting(np.random.default_rng(5))


def test_pusher_never_overlaps_over_100_steps() -> None:
    rng = np.random.default_rng(1)
    cfg = RandomSceneConfig()
    scene, placements = random_scene(rng, 8, cfg)
    pusher = ObjectPusher(scene, rng, speed=0.1, config=cfg)
    start = placements
    for _ in range(100):
        new = pusher.step(placements, 1.0 / 15.0)
        assert _no_overlap(scene, new, cfg.clearance / 2.0 - 1e-9)
        for a, b in zip(placements, new, strict=True):
            step = np.linalg.norm(np.subtract(a.position[:2], b.position[:2]))
            assert step <= 0.1 / 15.0 + 1e-9  # no teleporting
            assert b.position[2] == a.position[2] and b.yaw == a.yaw
            assert cfg.x_range[0] <= b.position[0] <= cfg.x_range[1]
        placements = new
    moved = [np.linalg.norm(np.subtract(a.position, b.position)) > 0.02
             for a, b in zip(start, placements, strict=True)]
    assert sum(moved) >= 4


# ---- the camera: depth noise and lighting ---------------------------------------------------

def test_add_depth_noise_sigma_and_dropout() -> None:
    depth = np.full((200, 200), 1.0, np.float32)
    depth[:10] = np.nan
    out = add_depth_noise(depth, 1.0, 0.05, np.random.default_rng(0))
    assert np.isnan(out[:10]).all()  # no return stays no return
    body = out[10:]
    dropped = np.isnan(body).mean()
    assert dropped == pytest.approx(0.05, abs=0.01)
    sigma = 1.5e-3 + 1.9e-3 * 0.6 ** 2
    assert np.nanstd(body) == pytest.approx(sigma, rel=0.1)
    assert abs(np.nanmean(body) - 1.0) < 1e-3
    np.testing.assert_array_equal(depth[10:], 1.0)  # the input is untouched
    far = add_depth_noise(np.full((100, 100), 2.5, np.float32), 2.0, 0.0,
                          np.random.default_rng(0))
    assert np.nanstd(far) == pytest.approx(2.0 * (1.5e-3 + 1.9e-3 * 2.1 ** 2), rel=0.1)
    assert not np.isnan(far).any()


def test_camera_config_rejects_bad_noise() -> None:
    with pytest.raises(ValueError):
        CameraConfig(depth_noise=-1.0)
    with pytest.raises(ValueError):
        CameraConfig(depth_dropout=1.0)


@pytest.fixture(scope="module")
def sim() -> TabletopSim:
    s = TabletopSim(TabletopConfig(camera=SMALL))
    yield s
    s.close()


def test_render_with_depth_noise(sim: TabletopSim) -> None:
    clean = sim.render_camera()
    cam = replace(SMALL, depth_noise=1.0, depth_dropout=0.02, noise_seed=7)
    noisy = sim.render_camera(cam)
    again = sim.render_camera(cam)
    np.testing.assert_array_equal(noisy.depth, again.depth)  # seeded: reproducible
    hit = np.isfinite(clean.depth)
    assert np.isnan(noisy.depth[hit]).mean() == pytest.approx(0.02, abs=0.008)
    both = hit & np.isfinite(noisy.depth)
    diff = (noisy.depth - clean.depth)[both]
    z = clean.depth[both]
    expected = 1.5e-3 + 1.9e-3 * (z - 0.4) ** 2
    assert np.std(diff / expected) == pytest.approx(1.0, rel=0.1)
    assert abs(float(np.mean(diff))) < 2e-4
    np.testing.assert_array_equal(noisy.rgb, clean.rgb)  # colour is not affected
    assert np.isnan(noisy.depth[~hit]).all()


def test_lighting_fields_reach_the_renderer(sim: TabletopSim) -> None:
    base = sim.render_camera()
    dim = sim.render_camera(replace(SMALL, light_ambient=0.3, light_diffuse=0.2))
    side = sim.render_camera(replace(SMALL, light_direction=(-1.0, 0.5, 0.3)))
    assert float(dim.rgb.mean()) < float(base.rgb.mean()) - 10.0
    assert np.abs(side.rgb.astype(int) - base.rgb.astype(int)).mean() > 2.0
    np.testing.assert_array_equal(dim.depth, base.depth)  # only the colour changes


def test_containers_are_built_with_all_their_parts() -> None:
    scene = parse_scene({"name": "c", "objects": [
        {"id": "mug", "label": "mug", "color": "orange", "size": [0.11, 0.08, 0.09],
         "position": [0.4, 0.2], "yaw": 0.0},
        {"id": "bowl", "label": "bowl", "color": "yellow", "size": [0.16, 0.16, 0.05],
         "position": [0.5, -0.2]}]})
    with TabletopSim(TabletopConfig(scene=scene, camera=SMALL)) as s:
        for obj in scene.objects:
            body = s.object_body_id(obj.id)
            n_vis = len(p.getVisualShapeData(body, physicsClientId=s.client_id))
            n_col = len(p.getCollisionShapeData(body, -1, physicsClientId=s.client_id))
            n_parts = len(object_parts(obj).types)
            assert (n_vis, n_col) == (n_parts, n_parts), obj.id
