"""The one VLN episode loop: run a planner in any graph environment (R2R scans, simulated houses)
and collect metrics and planning times.

    result = evaluate(env, planner, episodes)
    result.summary()      # core.vln.metrics.aggregate's figures + plan_p50_ms / plan_p99_ms
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ifagent_ros.core.vln.metrics import aggregate, episode_metrics
from ifagent_ros.core.vln.types import NavDecision, NavEnv, Planner

__all__ = ["EpisodeResult", "EvalResult", "NavEpisode", "ScoredNavEnv", "evaluate",
           "run_episode"]


class NavEpisode(Protocol):
    """What the loop reads of an episode (R2REpisode, HouseEpisode)."""

    @property
    def episode_id(self) -> str: ...

    @property
    def instruction(self) -> str: ...

    @property
    def path(self) -> Sequence[str]: ...  # the reference path, start first


class ScoredNavEnv(NavEnv, Protocol):
    """A :class:`NavEnv` that says why an episode ended and knows its graph's distances."""

    @property
    def stop_reason(self) -> str: ...

    @property
    def distances(self) -> Mapping[str, Mapping[str, float]]: ...


@dataclass
class EpisodeResult:
    episode_id: str
    trajectory: list[str]
    metrics: dict[str, float]
    stop_reason: str
    reset_ms: float  # the planner's reset() (instruction parsing), ms
    step_ms: list[float] = field(default_factory=list)  # the planner's act() per decision, ms
    decisions: list[NavDecision] = field(default_factory=list)  # with keep_decisions only


@dataclass
class EvalResult:
    episodes: list[EpisodeResult]

    def plan_ms(self, count_reset: bool = False) -> list[float]:
        """Planning time per decision; with ``count_reset`` each episode's reset() counts as
        one more (``eval houses`` reports it so, ``eval r2r`` does not)."""
        return [t for e in self.episodes
                for t in ([e.reset_ms, *e.step_ms] if count_reset else e.step_ms)]

    def summary(self, count_reset: bool = False) -> dict[str, float]:
        out = aggregate([e.metrics for e in self.episodes])
        times = self.plan_ms(count_reset)
        if times:
            out["plan_p50_ms"] = float(np.percentile(times, 50))
            out["plan_p99_ms"] = float(np.percentile(times, 99))
        return out


def run_episode(env: ScoredNavEnv, planner: Planner, episode: NavEpisode,
                keep_decisions: bool = False) -> EpisodeResult:
    """Reset, let the planner act until the episode ends, and score it (core.vln.metrics)."""
    obs = env.reset(episode)
    t0 = time.perf_counter()
    planner.reset(episode.instruction, obs)
    reset_ms = 1e3 * (time.perf_counter() - t0)
    step_ms: list[float] = []
    decisions = []
    last_reason = ""
    while not env.done:
        t0 = time.perf_counter()
        decision = planner.act(obs)
        step_ms.append(1e3 * (time.perf_counter() - t0))
        if keep_decisions:
            decisions.append(decision)
        last_reason = decision.reason
        obs = env.step(decision)
    metrics = episode_metrics(env.trajectory, episode.path, env.distances)
    return EpisodeResult(episode.episode_id, env.trajectory, metrics,
                         env.stop_reason or last_reason, reset_ms, step_ms, decisions)


def evaluate(env: ScoredNavEnv, planner: Planner, episodes: Iterable[NavEpisode],
             progress: Callable[[int], None] | None = None) -> EvalResult:
    results = []
    for k, episode in enumerate(episodes):
        results.append(run_episode(env, planner, episode))
        if progress is not None:
            progress(k + 1)
    return EvalResult(results)
