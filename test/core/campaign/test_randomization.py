"""The randomization catalogue: seeded sampling and the mapping to node parameters / links."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ifagent_ros.core.campaign.randomization import (
    FACTORS,
    FactorRange,
    apply,
    check_factors,
    sample,
)
from ifagent_ros.core.campaign.tasks import TASKS, get_task


def R(lo: float, hi: float) -> FactorRange:  # reads like the YAML
    return FactorRange(min=lo, max=hi)


def test_catalogue_streams_are_unique_and_kinds_known() -> None:
    streams = [f.stream for f in FACTORS.values()]
    assert len(set(streams)) == len(streams)
    for f in FACTORS.values():
        assert f.kinds and set(f.kinds) <= {"shared_autonomy", "vln_houses", "perception"}
        assert f.doc
    for task in TASKS.values():  # a task names only catalogued factors
        assert set(task.factors) <= set(FACTORS), task.kind
    assert FACTORS["light_scale"].kinds == ("perception",)
    assert FACTORS["object_xy_jitter_m"].kinds == ("shared_autonomy", "perception")
    assert FACTORS["latency_s"].kinds == tuple(TASKS)


def test_sample_is_seeded_within_range_and_per_factor() -> None:
    ranges = {"light_scale": R(0.6, 1.4), "depth_noise_std_m": R(0.0, 0.004)}
    a = sample(ranges, 7)
    assert a == sample(ranges, 7)
    assert a != sample(ranges, 8)
    assert 0.6 <= a["light_scale"] <= 1.4 and 0.0 <= a["depth_noise_std_m"] <= 0.004
    # adding a factor leaves the other factors' draws alone (their own streams)
    b = sample({**ranges, "colour_jitter": R(0.0, 0.2)}, 7)
    assert b["light_scale"] == a["light_scale"]
    assert sample({"light_scale": R(1.2, 1.2)}, 3) == {"light_scale": 1.2}
    picks = {sample({"latency_s": FactorRange(choices=[0.0, 0.1])}, s)["latency_s"]
             for s in range(40)}
    assert picks == {0.0, 0.1}
    many = [sample({"drop_rate": R(0.2, 0.4)}, s)["drop_rate"] for s in range(200)]
    assert min(many) >= 0.2 and max(many) <= 0.4 and np.std(many) > 0.03


def test_apply_sim_parameters_exact_names() -> None:
    values = {"object_xy_jitter_m": 0.01, "colour_jitter": 0.1, "light_scale": 0.7,
              "depth_noise_std_m": 0.002}
    ov, links = apply(values, "perception", {})
    assert ov == {"sim_node": {"domain.object_xy_jitter": 0.01, "domain.colour_jitter": 0.1,
                               "domain.light_scale": 0.7, "camera.depth_noise_std": 0.002}}
    assert links == {}
    ov, _ = apply({"friction_scale": 1.1, "mass_scale": 0.9, "user_skill": 0.7,
                   "user_reaction_delay_s": 0.3}, "shared_autonomy", {})
    assert ov == {"sim_node": {"domain.friction_scale": 1.1, "domain.mass_scale": 0.9},
                  "sim_user_node": {"skill": 0.7, "reaction_delay_s": 0.3}}


def test_camera_errors_move_eye_and_turn_view() -> None:
    nominal = {"camera.eye": [1.0, 0.2, 0.8], "camera.target": [0.4, 0.0, 0.0],
               "camera.fov_deg": 50.0}
    ov, _ = apply({"camera_fov_error_deg": -2.0}, "perception", nominal)
    assert ov["sim_node"] == {"camera.fov_deg": 48.0}
    ov, _ = apply({"camera_position_error_m": 0.02}, "perception", nominal, seed=4)
    eye = np.array(ov["sim_node"]["camera.eye"])
    assert abs(np.linalg.norm(eye - nominal["camera.eye"]) - 0.02) < 1e-12
    assert "camera.target" not in ov["sim_node"]
    other, _ = apply({"camera_position_error_m": 0.02}, "perception", nominal, seed=5)
    assert other["sim_node"]["camera.eye"] != ov["sim_node"]["camera.eye"]
    for seed in range(5):
        ov, _ = apply({"camera_rotation_error_deg": 1.5}, "perception", nominal, seed=seed)
        sim = ov["sim_node"]
        assert "camera.eye" not in sim
        old = np.subtract(nominal["camera.target"], nominal["camera.eye"])
        new = np.subtract(sim["camera.target"], nominal["camera.eye"])
        cos = old @ new / (np.linalg.norm(old) * np.linalg.norm(new))
        assert math.degrees(math.acos(min(1.0, cos))) == pytest.approx(1.5, abs=1e-9)
        assert all(type(v) is float for v in sim["camera.target"])
    # defaults when the params file has no camera section: [1.2, 0, 0.75] -> [0.45, 0, 0], 45 deg
    ov, _ = apply({"camera_fov_error_deg": 1.0}, "perception", {})
    assert ov["sim_node"]["camera.fov_deg"] == 46.0


def test_links_per_kind() -> None:
    for kind, task in TASKS.items():
        _, links = apply({"latency_s": 0.01, "drop_rate": 0.02}, kind, {})
        assert set(links) == set(task.link_topics)
        assert all(lk.latency_s == 0.01 and lk.drop_rate == 0.02 and lk.jitter_s == 0.0
                   for lk in links.values())
    assert set(get_task("shared_autonomy").link_topics) == {"/joint_states", "/joy"}
    assert set(get_task("vln_houses").link_topics) == {"/odom", "/ifagent/objects"}
    _, links = apply({"asr_word_error_rate": 0.05}, "shared_autonomy", {})
    assert links["/ifagent/speech/text"].word_error_rate == 0.05 and len(links) == 1


def test_apply_refuses_factors_of_other_kinds() -> None:
    with pytest.raises(ValueError, match="'light_scale' does not apply to task kind 'vln_houses'"):
        apply({"light_scale": 1.0}, "vln_houses", {})
    with pytest.raises(ValueError, match="unknown randomization factor 'lux'"):
        apply({"lux": 1.0}, "perception", {})


def test_check_factors() -> None:
    msgs = dict(check_factors({"light_scale": R(1.4, 0.6), "drop_rate": R(0.0, 2.0),
                               "camera_fov_error_deg": R(-50.0, 2.0),
                               "mass_scale": R(1.0, 1.0)}, "perception", {}))
    assert msgs[("randomization", "light_scale")] == "randomization light_scale: min 1.4 > max 0.6"
    assert "2.0 is outside [0, 1]" in msgs[("randomization", "drop_rate")]
    assert "leaves [1, 179] deg" in msgs[("randomization", "camera_fov_error_deg")]
    assert "does not apply to task kind 'perception'" in msgs[("randomization", "mass_scale")]
    assert check_factors({"light_scale": R(0.6, 1.4)}, "perception", {}) == []
    (loc, msg), = check_factors({"light_scale": R(0.0, 1.0)}, "perception", {})
    assert "outside (0, inf]" in msg
