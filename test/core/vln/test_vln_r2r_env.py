"""The R2R graph environment on a real scan (skipped without the data) and on the toy one."""

import json
import math

import pytest

from ifagent_ros.core.vln.r2r_env import (
    R2RData,
    R2RDataError,
    R2REnvConfig,
    R2RGraphEnv,
    default_data_dir,
)
from ifagent_ros.core.vln.types import NavDecision, heading_to, wrap_angle

REAL = default_data_dir()
needs_real = pytest.mark.skipif(not (REAL / "R2R_val_seen.json").is_file(),
                                reason=f"R2R data not at {REAL}")


@needs_real
def test_real_scan_observation_and_moves():
    data = R2RData(REAL)
    episode = data.episodes("val_seen", limit=1)[0]
    assert episode.instr_id.endswith("_0") and len(episode.path) >= 4
    env = R2RGraphEnv(data)
    obs = env.reset(episode)
    raw = json.loads((REAL / "scans" / f"{episode.scan}.json").read_text())
    start = raw["nodes"][episode.path[0]]
    assert obs.place_id == episode.path[0] and obs.heading == pytest.approx(episode.heading)
    assert obs.position == pytest.approx(tuple(start["pos"]))
    edges = {b if a == episode.path[0] else a: w for a, b, w in raw["edges"]
             if episode.path[0] in (a, b)}
    assert {n.place_id: n.distance for n in obs.neighbours} == pytest.approx(edges)
    for n in obs.neighbours:  # heading from a to b is atan2(dx, dy)
        p = raw["nodes"][n.place_id]["pos"]
        assert n.heading == pytest.approx(math.atan2(p[0] - start["pos"][0],
                                                     p[1] - start["pos"][1]))
    visible = [o for o in start["objects"] if o["views"]]
    assert len(obs.objects) == len(visible)
    for seen, o in zip(obs.objects, visible, strict=True):
        indices = {v % 12 for v in o["views"]}
        # the heading lies within the span of the object's views (30 degree steps from +y)
        assert min(abs(wrap_angle(seen.heading - math.radians(30 * i))) for i in indices) \
            <= math.radians(30 * len(indices) / 2 + 1)
        assert seen.closeness == pytest.approx(o["max_area_frac"])
    # walk the reference path: heading follows each edge, the episode ends on stop
    for nxt in episode.path[1:]:
        before = obs.position
        obs = env.step(NavDecision("move", target=nxt))
        assert obs.place_id == nxt and obs.heading == pytest.approx(heading_to(before,
                                                                             obs.position))
    env.step(NavDecision("stop", reason="arrived"))
    assert env.done and env.trajectory == list(episode.path) and env.stop_reason == "arrived"
    d = env.scan.distances
    assert d[episode.path[0]][episode.path[-1]] == pytest.approx(episode.distance, abs=0.05)


def test_toy_env_rules(toy_root):
    data = R2RData(toy_root)
    env = R2RGraphEnv(data, R2REnvConfig(max_steps=2))
    obs = env.reset(data.episodes("toy")[0])
    assert [n.place_id for n in obs.neighbours] == ["A", "B"]
    w = R2RGraphEnv(data)
    w.reset(data.episodes("toy")[0])
    w.step(NavDecision("move", target="B"))
    w_obs = w.step(NavDecision("move", target="W"))
    assert [o.name for o in w_obs.objects] == ["picture"]  # an object without views is unseen
    with pytest.raises(ValueError, match="not a move to a neighbour"):
        env.step(NavDecision("move", target="K"))
    with pytest.raises(ValueError):
        env.step(NavDecision("move", target=None))
    env.step(NavDecision("move", target="B"))
    env.step(NavDecision("move", target="D"))
    assert env.done and "step limit" in env.stop_reason
    with pytest.raises(RuntimeError):
        env.step(NavDecision("stop"))


def test_clear_errors_for_missing_data(tmp_path, toy_root):
    with pytest.raises(R2RDataError, match="not found"):
        R2RData(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(R2RDataError, match="no scans/ folder"):
        R2RData(tmp_path / "empty")
    data = R2RData(toy_root)
    with pytest.raises(R2RDataError, match=r"R2R_val_seen.json.*have: toy"):
        data.episodes("val_seen")
    with pytest.raises(R2RDataError, match="scan file not found"):
        data.scan("missing_scan")
    (toy_root / "R2R_broken.json").write_text("{not json")
    with pytest.raises(R2RDataError, match="not valid JSON"):
        data.episodes("broken")
    (toy_root / "scans" / "bad.json").write_text(json.dumps(
        {"nodes": {"a": {"pos": [0, float("nan"), 0], "objects": []}}, "edges": []}))
    with pytest.raises(R2RDataError, match="bad position"):
        data.scan("bad")
    (toy_root / "scans" / "dangling.json").write_text(json.dumps(
        {"nodes": {"a": {"pos": [0, 0, 0], "objects": []}}, "edges": [["a", "b", 1.0]]}))
    with pytest.raises(R2RDataError, match="unknown viewpoint"):
        data.scan("dangling")
