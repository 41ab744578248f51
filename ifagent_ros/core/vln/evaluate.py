"""Run planners on R2R episodes and collect metrics and planning times."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ifagent_ros.core.vln.metrics import aggregate, episode_metrics
from ifagent_ros.core.vln.r2r_env import R2REpisode, R2RGraphEnv
from ifagent_ros.core.vln.types import NavDecision, Planner


@dataclass
class EpisodeResult:
    instr_id: str
    trajectory: list[str]
    metrics: dict[str, float]
    stop_reason: str
    decisions: list[NavDecision] = field(default_factory=list)


@dataclass
class EvalResult:
    episodes: list[EpisodeResult]
    step_ms: list[float]  # planner time per act() call

    def summary(self) -> dict[str, float]:
        out = aggregate([e.metrics for e in self.episodes])
        if self.step_ms:
            out["plan_p50_ms"] = float(np.percentile(self.step_ms, 50))
            out["plan_p99_ms"] = float(np.percentile(self.step_ms, 99))
        return out


def run_episode(env: R2RGraphEnv, planner: Planner, episode: R2REpisode,
                step_ms: list[float] | None = None, keep_decisions: bool = False
                ) -> EpisodeResult:
    obs = env.reset(episode)
    planner.reset(episode.instruction, obs)
    decisions = []
    last_reason = ""
    while not env.done:
        t0 = time.perf_counter()
        decision = planner.act(obs)
        if step_ms is not None:
            step_ms.append(1e3 * (time.perf_counter() - t0))
        if keep_decisions:
            decisions.append(decision)
        last_reason = decision.reason
        obs = env.step(decision)
    metrics = episode_metrics(env.trajectory, episode.path, env.scan.distances)
    return EpisodeResult(episode.instr_id, env.trajectory, metrics,
                         env.stop_reason or last_reason, decisions)


def evaluate(env: R2RGraphEnv, planner: Planner, episodes: Iterable[R2REpisode],
             progress: Callable[[int], None] | None = None) -> EvalResult:
    results, step_ms = [], []
    for k, episode in enumerate(episodes):
        results.append(run_episode(env, planner, episode, step_ms))
        if progress is not None:
            progress(k + 1)
    return EvalResult(results, step_ms)
