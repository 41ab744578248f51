"""Report, compare and gap on synthetic run folders with known answers (run_factory.py), and the
CLI's handling of bad input."""

from __future__ import annotations

import argparse
import base64
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from run_factory import Ep, continuous_run, standard_run, write_run
from scipy import stats as sps

from ifagent_ros.cli.campaign import compare as cli_compare
from ifagent_ros.cli.campaign import gap as cli_gap
from ifagent_ros.cli.campaign import report as cli_report
from ifagent_ros.core.campaign.compare import compare, format_compare, format_gap, gap
from ifagent_ros.core.campaign.report import GALLERY_MAX, load_run, write_report
from ifagent_ros.core.campaign.run_folder import CampaignError
from ifagent_ros.core.campaign.stats import newcombe_diff

REPO = Path(__file__).resolve().parents[3]
IMG_SRC = re.compile(r'<img\b[^>]*\bsrc="([^"]*)"')


def png_size(uri: str) -> tuple[int, int]:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix), uri[:40]
    raw = base64.b64decode(uri[len(prefix):], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


@pytest.fixture(scope="module")
def standard(tmp_path_factory):
    run = standard_run(tmp_path_factory.mktemp("std") / "run")
    return run, write_report(run)


# ---- report: the numbers -----------------------------------------------------------------------

def test_success_counts_and_wilson(standard):
    _, result = standard
    s = result.summary
    lilac, teleop = s["success"]["lilac"], s["success"]["teleop"]
    assert (lilac["successes"], lilac["n"], lilac["rate"]) == (7, 10, 0.7)
    assert (round(lilac["ci95_low"], 3), round(lilac["ci95_high"], 3)) == (0.397, 0.892)
    assert (teleop["successes"], teleop["n"]) == (4, 10)
    assert s["counts"] == {"episodes_indexed": 24, "finished": 23, "ok": 20, "failed": 2,
                           "invalid": 1, "pending": 1, "unreadable": 0}
    assert s["conditions"] == ["lilac", "teleop"]


def test_failed_and_invalid_reasons(standard):
    s = standard[1].summary
    assert s["failed"]["count"] == 2
    assert s["failed"]["by_reason"] == {"hung: killed after 60 s": 2}  # first line only
    assert s["failed"]["by_condition"] == {"lilac": 2, "teleop": 0}
    assert s["invalid"]["count"] == 1
    assert "robot bumped" in s["invalid"]["episodes"][0]["reason"]


def test_times_interventions_safety_runtime(standard):
    s = standard[1].summary
    assert s["time_to_success_s"]["lilac"]["median"] == 13.0
    assert s["time_to_success_s"]["teleop"]["n"] == 4
    assert s["metrics"]["teleop"]["stick_effort_s"]["mean"] == pytest.approx(24.5)
    li = s["limit_interventions"]
    assert (li["lilac"]["total"], li["lilac"]["by_limit"]) == (10, {"velocity": 10})
    assert li["teleop"]["by_limit"] == {"velocity": 20, "workspace": 10}
    assert li["teleop"]["mean_per_episode"] == 3.0
    safe = s["safety"]["all"]
    assert safe["joint_speed_peak_ratio_max"] == pytest.approx(0.95)
    assert safe["command_speed_peak_ratio_max"] == pytest.approx(0.9)
    assert safe["joint_limit_violations_total"] == 1
    assert (safe["watchdog_reaction_ms_p50"], safe["watchdog_reaction_ms_max"]) == (90.0, 100.0)
    assert safe["watchdog_reaction_ms_goal"] == 150.0 and safe["watchdog_meets_goal"] is True
    assert s["safety"]["teleop"]["watchdog_meets_goal"] is None  # no kill_node: not measured
    faults = s["faults"]
    assert faults["by_kind"]["kill_node"] == {
        "fired": 3, "safe": 3, "unsafe": 0, "unknown": 0, "arm_speed_peak_ratio_max": 0.3,
        "commands_rejected_total": 0, "brake_ms_p50": 130.0, "brake_ms_max": 140.0,
        "brake_ms_n": 3}
    cam = faults["by_kind"]["freeze_camera"]
    assert (cam["fired"], cam["unsafe"], cam["commands_rejected_total"]) == (1, 1, 3)
    assert [(o["episode_id"], o["kind"]) for o in faults["episodes"]] == [
        ("lilac-0007", "kill_node"), ("lilac-0008", "kill_node"), ("lilac-0009", "kill_node"),
        ("lilac-0009", "freeze_camera")]
    rt = s["runtime"]
    assert (rt["episodes"], rt["episodes_pending"], rt["wall_s_total"]) == (23, 1, 460.0)
    assert rt["real_time_factor_median"] == 2.0 and rt["runner"] == {"workers": 2}
    # 16.2 CPU s for 36 episode s; 36 MB for 36 s
    assert rt["cpu_s_per_episode_s_median"] == pytest.approx(0.45)
    assert rt["bag_mb_per_episode_s_median"] == pytest.approx(1.0)


def test_failure_drivers_rank_the_driving_factor_first(standard):
    d = standard[1].summary["failure_drivers"]
    assert [f["factor"] for f in d["factors"]] == ["light_scale", "friction"]
    light, friction = d["factors"]
    assert light["point_biserial_r"] < 0 and light["point_biserial_p"] < 0.001
    assert friction["point_biserial_p"] > 0.1
    rates = [b["rate"] for b in light["tertiles"]]
    assert rates == sorted(rates, reverse=True) and rates[0] == 1.0
    assert sum(b["n"] for b in light["tertiles"]) == 20
    (fault,) = d["faults"]
    assert fault["fault"] == "kill_node" and fault["fired"] == 3
    assert (fault["with"]["successes"], fault["with"]["n"]) == (0, 3)
    assert (fault["without"]["successes"], fault["without"]["n"]) == (11, 17)
    assert fault["fisher_p"] == pytest.approx(sps.fisher_exact([[11, 6], [0, 3]]).pvalue)


def test_summary_json_is_the_summary(standard):
    _, result = standard
    on_disk = json.loads(result.summary_path.read_text())
    assert on_disk == json.loads(json.dumps(result.summary))
    assert on_disk["schema"] == "ifagent.campaign.summary/1"


# ---- report: the page --------------------------------------------------------------------------

def test_page_is_self_contained_and_every_plot_decodes(standard):
    _, result = standard
    page = result.html_path.read_text()
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "http://" not in page and "https://" not in page
    srcs = IMG_SRC.findall(page)
    # success, time to success, 2 factors, 9 gallery paths + 1 snapshot, interventions
    assert len(srcs) == 15
    assert all(min(png_size(uri)) > 0 for uri in srcs)
    for text in ("Success per condition", "What drives failures", "Failed episodes",
                 "Limit interventions", "Safety", "Runtime", "light_scale", "39.7%",
                 "<h2>Faults</h2>", "freeze_camera"):
        assert text in page
    assert "Path: no trajectory.json." in page
    faults = page[page.index("<h2>Faults</h2>"):page.index("<h2>Runtime</h2>")]
    assert faults.count('<span class="bad">unsafe</span>') == 1
    assert faults.count('<span class="good">safe</span>') == 3


def test_text_from_files_is_escaped(tmp_path):
    evil = '<img src=x onerror="alert(1)">'
    run = write_run(tmp_path / "run", [
        Ep("a$b", True, metrics={"time_to_success_s": 3.0}, randomization={"<f>": 0.1}),
        Ep("a$b", False, randomization={"<f>": 0.9}, trajectory={"base_xy": [[0, 0, 0],
                                                                            [1, 1, 1]]}),
        Ep("a$b", False, status="failed", failure_reason=evil),
    ], name="<b>x & y</b>")
    page = write_report(run).html_path.read_text()
    assert evil not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<b>x & y</b>" not in page and "&lt;b&gt;x &amp; y&lt;/b&gt;" in page
    assert "&lt;f&gt;" in page and "<f>" not in page
    assert all(min(png_size(uri)) > 0 for uri in IMG_SRC.findall(page))


def test_gallery_caps_and_explains_missing_or_broken_files(tmp_path):
    eps = [Ep("c", False, trajectory={"ee_xyz": [[0, 0, 0, 0], [1, 0.1, 0.1, 0]]})
           for _ in range(GALLERY_MAX + 3)]
    run = write_run(tmp_path / "run", eps)
    (run / "episodes" / "c-0000" / "trajectory.json").write_text("{not json")
    (run / "episodes" / "c-0001" / "snapshot.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    (run / "episodes" / "c-0002" / "trajectory.json").write_text('{"ee_xyz": [["a"]]}')
    result = write_report(run)
    g = result.summary["gallery"]
    assert (g["failed_total"], g["shown"]) == (GALLERY_MAX + 3, GALLERY_MAX)
    assert g["episodes"][0]["trajectory_problem"].startswith("trajectory.json unreadable")
    assert "not [t, ...] numbers" in g["episodes"][2]["trajectory_problem"]
    page = result.html_path.read_text()
    assert "Snapshot: snapshot.png unreadable" in page
    assert f"{GALLERY_MAX} of {GALLERY_MAX + 3}" in page
    assert all(min(png_size(uri)) > 0 for uri in IMG_SRC.findall(page))


def test_empty_run_still_reports(tmp_path):
    run = write_run(tmp_path / "run", [Ep("a", False, status="pending")])
    s = write_report(run).summary
    assert s["success"]["a"]["rate"] is None and s["counts"]["pending"] == 1


# ---- bad input ---------------------------------------------------------------------------------

def _args(add, argv):
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_bad_folders_exit_2_with_a_clear_message(tmp_path, capsys):
    bad_index = tmp_path / "bad"
    bad_index.mkdir()
    (bad_index / "campaign.json").write_text('{"name": 3')
    cases = {tmp_path / "missing": "does not exist", tmp_path: "has no campaign.json",
             bad_index: "campaign.json is unreadable"}
    for folder, message in cases.items():
        code = cli_report.run(_args(cli_report.add_arguments, [str(folder)]))
        err = capsys.readouterr().err
        assert code == 2 and message in err and "Traceback" not in err


def test_corrupt_episode_json_is_skipped_with_a_warning(tmp_path, capsys):
    run = write_run(tmp_path / "run", [Ep("a", True), Ep("a", False), Ep("a", True)])
    broken = run / "episodes" / "a-0001" / "episode.json"
    broken.write_text('{"spec": ')
    code = cli_report.run(_args(cli_report.add_arguments, [str(run), "--json"]))
    out, err = capsys.readouterr()
    assert code == 0
    assert f"warning: skipped {broken}" in err
    lines = out.strip().splitlines()
    assert len(lines) == 1  # --json: one JSON object on stdout, the text went to stderr
    summary = json.loads(lines[-1])
    assert summary["counts"]["unreadable"] == 1 and summary["success"]["a"]["n"] == 2
    assert str(broken) in summary["warnings"][0]


def test_the_ifagent_command_exits_2_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ifagent_ros.cli", "campaign", "report",
                           str(tmp_path / "nope")], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


# ---- compare -----------------------------------------------------------------------------------

def _pair(tmp_path, b_success, b_times):
    a = continuous_run(tmp_path / "a", name="a", success={"x": (18, 20), "y": (10, 20)},
                       times={"x": [10, 11, 12, 13], "y": [20, 21, 22]})
    b = continuous_run(tmp_path / "b", name="b", success=b_success, times=b_times)
    return load_run(a), load_run(b)


def _row(result, metric, condition):
    return next(r for r in result["rows"] if (r["metric"], r["condition"]) == (metric, condition))


def test_compare_flags_a_clear_regression(tmp_path, capsys):
    a, b = _pair(tmp_path, {"x": (4, 20), "y": (10, 20)},
                 {"x": [30, 31, 32, 33], "y": [20, 21, 22]})
    result = compare(a, b)
    row = _row(result, "success_rate", "x")
    assert (row["a"], row["b"], row["delta"]) == (0.9, 0.2, pytest.approx(-0.7))
    assert row["p_value"] == pytest.approx(sps.fisher_exact([[18, 2], [4, 16]]).pvalue)
    assert row["flag"] == "regression"
    assert _row(result, "episode_time_s", "x")["flag"] == "regression"
    assert _row(result, "success_rate", "y")["flag"] == ""
    assert _row(result, "episode_time_s", "y")["flag"] == ""
    assert result["has_regression"] and result["regressions"] >= 2
    text = format_compare(result)
    line = next(ln for ln in text.splitlines() if ln.startswith("success_rate") and " x " in ln)
    assert line.endswith("regression")
    dashes = next(ln for ln in text.splitlines() if ln.startswith("-----"))
    assert line.index("regression") == dashes.rindex(" ") + 1  # the flag column lines up
    code = cli_compare.run(_args(cli_compare.add_arguments,
                                 [str(a.path), str(b.path), "--fail-on-regression", "--json"]))
    assert code == cli_compare.EXIT_REGRESSION
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["has_regression"]


def test_compare_improvement_and_no_change(tmp_path):
    a, b = _pair(tmp_path, {"x": (18, 20), "y": (19, 20)},
                 {"x": [10, 11, 12, 13], "y": [5, 6, 7]})
    result = compare(a, b)
    assert _row(result, "success_rate", "y")["flag"] == "improvement"
    assert _row(result, "episode_time_s", "y")["flag"] == "improvement"
    assert _row(result, "success_rate", "x")["flag"] == ""
    assert not result["has_regression"]
    same = compare(a, a)
    assert all(r["flag"] == "" for r in same["rows"])


def test_compare_without_common_conditions_is_bad_input(tmp_path, capsys):
    a, b = _pair(tmp_path, {"z": (1, 2)}, {"z": [1.0]})
    with pytest.raises(CampaignError, match="no condition in common") as err:
        compare(a, b)
    assert err.value.exit_code == 2
    code = cli_compare.run(_args(cli_compare.add_arguments, [str(a.path), str(b.path)]))
    assert code == 2 and "no condition in common" in capsys.readouterr().err


# ---- gap ---------------------------------------------------------------------------------------

def test_gap_intervals_contain_the_true_difference(tmp_path, capsys):
    rng = np.random.default_rng(0)
    sim_t = list(rng.normal(10.0, 1.0, 40))
    real_t = list(rng.normal(12.0, 1.0, 40))
    sim = continuous_run(tmp_path / "sim", name="sim", success={"x": (40, 40)},
                         times={"x": sim_t})
    real = write_run(tmp_path / "real", [
        Ep("x", i < 20, metrics={"episode_time_s": t}) for i, t in enumerate(real_t)],
        name="real", real=True)
    sim_run, real_run = load_run(sim), load_run(real)
    result = gap(sim_run, real_run, seed=3)
    succ = _row(result, "success_rate", "x")
    assert (succ["sim"], succ["real"], succ["gap"]) == (1.0, 0.5, -0.5)
    ci = newcombe_diff(40, 40, 20, 40)
    assert (succ["gap_ci95_low"], succ["gap_ci95_high"]) == (ci.low, ci.high)
    assert succ["gap_ci95_low"] < -0.5 < succ["gap_ci95_high"] < 0
    t = _row(result, "episode_time_s", "x")
    assert t["gap"] == pytest.approx(np.mean(real_t) - np.mean(sim_t))
    assert t["gap_ci95_low"] < 2.0 < t["gap_ci95_high"] and t["gap_ci95_low"] > 0
    assert (t["n_sim"], t["n_real"]) == (40, 40)
    assert gap(sim_run, real_run, seed=3) == result  # seeded: reproducible
    assert result["notes"] == []
    assert "gap 95% interval" in format_gap(result)
    code = cli_gap.run(_args(cli_gap.add_arguments, [str(real), str(sim), "--json"]))
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and len(payload["notes"]) == 2  # the runs were given the wrong way round


def test_json_ready_drops_nan_and_infinity():
    from ifagent_ros.core.campaign.report import json_ready

    value = {"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], 2: (0.5,)}
    assert json_ready(value) == {"a": None, "b": [1.0, None, {"c": None}], "2": [0.5]}
    json.dumps(json_ready(value), allow_nan=False)
