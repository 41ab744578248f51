"""Habitat adapter: configuration logic and frames without habitat-sim; the simulator itself
only where habitat-sim imports (it has no Linux / Python 3.11 wheel)."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ifagent_ros.sim.habitat_env import (
    HABITAT_MISSING,
    HabitatConfig,
    habitat_to_map,
    import_habitat,
    make_configuration,
    map_to_habitat,
    optical_rotation,
    sim_settings,
)
from ifagent_ros.sim.house_sim import HouseSim


def test_settings_carry_sensors_actions_and_agent() -> None:
    cfg = HabitatConfig(scene="data/scene.glb", width=160, height=120, hfov_deg=60.0,
                        sensor_height=1.1, forward_step=0.3, turn_angle_deg=10.0, seed=4)
    s = sim_settings(cfg)
    assert s["scene_id"] == "data/scene.glb" and s["random_seed"] == 4
    assert s["scene_dataset_config_file"] is None
    assert set(s["sensors"]) == {"color_sensor", "depth_sensor"}
    for sensor in s["sensors"].values():
        assert sensor["resolution"] == [120, 160]  # Habitat: [height, width]
        assert sensor["position"] == [0.0, 1.1, 0.0] and sensor["hfov"] == 60.0
    assert s["sensors"]["color_sensor"]["type"] == "COLOR"
    assert s["sensors"]["depth_sensor"]["type"] == "DEPTH"
    assert s["actions"] == {"move_forward": 0.3, "turn_left": 10.0, "turn_right": 10.0}
    assert s["agent"] == {"height": cfg.agent_height, "radius": cfg.agent_radius}


@pytest.mark.parametrize("kwargs, match", [
    ({"width": 0}, "width"), ({"hfov_deg": 190.0}, "hfov"), ({"forward_step": -0.1}, "forward"),
    ({"timestep": 0.0}, "timestep"), ({"start": (0.0, 1.0)}, "start"),
])
def test_bad_configs_are_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        HabitatConfig(scene="s.glb", **kwargs)
    with pytest.raises(ValueError, match="empty"):
        sim_settings(HabitatConfig(scene=""))


def _fake_habitat() -> SimpleNamespace:
    """Just enough of habitat_sim's documented classes to record how they are filled in."""
    class Obj(SimpleNamespace):
        pass

    return SimpleNamespace(
        SimulatorConfiguration=Obj, CameraSensorSpec=Obj,
        SensorType=SimpleNamespace(COLOR="color", DEPTH="depth"),
        SensorSubType=SimpleNamespace(PINHOLE="pinhole"),
        agent=SimpleNamespace(
            AgentConfiguration=Obj,
            ActionSpec=lambda name, actuation: ("spec", name, actuation.amount),
            ActuationSpec=lambda amount: SimpleNamespace(amount=amount)),
        Configuration=lambda sim_cfg, agents: SimpleNamespace(sim_cfg=sim_cfg, agents=agents))


def test_configuration_maps_settings_onto_habitat_classes() -> None:
    cfg = HabitatConfig(scene="apt.glb", scene_dataset_config="d.json", width=64, height=48)
    conf = make_configuration(sim_settings(cfg), _fake_habitat())
    assert conf.sim_cfg.scene_id == "apt.glb" and conf.sim_cfg.scene_dataset_config_file == "d.json"
    assert conf.sim_cfg.enable_physics is False
    (agent,) = conf.agents
    specs = {s.uuid: s for s in agent.sensor_specifications}
    assert specs["color_sensor"].sensor_type == "color"
    assert specs["depth_sensor"].sensor_type == "depth"
    assert specs["depth_sensor"].far == cfg.depth_far
    assert specs["color_sensor"].resolution == [48, 64]
    assert agent.action_space["turn_left"] == ("spec", "turn_left", cfg.turn_angle_deg)
    assert agent.action_space["move_forward"] == ("spec", "move_forward", cfg.forward_step)


@pytest.mark.parametrize("yaw", [0.0, 0.4, math.pi / 2, -2.0, math.pi])
def test_frames_round_trip_and_forward_is_map_yaw(yaw: float) -> None:
    pos, (w, x, y, z) = map_to_habitat(1.5, -2.0, yaw, height=0.1)
    np.testing.assert_allclose(pos, [1.5, 0.1, 2.0])
    assert (x, z) == (0.0, 0.0) and w * w + y * y == pytest.approx(1.0)
    mx, my, myaw = habitat_to_map(pos, (w, x, y, z))
    assert (mx, my) == pytest.approx((1.5, -2.0))
    assert math.cos(myaw - yaw) == pytest.approx(1.0)
    # the same optical frame convention as the PyBullet house camera: z forward, x right
    r = optical_rotation(yaw)
    np.testing.assert_allclose(r[:, 2], [math.cos(yaw), math.sin(yaw), 0.0], atol=1e-12)
    np.testing.assert_allclose(np.cross(r[:, 0], r[:, 1]), r[:, 2], atol=1e-12)
    np.testing.assert_allclose(r[:, 1], [0.0, 0.0, -1.0])


def test_missing_habitat_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "habitat_sim", None)  # makes the import fail
    with pytest.raises(ImportError, match="no pip wheel"):
        import_habitat()
    assert "conda" in HABITAT_MISSING


def test_same_interface_as_the_pybullet_house() -> None:
    from ifagent_ros.sim.habitat_env import HabitatSim

    shared = ("set_cmd_vel", "stop", "step", "odom", "base_pose", "base_velocity", "reset_base",
              "render_camera", "contacts", "collides", "close", "time", "timestep")
    for name in shared:
        assert hasattr(HouseSim, name) and hasattr(HabitatSim, name), name


def test_drives_in_a_real_habitat_scene() -> None:
    pytest.importorskip("habitat_sim")
    from ifagent_ros.sim.habitat_env import HabitatSim

    scene = Path("data/scene_datasets/habitat-test-scenes/apartment_1.glb")
    if not scene.is_file():
        pytest.skip(f"no Habitat test scene at {scene}")
    with HabitatSim(HabitatConfig(scene=scene, seed=1)) as sim:
        x0, y0, yaw0 = sim.base_pose()
        sim.set_cmd_vel(0.4, 0.0)
        sim.step(120)
        x1, y1, _ = sim.base_pose()
        assert math.dist((x0, y0), (x1, y1)) > 0.2 or sim.collides()
        frame = sim.render_camera()
        assert frame.rgb.shape == (240, 320, 3) and np.isfinite(frame.depth).any()
        d = sim.geodesic_distance((x0, y0), (x1, y1))
        assert d >= math.dist((x0, y0), (x1, y1)) - 1e-3
        assert sim.act("turn_left") in (True, False)
