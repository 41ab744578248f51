"""Campaign statistics against published values, scipy, and seeded coverage checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from ifagent_ros.core.campaign.stats import (
    bootstrap_mean_diff,
    factor_association,
    fisher_exact_p,
    logistic_slope,
    mann_whitney_p,
    newcombe_diff,
    point_biserial,
    summary_stats,
    tertile_bins,
    two_proportion_p,
    wilson,
)


def test_wilson_known_values():
    ci = wilson(7, 10)
    assert (round(ci.low, 3), round(ci.high, 3)) == (0.397, 0.892)
    # Newcombe (1998) Table I: 81/263 -> 0.2553, 0.3662
    ci = wilson(81, 263)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10).low == 0.0 and wilson(10, 10).high == 1.0
    assert wilson(0, 0) is None


@pytest.mark.parametrize("k,n", [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError, match="successes <= trials"):
        wilson(k, n)


def test_newcombe_matches_the_published_example():
    # Newcombe (1998) example: 56/70 vs 48/80, method 10 -> 0.0524 to 0.3339 (p1 - p2);
    # ours is b - a, so a = 48/80, b = 56/70.
    ci = newcombe_diff(48, 80, 56, 70)
    assert (round(ci.low, 4), round(ci.high, 4)) == (0.0524, 0.3339)
    flipped = newcombe_diff(56, 70, 48, 80)
    assert flipped.low == pytest.approx(-ci.high) and flipped.high == pytest.approx(-ci.low)
    assert newcombe_diff(0, 0, 3, 4) is None


def test_newcombe_covers_about_95_percent():
    rng = np.random.default_rng(7)
    pa, pb, n = 0.3, 0.6, 30
    hits = 0
    for _ in range(400):
        ka, kb = int(rng.binomial(n, pa)), int(rng.binomial(n, pb))
        hits += newcombe_diff(ka, n, kb, n).contains(pb - pa)
    assert 0.92 <= hits / 400 <= 0.99


def test_fisher_and_two_proportion_agree_with_scipy():
    assert fisher_exact_p(9, 10, 1, 10) == pytest.approx(
        sps.fisher_exact([[9, 1], [1, 9]]).pvalue)
    assert fisher_exact_p(9, 10, 1, 10) < 0.01
    assert fisher_exact_p(5, 10, 5, 10) == pytest.approx(1.0)
    chi2 = sps.chi2_contingency([[70, 30], [40, 60]], correction=False)
    assert two_proportion_p(70, 100, 40, 100) == pytest.approx(chi2.pvalue)
    assert two_proportion_p(10, 10, 10, 10) == 1.0
    assert fisher_exact_p(0, 0, 1, 1) is None and two_proportion_p(1, 1, 0, 0) is None
    with pytest.raises(ValueError):
        fisher_exact_p(3, 2, 1, 1)


def test_mann_whitney():
    assert mann_whitney_p([1, 2, 3, 4, 5, 6, 7, 8], [11, 12, 13, 14, 15, 16, 17, 18]) < 0.001
    assert mann_whitney_p([3, 3, 3], [3, 3, 3]) == pytest.approx(1.0)
    assert mann_whitney_p([], [1.0]) is None
    assert mann_whitney_p([1.0, None, float("nan"), 2.0], [5.0, 6.0]) == pytest.approx(
        sps.mannwhitneyu([1.0, 2.0], [5.0, 6.0]).pvalue)


def test_bootstrap_is_seeded_and_contains_the_true_difference():
    rng = np.random.default_rng(3)
    a, b = rng.normal(10, 1, 40), rng.normal(12, 1, 40)
    ci = bootstrap_mean_diff(a, b, seed=1)
    assert ci == bootstrap_mean_diff(a, b, seed=1)
    assert ci != bootstrap_mean_diff(a, b, seed=2)
    assert ci.contains(2.0) and ci.contains(float(b.mean() - a.mean()))
    assert not ci.contains(0.0)
    assert bootstrap_mean_diff([], [1.0]) is None
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_mean_diff(a, b, n_boot=10)


def test_bootstrap_coverage():
    rng = np.random.default_rng(11)
    hits = 0
    for i in range(200):
        a, b = rng.exponential(1.0, 30), rng.exponential(1.0, 30) + 0.5
        hits += bootstrap_mean_diff(a, b, n_boot=1000, seed=i).contains(0.5)
    assert 0.88 <= hits / 200 <= 0.99


def test_point_biserial_and_logistic_slope_find_a_known_effect():
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, 2000)
    y = rng.uniform(size=x.size) < 1 / (1 + np.exp(-(0.5 - 2.0 * x)))  # true slope -2
    slope, p = logistic_slope(x, y)
    assert slope == pytest.approx(-2.0, abs=0.3) and p < 1e-6
    r, p = point_biserial(x, y)
    assert r < -0.4 and p < 1e-6
    noise = rng.uniform(size=x.size) < 0.5
    assert point_biserial(x, noise)[1] > 0.01


def test_association_without_variance_or_with_separation_says_nothing():
    assert point_biserial([1, 1, 1, 1], [0, 1, 0, 1]) is None
    assert point_biserial([1, 2, 3, 4], [1, 1, 1, 1]) is None
    assert logistic_slope([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]) is None  # separated
    out = factor_association([1, 1, 1], [True, False, True])
    assert out["p_value"] is None and out["logistic_p"] is None


def test_tertile_bins():
    bins = tertile_bins(list(range(9)), [x < 3 for x in range(9)])
    assert [(b["low"], b["high"], b["n"], b["successes"]) for b in bins] == [
        (0.0, 2.0, 3, 3), (3.0, 5.0, 3, 0), (6.0, 8.0, 3, 0)]
    assert bins[0]["rate"] == 1.0 and bins[0]["ci95_low"] == pytest.approx(wilson(3, 3).low)
    tied = tertile_bins([0.5] * 5, [True, False, True, True, False])
    assert len(tied) == 1 and tied[0]["n"] == 5 and tied[0]["successes"] == 3
    assert tertile_bins([], []) == []


def test_summary_stats():
    s = summary_stats([4.0, None, 1.0, 3.0, 2.0, float("inf")])
    assert s == {"n": 4, "mean": 2.5, "median": 2.5, "p25": 1.75, "p75": 3.25, "min": 1.0,
                 "max": 4.0}
    assert summary_stats([])["median"] is None
