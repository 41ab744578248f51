"""Small statistics used by every benchmark: percentiles and gap counting, in one place."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def percentiles_ms(samples_s: Sequence[float], prefix: str = "") -> dict[str, float | None]:
    """p50 / p90 / p99 / max of durations given in seconds, reported in milliseconds."""
    keys = [f"{prefix}p50_ms", f"{prefix}p90_ms", f"{prefix}p99_ms", f"{prefix}max_ms"]
    if len(samples_s) == 0:
        return dict.fromkeys(keys)
    arr = np.asarray(samples_s, dtype=float) * 1e3
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return dict(zip(keys, (float(p50), float(p90), float(p99), float(arr.max())), strict=True))


def missed_periods(arrival_times_s: Sequence[float], period_s: float) -> int:
    """How many periods of a stream expected every ``period_s`` passed with nothing arriving.

    A gap of g seconds between two arrivals misses round(g / period) - 1 periods (so jitter below
    half a period is not counted as a miss).
    """
    if len(arrival_times_s) < 2:
        return 0
    gaps = np.diff(np.sort(np.asarray(arrival_times_s, dtype=float)))
    return int(np.sum(np.maximum(np.round(gaps / period_s) - 1.0, 0.0)))
