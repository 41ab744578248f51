"""Fitting the rule planner's few numbers on R2R train (never on a validation split).

* :func:`collect_choices` walks the reference paths of train episodes (teacher forcing): at each
  place the planner updates its plan as usual and the features of every neighbour are recorded
  with the index of the reference's next place.
* :func:`fit_weights` fits the feature weights by conditional logistic regression (softmax over
  the neighbours, L2-regularised): the weights the shipped defaults come from.
* :func:`search_scalars` tunes the stop / progress thresholds by random search on the success
  rate of full episodes.

Run ``python -m ifagent_ros.core.vln.tuning --data DIR`` to redo the fit (a few minutes on CPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from collections.abc import Sequence

import numpy as np

from ifagent_ros.core.vln.candidate_features import FEATURES
from ifagent_ros.core.vln.evaluate import evaluate
from ifagent_ros.core.vln.lexicon import ASSOCIATIONS_FILE, Lexicon, learn_associations
from ifagent_ros.core.vln.planner import RulePlanner, RulePlannerConfig
from ifagent_ros.core.vln.r2r_env import R2RData, R2REpisode, R2RGraphEnv
from ifagent_ros.core.vln.types import NavDecision


def learn_r2r_associations(data: R2RData, episodes: Sequence[R2REpisode]
                           ) -> dict[str, dict[str, float]]:
    """Term -> category strengths from train paths (see lexicon.learn_associations)."""
    pairs = []
    for e in episodes:
        scan = data.scan(e.scan)
        pairs.append((e.instruction, [{o.name for o in scan.objects[v]} for v in e.path],
                      e.scan))
    return learn_associations(pairs, Lexicon(associations={}))


def collect_choices(data: R2RData, episodes: Sequence[R2REpisode],
                    config: RulePlannerConfig | None = None
                    ) -> list[tuple[np.ndarray, int]]:
    """(features of each neighbour [n x F], index of the reference's next place) per step."""
    planner = RulePlanner(config)
    env = R2RGraphEnv(data)
    out: list[tuple[np.ndarray, int]] = []
    for episode in episodes:
        obs = env.reset(episode)
        planner.reset(episode.instruction, obs)
        for i in range(len(episode.path) - 1):
            planner.observe(obs)
            goal = planner.current_subgoal
            if goal is None or len(obs.neighbours) < 2:
                break
            rows = [planner.features(obs, n, goal) for n in obs.neighbours]
            ids = [n.place_id for n in obs.neighbours]
            out.append((np.array([[r[k] for k in FEATURES] for r in rows]),
                        ids.index(episode.path[i + 1])))
            planner.commit_move()
            obs = env.step(NavDecision("move", target=episode.path[i + 1]))
    return out


def fit_weights(choices: Sequence[tuple[np.ndarray, int]], l2: float = 1e-4,
                fixed: dict[str, float] | None = None) -> dict[str, float]:
    """Softmax-over-neighbours maximum likelihood; ``fixed`` weights are not fitted."""
    from scipy.optimize import minimize

    fixed = fixed or {}
    free = [k for k in FEATURES if k not in fixed]
    free_idx = [FEATURES.index(k) for k in free]
    fixed_vec = np.array([fixed.get(k, 0.0) for k in FEATURES])

    def nll(w_free: np.ndarray) -> tuple[float, np.ndarray]:
        w = fixed_vec.copy()
        w[free_idx] = w_free
        total, grad = 0.0, np.zeros(len(FEATURES))
        for x, y in choices:
            s = x @ w
            s = s - s.max()
            p = np.exp(s)
            p /= p.sum()
            total -= s[y] - 0.0 - np.log(np.exp(s).sum())
            grad -= x[y] - p @ x
        total /= len(choices)
        grad /= len(choices)
        total += l2 * float(w_free @ w_free)
        return total, grad[free_idx] + 2 * l2 * w_free

    start = np.zeros(len(free))
    res = minimize(nll, start, jac=True, method="L-BFGS-B")
    out = dict(fixed)
    out.update({k: round(float(v), 3) for k, v in zip(free, res.x, strict=True)})
    return out


def choice_accuracy(choices: Sequence[tuple[np.ndarray, int]], weights: dict[str, float]
                    ) -> float:
    w = np.array([weights.get(k, 0.0) for k in FEATURES])
    return float(np.mean([int(np.argmax(x @ w)) == y for x, y in choices]))


SCALARS: dict[str, tuple[float, float]] = {
    "length_base_m": (3.0, 12.0),
    "length_per_word_m": (0.0, 0.15),
    "length_per_motion_m": (0.0, 1.5),
    "subgoal_budget_factor": (0.5, 3.0),
    "reached_closeness": (0.0, 0.3),
    "stop_closeness": (0.0, 0.4),
}


def success_rate(data: R2RData, episodes: Sequence[R2REpisode], config: RulePlannerConfig
                 ) -> float:
    return evaluate(R2RGraphEnv(data), RulePlanner(config), episodes).summary()["success_rate"]


def search_scalars(data: R2RData, episodes: Sequence[R2REpisode], config: RulePlannerConfig,
                   trials: int = 60, seed: int = 0) -> tuple[RulePlannerConfig, float]:
    """Random search (perturbing the best so far) of the thresholds on train success rate."""
    rng = random.Random(seed)
    best, best_sr = config, success_rate(data, episodes, config)
    for _ in range(trials):
        changes = {}
        for name, (lo, hi) in SCALARS.items():
            if rng.random() < 0.4:
                cur = getattr(best, name)
                changes[name] = min(hi, max(lo, cur + rng.gauss(0.0, 0.25 * (hi - lo))))
        if not changes:
            continue
        cand = dataclasses.replace(best, **changes)
        sr = success_rate(data, episodes, cand)
        if sr > best_sr:
            best, best_sr = cand, sr
    return best, best_sr


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--search", type=int, default=1500,
                        help="episodes of the fit part used for the threshold search")
    parser.add_argument("--check", type=int, default=1500,
                        help="held-out train episodes for the final check")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--associations", action="store_true",
                        help="relearn r2r_associations.json (term -> object categories) only")
    args = parser.parse_args(argv)
    if args.split.startswith("val"):
        raise SystemExit("tune on train only; validation splits are for reporting")
    data = R2RData(args.data)
    episodes = data.episodes(args.split)
    if args.associations:
        assoc = learn_r2r_associations(data, episodes)
        ASSOCIATIONS_FILE.write_text(json.dumps(assoc, indent=0, sort_keys=True) + "\n")
        print(f"wrote {len(assoc)} terms to {ASSOCIATIONS_FILE}")
        return 0
    random.Random(args.seed).shuffle(episodes)
    fit_part = episodes[: args.episodes]
    check_part = episodes[args.episodes: args.episodes + args.check]
    config = RulePlannerConfig()
    sr = 0.0
    for _ in range(args.rounds):  # weights and thresholds depend on each other
        weights = fit_weights(collect_choices(data, fit_part, config))
        config = dataclasses.replace(config, weights=weights)
        config, sr = search_scalars(data, fit_part[: args.search], config, args.trials,
                                    args.seed)
    result = {
        "weights": dict(config.weights),
        "scalars": {k: round(getattr(config, k), 3) for k in SCALARS},
        "train_search_sr": sr,
        "train_check_sr": success_rate(data, check_part, config),
        "episodes": {"fit": len(fit_part), "search": min(args.search, len(fit_part)),
                     "check": len(check_part)},
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
