"""Scenario files: the loader's errors (file, line, key, allowed keys) and the expansion into
episode specs (paired design, seeds, sampled randomization, real-robot mode)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from ifagent_ros.core.campaign.randomization import FACTORS
from ifagent_ros.core.campaign.scenario import (
    PACKAGE_ROOT,
    ScenarioError,
    condition_nodes,
    expand,
    load_scenario,
    scenario_sha256,
)

SHIPPED = sorted((PACKAGE_ROOT / "scenarios").glob("*.yaml"))

BASE = """\
name: study
params_file: config/shared_autonomy.yaml
task:
  kind: shared_autonomy
  families: [pick_place_bowl, push]
conditions:
  teleop: {}
  bc: {model: models/bc.pt}
  lilac: {model: models/lilac.pt}
episodes: 4
seed: 1000
time_limit_s: 30.0
randomization:
  object_xy_jitter_m: {min: 0.0, max: 0.03}
  user_skill: {min: 0.6, max: 0.95}
  latency_s: {min: 0.0, max: 0.02}
  asr_word_error_rate: {choices: [0.0, 0.1]}
faults:
  - {kind: kill_node, target: shared_autonomy_node, trigger: motion, at_s: 3.0,
     conditions: [bc, lilac]}
  - {kind: joy_garbage, at_s: 5.0, duration_s: 0.5, magnitude: 50.0}
"""


def write(tmp_path: Path, text: str, name: str = "scn.yaml") -> Path:
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    for m in ("bc", "lila", "lilac"):
        (models / f"{m}.pt").write_bytes(b"dummy")
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    return str(info.value)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# ---- shipped files ------------------------------------------------------------------------------

def test_four_scenarios_are_shipped() -> None:
    assert {p.stem for p in SHIPPED} >= {"lilac_tabletop", "vln_houses",
                                         "perception_domain_randomization", "faults"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_loads_and_expands(path: Path) -> None:
    sc = load_scenario(path)
    specs = expand(sc)
    assert len(specs) == len(sc.conditions) * sc.episodes
    assert len({s.episode_id for s in specs}) == len(specs)
    assert len({s.seed for s in specs}) == len(specs)
    for s in specs:
        assert Path(s.params_file).is_file()
        assert s.nodes == condition_nodes(sc.task.kind, s.condition)
        assert set(s.overrides) <= set(s.nodes)


def test_shipped_files_say_what_the_brief_asks() -> None:
    lt = load_scenario(PACKAGE_ROOT / "scenarios/lilac_tabletop.yaml")
    assert list(lt.conditions) == ["teleop", "bc", "lila", "lilac"]
    assert lt.episodes == 10 and lt.time_limit_s == 45.0
    assert {"user_skill", "asr_word_error_rate", "latency_s"} <= set(lt.randomization)
    assert load_scenario(PACKAGE_ROOT / "scenarios/vln_houses.yaml").faults == []
    vln = load_scenario(PACKAGE_ROOT / "scenarios/vln_faults.yaml")
    assert [(f.kind, f.magnitude, f.at_s) for f in vln.faults] == [("odom_jump", 1.5, 5.0)]
    assert list(vln.conditions) == ["rule"]
    faults = expand(load_scenario(PACKAGE_ROOT / "scenarios/faults.yaml"))
    kills = {s.condition: [f.target for f in s.faults if f.kind == "kill_node"] for s in faults}
    assert kills == {"teleop": ["teleop_node"], "lilac": ["shared_autonomy_node"]}
    per = load_scenario(PACKAGE_ROOT / "scenarios/perception_domain_randomization.yaml")
    assert per.task.duration_s == 8.0 and list(per.conditions) == ["geometric"]


# ---- loader errors ------------------------------------------------------------------------------

def test_unknown_top_level_key_names_line_allowed_keys_and_suggestion(tmp_path: Path) -> None:
    text = BASE.replace("randomization:", "randomisation:")
    msg = error_of(tmp_path, text)
    assert f"scn.yaml:{line_of(text, 'randomisation')}: unknown key 'randomisation' in the " \
           f"scenario; allowed: conditions, description, episodes, faults, faults_on_real" in msg
    assert msg.endswith("; did you mean 'randomization'?")


def test_unknown_nested_keys_name_their_level(tmp_path: Path) -> None:
    text = BASE.replace("  families:", "  famillies:")
    msg = error_of(tmp_path, text)
    assert f"scn.yaml:{line_of(text, 'famillies')}: unknown key 'famillies' in task" in msg
    assert "allowed: duration_s, families, houses, kind, scene, split" in msg
    text = BASE.replace("bc: {model:", "bc: {modle:")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'modle')}: unknown key 'modle' in condition 'bc'" in msg
    assert "allowed: model, overrides, seed" in msg
    text = BASE.replace("magnitude: 50.0", "magnitud: 50.0")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'magnitud:')}: unknown key 'magnitud' in faults[1]" in msg
    assert "conditions" in msg and "target" in msg


def test_wrong_types_and_missing_keys(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("episodes: 4", "episodes: many"))
    assert f":{line_of(BASE, 'episodes')}: episodes:" in msg
    msg = error_of(tmp_path, BASE.replace("episodes: 4\n", ""))
    assert "missing key 'episodes' in the scenario" in msg
    msg = error_of(tmp_path, BASE.replace("kind: shared_autonomy", "kind: tabletop"))
    assert f":{line_of(BASE, 'kind: shared')}: task.kind:" in msg and "vln_houses" in msg


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    msg = error_of(tmp_path, BASE.replace("episodes: 4", "episodes: [4"))
    assert msg.startswith("scn.yaml:") and "not valid YAML" in msg
    msg = error_of(tmp_path, BASE + "seed: 7\n")
    assert f"scn.yaml:{len(BASE.splitlines()) + 1}: duplicate key 'seed'" in msg


def test_range_min_above_max(tmp_path: Path) -> None:
    text = BASE.replace("user_skill: {min: 0.6, max: 0.95}", "user_skill: {min: 0.95, max: 0.6}")
    msg = error_of(tmp_path, text)
    assert f"scn.yaml:{line_of(text, 'user_skill')}: randomization user_skill: min 0.95 > " \
           f"max 0.6" in msg


def test_unknown_factor_lists_allowed(tmp_path: Path) -> None:
    text = BASE.replace("latency_s:", "latncy_s:")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'latncy_s')}: unknown randomization factor 'latncy_s'" in msg
    assert "; did you mean 'latency_s'?" in msg
    assert all(f in msg for f in FACTORS)


def test_factor_for_another_kind_and_out_of_bounds(tmp_path: Path) -> None:
    text = BASE.replace("randomization:\n", "randomization:\n  light_scale: {min: 0.5, max: 1}\n")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'light_scale')}: randomization factor 'light_scale' does not " \
           f"apply to task kind 'shared_autonomy'" in msg
    text = BASE.replace("latency_s: {min: 0.0, max: 0.02}", "drop_rate: {min: 0.0, max: 1.5}")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'drop_rate')}: randomization drop_rate: 1.5 is outside [0, 1]" in msg
    msg = error_of(tmp_path, BASE.replace("{choices: [0.0, 0.1]}", "{min: 0.0}"))
    assert "asr_word_error_rate: needs both min and max" in msg


def test_condition_errors(tmp_path: Path) -> None:
    text = BASE.replace("  teleop: {}", "  telop: {}")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'telop')}: condition 'telop' is not one task kind " \
           f"'shared_autonomy' knows (did you mean 'teleop'?)" in msg
    msg = error_of(tmp_path, BASE.replace("bc: {model: models/bc.pt}", "lila: {}"))
    assert "condition 'lila' names no model (add model: models/lila.pt)" in msg
    text = BASE.replace("models/bc.pt", "models/nope.pt")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'nope')}: condition 'bc': model file 'models/nope.pt' not found" in msg
    assert str(tmp_path / "models" / "nope.pt") in msg
    assert str(PACKAGE_ROOT / "models/nope.pt") in msg
    msg = error_of(tmp_path, BASE.replace("teleop: {}", "teleop: {model: models/bc.pt}"))
    assert "condition 'teleop' takes no model" in msg
    text = BASE.replace("teleop: {}", "teleop: {overrides: {shared_autonomy_node: {x: 1}}}")
    msg = error_of(tmp_path, text)
    assert "condition 'teleop' overrides 'shared_autonomy_node', which is not in its graph" in msg


def test_seed_reuse_across_conditions(tmp_path: Path) -> None:
    text = BASE.replace("bc: {model: models/bc.pt}", "bc: {model: models/bc.pt, seed: 5000}") \
        .replace("lilac: {model: models/lilac.pt}", "lilac: {model: models/lilac.pt, seed: 5002}")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'seed: 5002')}: seed reused across conditions: 'bc' and 'lilac' " \
           f"both use seeds 5002..5003" in msg
    text = BASE.replace("bc: {model: models/bc.pt}", "bc: {model: models/bc.pt, seed: 1002}")
    msg = error_of(tmp_path, text)
    assert "seed reused across conditions: 'teleop' and 'bc' both use seeds 1002..1003" in msg


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("episodes: 4", "episodes: 0", "episodes must be >= 1, got 0"),
    ("time_limit_s: 30.0", "time_limit_s: -1.0", "time_limit_s must be a number > 0"),
    ("time_limit_s: 30.0", "time_limit_s: 30.0\ntime_scale: 0.0",
     "time_scale must be a number > 0"),
    ("name: study", "name: my study/1", "must be folder-safe"),
    ("families: [pick_place_bowl, push]", "families: [pick_place_bowl, psuh]",
     "unknown task family 'psuh' (did you mean 'push'?)"),
    ("families: [pick_place_bowl, push]", "families: [push]\n  houses: [apartment_a]",
     "task.houses applies to task kind 'vln_houses' only"),
    ("families: [pick_place_bowl, push]", "families: [push]\n  scene: nowhere.yaml",
     "scene 'nowhere.yaml' not found"),
    ("target: shared_autonomy_node, ", "", "fault kill_node needs target"),
    ("conditions: [bc, lilac]", "conditions: [bc, lilca]",
     "names condition 'lilca', which the scenario does not have (did you mean 'lilac'?)"),
    ("conditions: [bc, lilac]", "conditions: [teleop, bc]",
     "fault kill_node target 'shared_autonomy_node' is not in the graph of condition 'teleop'"),
    ("magnitude: 50.0", "magnitude: 0.0", "fault joy_garbage needs magnitude > 0"),
    ("{kind: joy_garbage,", "{kind: odom_jump,", "fault 'odom_jump' does not apply to task kind"),
    ("at_s: 5.0", "at_s: 99.0", "at_s 99 is after the episode's time_limit_s 30"),
])
def test_bad_values(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in BASE
    msg = error_of(tmp_path, BASE.replace(old, new))
    assert expected in msg
    assert re.search(r"scn\.yaml:\d+: ", msg)


def test_params_file_missing_and_wrong_world(tmp_path: Path) -> None:
    text = BASE.replace("config/shared_autonomy.yaml", "config/nope.yaml")
    msg = error_of(tmp_path, text)
    assert f":{line_of(text, 'params_file')}: params_file 'config/nope.yaml' not found" in msg
    assert str(tmp_path / "config/nope.yaml") in msg
    msg = error_of(tmp_path, BASE.replace("config/shared_autonomy.yaml", "config/nav.yaml"))
    assert ("its sim node is house_sim_node (world 'house'); task kind 'shared_autonomy' needs "
            "world 'tabletop': a sim_node section") in msg


def test_unknown_house_and_vln_condition(tmp_path: Path) -> None:
    text = """\
    name: nav
    params_file: config/nav.yaml
    task: {kind: vln_houses, houses: [apartment_b]}
    conditions: {rule: {}, greedy: {}}
    episodes: 2
    """
    msg = error_of(tmp_path, text)
    assert "scn.yaml:3: house 'apartment_b' not found" in msg
    assert "did you mean 'apartment_a'" not in msg  # houses are files, not a fixed list
    assert "scn.yaml:4: condition 'greedy' is not one task kind 'vln_houses' knows" in msg


def test_all_problems_are_reported_in_line_order(tmp_path: Path) -> None:
    text = BASE.replace("episodes: 4", "episodes: 0").replace("models/bc.pt", "models/x.pt")
    lines = [int(m) for m in re.findall(r"^scn\.yaml:(\d+):", error_of(tmp_path, text), re.M)]
    assert len(lines) == 2 and lines == sorted(lines)


# ---- expansion ----------------------------------------------------------------------------------

def test_expansion_is_deterministic_and_paired(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, BASE))
    a, b = expand(sc), expand(load_scenario(write(tmp_path, BASE)))
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    assert [s.episode_id for s in a[:5]] == ["teleop-0000", "teleop-0001", "teleop-0002",
                                             "teleop-0003", "bc-0000"]
    by_index: dict[int, list] = {}
    for s in a:
        by_index.setdefault(s.index, []).append(s)
    for i, group in by_index.items():
        assert len(group) == 3
        assert {s.scene_seed for s in group} == {1000 + i}
        assert all(s.randomization == group[0].randomization for s in group)
        assert all(s.task == group[0].task for s in group)
        assert all(s.overrides["sim_user_node"]["seed"] == 1000 + i for s in group)
        assert all(s.links == group[0].links for s in group)
    assert [s.task.family for s in a[:4]] == ["pick_place_bowl", "push"] * 2
    assert len({s.seed for s in a}) == len(a)
    assert [s.seed for s in a if s.index == 1] == [1001, 101_001, 201_001]
    # different indices get different draws
    assert len({s.randomization["user_skill"] for s in a}) == 4


def test_sampled_values_and_overrides(tmp_path: Path) -> None:
    specs = expand(load_scenario(write(tmp_path, BASE)))
    for s in specs:
        r = s.randomization
        assert 0.0 <= r["object_xy_jitter_m"] <= 0.03
        assert 0.6 <= r["user_skill"] <= 0.95
        assert r["asr_word_error_rate"] in (0.0, 0.1)
        assert s.overrides["sim_node"] == {"seed": s.scene_seed,
                                           "domain.object_xy_jitter": r["object_xy_jitter_m"]}
        user = s.overrides["sim_user_node"]
        assert user == {"task": s.task.family, "seed": s.scene_seed, "condition": s.condition,
                        "split": "heldout", "skill": r["user_skill"]}
        assert type(user["skill"]) is float
        assert set(s.links) == {"/joint_states", "/joy", "/ifagent/speech/text"}
        assert s.links["/joy"].latency_s == r["latency_s"]
        assert s.links["/ifagent/speech/text"].word_error_rate == r["asr_word_error_rate"]
        assert s.time_limit_s == 30.0 and s.wall_limit_s == 180.0
        assert s.task.episode == {"family": s.task.family, "task_seed": s.scene_seed}
    teleop, bc = specs[0], specs[4]
    assert teleop.nodes == ["sim_node", "executor_node", "teleop_node", "sim_user_node"]
    assert "shared_autonomy_node" not in teleop.overrides
    assert bc.overrides["shared_autonomy_node"] == {"model_path": str(tmp_path / "models/bc.pt")}
    assert [f.kind for f in teleop.faults] == ["joy_garbage"]
    assert [f.kind for f in bc.faults] == ["kill_node", "joy_garbage"]
    assert "conditions" not in bc.faults[0].model_dump()


def test_condition_overrides_merge_last_and_are_flattened(tmp_path: Path) -> None:
    text = BASE.replace("bc: {model: models/bc.pt}", """bc:
    model: models/bc.pt
    seed: 9000
    overrides:
      sim_node: {seed: 7, realtime: false}
      shared_autonomy_node: {shaping: {weight_small: 0.3}}""")
    specs = expand(load_scenario(write(tmp_path, text)), campaign_name="night_run")
    bc = [s for s in specs if s.condition == "bc"]
    assert [s.seed for s in bc] == [9000, 9001, 9002, 9003]
    assert bc[0].overrides["sim_node"]["seed"] == 7 and bc[0].overrides["sim_node"]["realtime"] \
        is False
    assert bc[0].overrides["shared_autonomy_node"]["shaping.weight_small"] == 0.3
    assert {s.campaign for s in specs} == {"night_run"}


def test_scenario_overrides_reach_every_graph_with_the_node(tmp_path: Path) -> None:
    text = BASE.replace("bc: {model: models/bc.pt}", """bc:
    model: models/bc.pt
    overrides:
      sim_node: {camera: {width: 160}}""") + """\
overrides:
  sim_node: {camera: {width: 320, height: 240}}
  shared_autonomy_node: {control_rate_hz: 50.0}
"""
    specs = expand(load_scenario(write(tmp_path, text)))
    by = {s.condition: s for s in specs if s.index == 0}
    assert by["teleop"].overrides["sim_node"]["camera.width"] == 320
    assert by["teleop"].overrides["sim_node"]["camera.height"] == 240
    assert "shared_autonomy_node" not in by["teleop"].overrides  # not in the teleop graph
    assert by["lilac"].overrides["shared_autonomy_node"]["control_rate_hz"] == 50.0
    assert by["bc"].overrides["sim_node"]["camera.width"] == 160  # the condition's own wins
    assert by["bc"].overrides["sim_node"]["camera.height"] == 240
    # the randomization's task/scene overrides are still there
    assert by["teleop"].overrides["sim_user_node"]["task"] == "pick_place_bowl"


def test_scenario_overrides_of_a_node_no_graph_has(tmp_path: Path) -> None:
    text = BASE + "overrides:\n  vln_planner_node: {planner: rule}\n"
    msg = error_of(tmp_path, text)
    assert f"scn.yaml:{line_of(text, 'vln_planner_node')}: overrides 'vln_planner_node', " \
           "which is in no condition's graph" in msg


def test_real_mode_has_no_randomization(tmp_path: Path) -> None:
    text = BASE.replace("time_limit_s: 30.0", "time_limit_s: 30.0\ntime_scale: 4.0")
    sc = load_scenario(write(tmp_path, text))
    sim = expand(sc)
    assert all(s.links and s.randomization and s.time_scale == 4.0 for s in sim)
    real = expand(sc, real=True)
    assert len(real) == len(sim)
    for s, r in zip(sim, real, strict=True):
        assert r.real and r.randomization == {} and r.links == {} and r.faults == []
        assert r.time_scale == 1.0
        assert not any(k.startswith(("domain.", "camera.")) for k in r.overrides["sim_node"])
        assert "skill" not in r.overrides["sim_user_node"]
        assert (r.seed, r.scene_seed, r.task) == (s.seed, s.scene_seed, s.task)
    sc = load_scenario(write(tmp_path, text + "faults_on_real: true\n"))
    assert [f.kind for f in expand(sc, real=True)[0].faults] == ["joy_garbage"]


def test_integer_bounds_give_float_values(tmp_path: Path) -> None:
    text = BASE.replace("{min: 0.0, max: 0.03}", "{min: 0, max: 0}")
    s = expand(load_scenario(write(tmp_path, text)))[0]
    assert s.randomization["object_xy_jitter_m"] == 0.0
    assert type(s.overrides["sim_node"]["domain.object_xy_jitter"]) is float


def test_vln_expansion(tmp_path: Path) -> None:
    text = """\
    name: nav
    params_file: config/nav.yaml
    task: {kind: vln_houses, houses: [apartment_a, studio_loft]}
    conditions: {rule: {}, random: {}}
    episodes: 3
    seed: 50
    time_limit_s: 60.0
    randomization: {drop_rate: {min: 0.0, max: 0.1}}
    faults: [{kind: odom_jump, at_s: 5.0, magnitude: 1.5}]
    """
    specs = expand(load_scenario(write(tmp_path, text)))
    rule, rand = specs[:3], specs[3:]
    for a, b in zip(rule, rand, strict=True):
        assert a.task.episode == b.task.episode
        ep = a.task.episode
        assert set(ep) == {"house", "episode_id", "instruction", "start", "goal",
                           "shortest_path_m", "success_radius_m"}
        assert ep["success_radius_m"] == 3.0 and ep["shortest_path_m"] > 0
        assert len(ep["start"]) == 3 and len(ep["goal"]) == 2
        assert a.overrides["house_sim_node"]["start"] == ep["start"]
        assert a.overrides["vln_planner_node"]["planner"] == "rule"
        assert b.overrides["vln_planner_node"]["planner"] == "random"
        assert a.overrides["vln_planner_node"]["house"] == a.overrides["house_sim_node"]["house"]
        assert set(a.links) == {"/odom", "/ifagent/objects"}
        assert [f.kind for f in a.faults] == ["odom_jump"]
    assert [s.task.episode["house"] for s in rule] == ["apartment_a", "studio_loft",
                                                       "apartment_a"]


def test_perception_expansion_and_owlv2_model_dir(tmp_path: Path) -> None:
    text = """\
    name: per
    params_file: config/shared_autonomy.yaml
    task: {kind: perception, scene: tabletop_blocks.yaml, duration_s: 5.0}
    conditions:
      geometric: {}
      owlv2: {model: owl}
    episodes: 2
    time_limit_s: 10.0
    randomization:
      light_scale: {choices: [0.5, 1.5]}
      camera_fov_error_deg: {min: -2.0, max: 2.0}
    """
    msg = error_of(tmp_path, text)
    assert "condition 'owlv2': model folder 'owl' not found" in msg
    (tmp_path / "owl").mkdir()
    specs = expand(load_scenario(write(tmp_path, text)))
    geo, owl = specs[0], specs[2]
    assert geo.overrides["perception_node"] == {"detector.backend": "geometric",
                                                "detector.model_path": ""}
    assert owl.overrides["perception_node"]["detector.model_path"] == str(tmp_path / "owl")
    sim = geo.overrides["sim_node"]
    assert sim["scene"] == str(PACKAGE_ROOT / "scenes/tabletop_blocks.yaml")
    assert sim["domain.light_scale"] in (0.5, 1.5)
    assert abs(sim["camera.fov_deg"] - 45.0 - geo.randomization["camera_fov_error_deg"]) < 1e-9
    assert geo.task.duration_s == 5.0 and geo.task.episode == {"scene": "tabletop_blocks.yaml"}
    assert geo.nodes == ["sim_node", "perception_node"]
    text = text.replace("duration_s: 5.0", "duration_s: 50.0")
    assert "task.duration_s 50 exceeds time_limit_s 10" in error_of(tmp_path, text)


def test_expand_needs_a_loaded_scenario(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, BASE))
    with pytest.raises(ScenarioError, match="not loaded with load_scenario"):
        expand(type(sc).model_validate(sc.model_dump()))  # built, not loaded: nothing resolved


def test_scenario_sha256(tmp_path: Path) -> None:
    a = write(tmp_path, BASE, "a.yaml")
    b = write(tmp_path, BASE + "# comment\n", "b.yaml")
    assert scenario_sha256(a) == scenario_sha256(write(tmp_path, BASE, "c.yaml"))
    assert scenario_sha256(a) != scenario_sha256(b)
    assert re.fullmatch(r"[0-9a-f]{64}", scenario_sha256(a))


def test_readme_documents_every_factor_condition_and_key() -> None:
    from ifagent_ros.core.campaign.scenario import Scenario
    from ifagent_ros.core.campaign.tasks import TASKS

    readme = (PACKAGE_ROOT / "scenarios/README.md").read_text()
    for name in [*FACTORS, *Scenario.model_fields,
                 *(c for task in TASKS.values() for c in task.conditions)]:
        assert f"`{name}" in readme, name
