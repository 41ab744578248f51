"""R2R navigation metrics, computed as NavGPT / MapGPT (and the R2R evaluation code) do.

All distances are shortest-path metres on the navigation graph (``distances[a][b]``):

* NE   navigation error: distance from the final place to the goal (last place of the reference)
* SR   success: NE < 3.0 m
* OSR  oracle success: some place on the trajectory is < 3.0 m from the goal
* SPL  success weighted by path length: SR * L_ref / max(L_traj, L_ref, 0.01)
* nDTW exp(-DTW(trajectory, reference) / (3.0 * len(reference))); sDTW = SR * nDTW
* TL   trajectory length: the sum of the shortest distances between consecutive places
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

SUCCESS_DISTANCE = 3.0

Distances = Mapping[str, Mapping[str, float]]


def path_length(path: Sequence[str], distances: Distances) -> float:
    return float(sum(distances[a][b] for a, b in zip(path[:-1], path[1:], strict=True)))


def dtw(prediction: Sequence[str], reference: Sequence[str], distances: Distances) -> float:
    n, m = len(prediction), len(reference)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, 0] = 0.0
    for i in range(1, n + 1):
        row = distances[prediction[i - 1]]
        for j in range(1, m + 1):
            best = min(cost[i - 1, j], cost[i, j - 1], cost[i - 1, j - 1])
            cost[i, j] = row[reference[j - 1]] + best
    return float(cost[n, m])


def ndtw(prediction: Sequence[str], reference: Sequence[str], distances: Distances,
         threshold: float = SUCCESS_DISTANCE) -> float:
    return math.exp(-dtw(prediction, reference, distances) / (threshold * len(reference)))


def episode_metrics(trajectory: Sequence[str], reference: Sequence[str], distances: Distances,
                    threshold: float = SUCCESS_DISTANCE) -> dict[str, float]:
    """Metrics of one episode; ``trajectory`` starts at ``reference[0]``."""
    if not trajectory or not reference:
        raise ValueError("trajectory and reference must be non-empty")
    if trajectory[0] != reference[0]:
        raise ValueError(f"trajectory starts at {trajectory[0]}, reference at {reference[0]}")
    goal = reference[-1]
    for place in (*trajectory, *reference):
        if place not in distances or goal not in distances[place]:
            raise ValueError(f"place {place} is not connected to the goal {goal} in this graph")
    nav_error = float(distances[trajectory[-1]][goal])
    oracle_error = float(min(distances[p][goal] for p in trajectory))
    tl = path_length(trajectory, distances)
    ref_len = path_length(reference, distances)
    success = float(nav_error < threshold)
    nd = ndtw(trajectory, reference, distances, threshold)
    return {
        "ne": nav_error,
        "oracle_error": oracle_error,
        "success": success,
        "oracle_success": float(oracle_error < threshold),
        "spl": success * ref_len / max(tl, ref_len, 0.01),
        "ndtw": nd,
        "sdtw": success * nd,
        "tl": tl,
        "steps": float(len(trajectory) - 1),
    }


def aggregate(per_episode: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Means over episodes, rates in percent as papers report them, distances in metres."""
    if not per_episode:
        raise ValueError("no episodes to aggregate")

    def mean(key: str) -> float:
        return float(np.mean([e[key] for e in per_episode]))

    return {
        "episodes": len(per_episode),
        "ne_m": mean("ne"),
        "success_rate": 100.0 * mean("success"),
        "osr": 100.0 * mean("oracle_success"),
        "spl": 100.0 * mean("spl"),
        "ndtw": 100.0 * mean("ndtw"),
        "sdtw": 100.0 * mean("sdtw"),
        "tl_m": mean("tl"),
        "steps": mean("steps"),
    }
