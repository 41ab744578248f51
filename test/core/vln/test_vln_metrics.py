"""R2R metrics on hand-made graphs with answers worked out by hand."""

import math

import pytest

from ifagent_ros.core.vln.metrics import aggregate, dtw, episode_metrics, ndtw, path_length


def line_distances(names: str, spacing: float = 1.0) -> dict[str, dict[str, float]]:
    """Places on a line, ``spacing`` metres apart: shortest distance = |i - j| * spacing."""
    return {a: {b: abs(i - j) * spacing for j, b in enumerate(names)}
            for i, a in enumerate(names)}


LINE = line_distances("ABCDEFG")
REF = ["A", "B", "C", "D", "E"]  # 4 m to E


def test_perfect_run():
    m = episode_metrics(REF, REF, LINE)
    assert m["ne"] == 0 and m["success"] == 1 and m["oracle_success"] == 1
    assert m["spl"] == pytest.approx(1.0) and m["ndtw"] == pytest.approx(1.0)
    assert m["tl"] == pytest.approx(4.0) and m["steps"] == 4


def test_stopping_short_within_three_metres_succeeds_with_full_spl():
    m = episode_metrics(["A", "B", "C"], REF, LINE)  # 2 m from E
    assert m["ne"] == pytest.approx(2.0) and m["success"] == 1
    assert m["spl"] == pytest.approx(4.0 / max(2.0, 4.0))


def test_overshoot_and_back_costs_spl():
    traj = ["A", "B", "C", "D", "E", "F", "G", "F"]  # TL 7, ends 1 m past E
    m = episode_metrics(traj, REF, LINE)
    assert m["ne"] == pytest.approx(1.0) and m["success"] == 1
    assert m["tl"] == pytest.approx(7.0) and m["spl"] == pytest.approx(4.0 / 7.0)


def test_oracle_success_without_success():
    traj = ["A", "B", "C", "D", "E", "D", "C", "B", "A"]  # visits E, ends at A
    m = episode_metrics(traj, REF, LINE)
    assert m["ne"] == pytest.approx(4.0) and m["success"] == 0 and m["spl"] == 0
    assert m["oracle_error"] == 0 and m["oracle_success"] == 1


def test_three_metres_is_not_success():
    m = episode_metrics(["A", "B"], ["A", "B", "C", "D", "E"], LINE)  # exactly 3 m
    assert m["ne"] == pytest.approx(3.0) and m["success"] == 0 and m["oracle_success"] == 0


def test_ndtw_by_hand():
    # pred [A], ref [A, B]: DTW = d(A,A) + d(A,B) = 1 -> exp(-1 / (3 * 2))
    assert dtw(["A"], ["A", "B"], LINE) == pytest.approx(1.0)
    assert ndtw(["A"], ["A", "B"], LINE) == pytest.approx(math.exp(-1 / 6))
    # pred [A, C], ref [A, B, C]: best warping A-A, C-B, C-C = 0 + 1 + 0 -> exp(-1 / 9)
    assert dtw(["A", "C"], ["A", "B", "C"], LINE) == pytest.approx(1.0)
    assert ndtw(["A", "C"], ["A", "B", "C"], LINE) == pytest.approx(math.exp(-1 / 9))
    # stopping at the start of a 4 m path: DTW = 0+1+2+3+4 = 10 -> exp(-10 / 15)
    assert episode_metrics(["A"], REF, LINE)["ndtw"] == pytest.approx(math.exp(-10 / 15))


def test_graph_distances_not_euclidean():
    # a detour graph: A-B 1 m, B-C 5 m; "C" is 6 m from A along the graph
    d = {"A": {"A": 0, "B": 1, "C": 6}, "B": {"A": 1, "B": 0, "C": 5},
         "C": {"A": 6, "B": 5, "C": 0}}
    m = episode_metrics(["A", "B"], ["A", "B", "C"], d)
    assert m["ne"] == 5 and m["success"] == 0 and path_length(["A", "B", "C"], d) == 6


def test_aggregate_percentages_and_bad_input():
    runs = [episode_metrics(REF, REF, LINE), episode_metrics(["A"], REF, LINE)]
    agg = aggregate(runs)
    assert agg["success_rate"] == pytest.approx(50.0) and agg["osr"] == pytest.approx(50.0)
    assert agg["spl"] == pytest.approx(50.0) and agg["ne_m"] == pytest.approx(2.0)
    assert agg["episodes"] == 2 and agg["tl_m"] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        aggregate([])
    with pytest.raises(ValueError, match="starts at"):
        episode_metrics(["B"], REF, LINE)
    with pytest.raises(ValueError):
        episode_metrics([], REF, LINE)
    with pytest.raises(ValueError, match="not connected"):
        episode_metrics(["A", "Z"], REF, {**LINE, "Z": {}})
