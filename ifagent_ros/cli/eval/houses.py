"""`ifagent eval houses`: navigation planners on R2R-style episodes in simulated houses.

    ifagent eval houses [--episodes 100] [--houses 10] [--planner rule|stop|random|nearest-object]
                        [--seed 0] [--max-steps 30] [--house-dir DIR] [--failures 3] [--json]

Houses: the hand-written ``houses/*.yaml`` first, then seeded generated ones; episodes are
spread over them round-robin (:mod:`ifagent_ros.core.worlds.house_episodes`). The planner runs in
the
house graph environment (:mod:`ifagent_ros.core.vln.house_env`), which speaks the same contract as
the R2R one. Prints NE, SR (< 3 m), OSR, SPL, nDTW, TL and the planning time per step (p50/p99,
the planner's reset counted as one step); with ``--json`` one JSON object of those figures last.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ifagent_ros.core.vln.planners import planner_names

PLANNERS = planner_names(with_models=False)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=100, help="episodes (>= 1)")
    parser.add_argument("--houses", type=int, default=10, help="houses (>= 1)")
    parser.add_argument("--planner", choices=PLANNERS, default="rule",
                        help="rule: the default planner; the others are baselines")
    parser.add_argument("--seed", type=int, default=0, help="house generator and episode seed")
    parser.add_argument("--max-steps", type=int, default=30, help="moves per episode")
    parser.add_argument("--house-dir", type=Path, default=None,
                        help="folder of hand-written houses (default: the repo's houses)")
    parser.add_argument("--failures", type=int, default=3, help="failed episodes to print")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures last")


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.vln.evaluate import evaluate
    from ifagent_ros.core.vln.house_env import HouseEnvConfig, HouseNavEnv
    from ifagent_ros.core.vln.planners import make_planner
    from ifagent_ros.core.worlds.house import REPO_HOUSE_DIR
    from ifagent_ros.core.worlds.house_episodes import build_house_set, generate_episodes

    if args.episodes < 1 or args.houses < 1 or args.max_steps < 1:
        raise SystemExit("eval houses: --episodes, --houses and --max-steps must be >= 1")
    house_dir = args.house_dir if args.house_dir is not None else REPO_HOUSE_DIR
    if not Path(house_dir).is_dir():
        raise SystemExit(f"eval houses: --house-dir {house_dir} is not a folder")
    t0 = time.perf_counter()
    houses = build_house_set(args.houses, seed=args.seed, house_dir=house_dir)
    episodes = generate_episodes(houses, args.episodes, seed=args.seed)
    t_build = time.perf_counter() - t0
    env = HouseNavEnv(houses, HouseEnvConfig(max_steps=args.max_steps))
    planner = make_planner(args.planner, seed=args.seed)
    t0 = time.perf_counter()
    result = evaluate(env, planner, episodes)
    results, s = result.episodes, result.summary(count_reset=True)
    t_eval = time.perf_counter() - t0
    mean_path = sum(e.distance for e in episodes) / len(episodes)
    print(f"eval houses: planner {args.planner}, {len(episodes)} episodes in {len(houses)} houses "
          f"(seed {args.seed}; mean reference path {mean_path:.1f} m; houses + episodes built "
          f"in {t_build:.1f} s, evaluated in {t_eval:.1f} s)")
    print(f"  SR {s['success_rate']:.1f} %   SPL {s['spl']:.1f}   NE {s['ne_m']:.2f} m   "
          f"OSR {s['osr']:.1f} %   nDTW {s['ndtw']:.1f}   TL {s['tl_m']:.2f} m   "
          f"steps {s['steps']:.1f}")
    print(f"  planning time per step: p50 {s['plan_p50_ms']:.3f} ms, "
          f"p99 {s['plan_p99_ms']:.3f} ms")
    by_id = {e.episode_id: e for e in episodes}
    failed = [r for r in results if not r.metrics["success"]]
    for r in failed[: max(0, args.failures)]:
        ep = by_id[r.episode_id]
        print(f"  FAIL {r.episode_id}: {ep.instruction!r} -> NE {r.metrics['ne']:.1f} m after "
              f"{len(r.trajectory) - 1} moves ({r.stop_reason})")
    if args.json:
        figures = {"planner": args.planner, "houses": len(houses), "seed": args.seed,
                   **{k: round(v, 4) if isinstance(v, float) else v for k, v in s.items()},
                   "mean_reference_path_m": round(mean_path, 3)}
        print(json.dumps(figures))
    return 0
