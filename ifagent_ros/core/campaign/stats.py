"""Statistics of campaign reports: intervals of proportions and of differences, two-sample
tests, and how strongly a randomization factor goes with failure. Pure numpy/scipy.

Conventions: a difference is always ``b - a`` (compare: run B minus run A; gap: real minus sim).
Functions that cannot say anything (no samples, no variance) return None rather than a number
that looks like a result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = ["Interval", "bootstrap_mean_diff", "factor_association", "fisher_exact_p",
           "logistic_slope", "mann_whitney_p", "newcombe_diff", "point_biserial",
           "summary_stats", "tertile_bins", "two_proportion_p", "wilson"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= successes <= trials, got {k} of {n}")


def wilson(k: int, n: int, z: float = Z95) -> Interval | None:
    """Wilson score interval of a proportion k/n (None for n == 0)."""
    _check_counts(k, n)
    if n == 0:
        return None
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Clamp away float dust so k == 0 gives exactly 0 and k == n exactly 1.
    return Interval(0.0 if k == 0 else max(0.0, centre - half),
                    1.0 if k == n else min(1.0, centre + half))


def newcombe_diff(k_a: int, n_a: int, k_b: int, n_b: int, z: float = Z95) -> Interval | None:
    """Newcombe's hybrid score interval (his method 10) of p_b - p_a, from the two Wilson
    intervals; None when either sample is empty."""
    wa, wb = wilson(k_a, n_a, z), wilson(k_b, n_b, z)
    if wa is None or wb is None:
        return None
    pa, pb = k_a / n_a, k_b / n_b
    d = pb - pa
    low = d - math.sqrt((pb - wb.low) ** 2 + (wa.high - pa) ** 2)
    high = d + math.sqrt((wb.high - pb) ** 2 + (pa - wa.low) ** 2)
    return Interval(max(-1.0, low), min(1.0, high))


def fisher_exact_p(k_a: int, n_a: int, k_b: int, n_b: int) -> float | None:
    """Two-sided Fisher exact test of k_a/n_a vs k_b/n_b."""
    _check_counts(k_a, n_a)
    _check_counts(k_b, n_b)
    if n_a == 0 or n_b == 0:
        return None
    return float(sps.fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]]).pvalue)


def two_proportion_p(k_a: int, n_a: int, k_b: int, n_b: int) -> float | None:
    """Two-sided pooled two-proportion z test (chi-square without continuity correction); for
    large samples, where Fisher's exact test gets slow and conservative."""
    _check_counts(k_a, n_a)
    _check_counts(k_b, n_b)
    if n_a == 0 or n_b == 0:
        return None
    pooled = (k_a + k_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0.0:
        return 1.0  # both all-success or both all-failure: no evidence of a difference
    z = (k_b / n_b - k_a / n_a) / se
    return float(2 * sps.norm.sf(abs(z)))


def _finite(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    return arr[np.isfinite(arr)]


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U test; None when a sample is empty."""
    xa, xb = _finite(a), _finite(b)
    if xa.size == 0 or xb.size == 0:
        return None
    p = float(sps.mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    return None if math.isnan(p) else p


def bootstrap_mean_diff(a: Sequence[float], b: Sequence[float], *, n_boot: int = 5000,
                        seed: int = 0, level: float = 0.95) -> Interval | None:
    """Percentile bootstrap interval of mean(b) - mean(a), resampling each sample on its own
    with a seeded generator (same inputs, same interval)."""
    xa, xb = _finite(a), _finite(b)
    if xa.size == 0 or xb.size == 0:
        return None
    if n_boot < 100:
        raise ValueError(f"n_boot {n_boot}: use at least 100 resamples")
    rng = np.random.default_rng(seed)
    ma = xa[rng.integers(0, xa.size, (n_boot, xa.size))].mean(axis=1)
    mb = xb[rng.integers(0, xb.size, (n_boot, xb.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(mb - ma, [tail, 1.0 - tail])
    return Interval(float(low), float(high))


def summary_stats(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, mean, median, p25, p75, min, max of the finite values (None entries skipped)."""
    x = _finite(values)
    if x.size == 0:
        return {"n": 0, "mean": None, "median": None, "p25": None, "p75": None, "min": None,
                "max": None}
    p25, p50, p75 = np.percentile(x, [25, 50, 75])
    return {"n": int(x.size), "mean": float(x.mean()), "median": float(p50), "p25": float(p25),
            "p75": float(p75), "min": float(x.min()), "max": float(x.max())}


def point_biserial(x: Sequence[float], success: Sequence[bool]) -> tuple[float, float] | None:
    """(r, p) of success against a continuous factor; None without variance in either."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(success, dtype=float)
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    res = sps.pointbiserialr(ys, xs)
    return float(res.statistic), float(res.pvalue)


def logistic_slope(x: Sequence[float], success: Sequence[bool],
                   max_iter: int = 50) -> tuple[float, float] | None:
    """(slope per unit of x, Wald p) of logit P(success) = a + b x, by Newton-Raphson. None
    without variance, or when the fit does not converge (complete separation: the factor splits
    successes from failures perfectly, and the slope runs off to infinity)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(success, dtype=float)
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    # Standardise for a well-conditioned fit; rescale the slope afterwards.
    mu, sd = xs.mean(), xs.std()
    design = np.column_stack([np.ones_like(xs), (xs - mu) / sd])
    beta = np.zeros(2)
    for _ in range(max_iter):
        prob = 1.0 / (1.0 + np.exp(-design @ beta))
        w = prob * (1.0 - prob)
        hess = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(hess, design.T @ (ys - prob))
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    else:
        return None
    if abs(beta[1]) > 15.0:  # separated: converged only numerically, towards infinity
        return None
    prob = 1.0 / (1.0 + np.exp(-design @ beta))
    hess = design.T @ (design * (prob * (1.0 - prob))[:, None])
    try:
        se = math.sqrt(np.linalg.inv(hess)[1, 1])
    except np.linalg.LinAlgError:
        return None
    p = float(2 * sps.norm.sf(abs(beta[1] / se)))
    return float(beta[1] / sd), p


Bin = dict[str, float | int | None]


def tertile_bins(x: Sequence[float], success: Sequence[bool]) -> list[Bin]:
    """Success in the low / middle / high third of a factor's values: low, high (the bin's value
    range), n, successes, rate, ci95_low, ci95_high. Ties can merge bins (fewer than three)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(success, dtype=bool)
    if xs.size == 0:
        return []
    edges = np.unique(np.quantile(xs, [0.0, 1 / 3, 2 / 3, 1.0]))
    if edges.size == 1:
        bins = [np.ones(xs.size, dtype=bool)]
    else:
        idx = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, edges.size - 2)
        bins = [idx == i for i in range(edges.size - 1)]
    out: list[Bin] = []
    for mask in bins:
        if not mask.any():
            continue
        n, k = int(mask.sum()), int(ys[mask].sum())
        ci = wilson(k, n)
        out.append({"low": float(xs[mask].min()), "high": float(xs[mask].max()), "n": n,
                    "successes": k, "rate": k / n,
                    "ci95_low": ci.low if ci else None, "ci95_high": ci.high if ci else None})
    return out


def factor_association(x: Sequence[float], success: Sequence[bool]) -> dict[str, object]:
    """Everything the report says about one factor: tertiles, point-biserial r/p, logistic
    slope/p. ``p_value`` (for ranking) is the point-biserial one."""
    pb = point_biserial(x, success)
    lg = logistic_slope(x, success)
    return {"n": len(x), "tertiles": tertile_bins(x, success),
            "point_biserial_r": pb[0] if pb else None, "point_biserial_p": pb[1] if pb else None,
            "logistic_slope_per_unit": lg[0] if lg else None,
            "logistic_p": lg[1] if lg else None, "p_value": pb[1] if pb else None}
