"""`ifagent eval r2r`: vision-and-language navigation on R2R navigation graphs.

    ifagent eval r2r --split val_seen [--data DIR]
                     [--planner rule|stop|random|nearest-object|llm|all]
                     [--llm-url URL --llm-model M | --llm-path DIR] [--limit N] [--json]

Prints NE, SR, OSR, SPL, nDTW, sDTW, TL per planner and the planning time per step; with
``--json`` one JSON object last (the first planner's figures at the top level, every planner
under ``by_planner``). ``--data`` takes any folder in the R2R format (R2R_<split>.json +
scans/<scan>.json); the default is ``$IFAGENT_R2R_DATA`` or ``../shared/data/r2r`` beside the
repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ifagent_ros.core.vln.planners import PLANNERS, planner_names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", default="val_seen", help="R2R_<split>.json (default val_seen)")
    parser.add_argument("--data", type=Path, default=None,
                        help="R2R-format folder (default $IFAGENT_R2R_DATA or "
                             "../shared/data/r2r)")
    parser.add_argument("--planner", default="rule", choices=[*PLANNERS, "all"],
                        help="rule (default, no model), the baselines stop / random / "
                             "nearest-object, llm, or all but llm")
    parser.add_argument("--llm-url", default=None,
                        help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1 "
                             "(API key from $IFAGENT_LLM_API_KEY or $OPENAI_API_KEY)")
    parser.add_argument("--llm-model", default=None, help="model name at --llm-url")
    parser.add_argument("--llm-path", default=None,
                        help="local transformers causal LM folder (instead of --llm-url)")
    parser.add_argument("--limit", type=int, default=None, help="first N episodes only")
    parser.add_argument("--max-steps", type=int, default=15, help="moves per episode")
    parser.add_argument("--seed", type=int, default=0, help="random-walk seed")
    parser.add_argument("--episodes-out", type=Path, default=None,
                        help="write one JSON line per episode (trajectory, metrics, reason)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of the figures last")


def _planner(name: str, args: argparse.Namespace):
    from ifagent_ros.core.vln.planners import make_planner

    if name == "llm" and not args.llm_url and not args.llm_path:
        raise SystemExit("--planner llm needs --llm-url URL --llm-model M or --llm-path DIR")
    if name == "llm" and args.llm_url and not args.llm_model:
        raise SystemExit("--llm-url needs --llm-model")
    return make_planner(name, seed=args.seed, max_moves=args.max_steps,
                        llm_url=args.llm_url or "", llm_model=args.llm_model or "",
                        llm_path=args.llm_path or "")


def _row(name: str, s: dict) -> str:
    return (f"{name:<15} {s['episodes']:>5d} {s['ne_m']:6.2f} {s['success_rate']:6.1f} "
            f"{s['osr']:6.1f} {s['spl']:6.1f} {s['ndtw']:6.1f} {s['sdtw']:6.1f} "
            f"{s['tl_m']:6.2f} {s.get('plan_p50_ms', 0.0):8.3f} {s.get('plan_p99_ms', 0.0):8.3f}")


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.vln.evaluate import evaluate
    from ifagent_ros.core.vln.r2r_env import (
        R2RData,
        R2RDataError,
        R2REnvConfig,
        R2RGraphEnv,
        default_data_dir,
    )

    if args.limit is not None and args.limit < 1:
        raise SystemExit("--limit must be >= 1")
    if args.max_steps < 1:
        raise SystemExit("--max-steps must be >= 1")
    root = args.data or default_data_dir()
    try:
        data = R2RData(root)
        episodes = data.episodes(args.split, args.limit)
        for scan in sorted({e.scan for e in episodes}):
            data.scan(scan)
    except R2RDataError as exc:
        print(f"eval r2r: {exc}", file=sys.stderr)
        return 2
    if not episodes:
        print(f"eval r2r: no episodes in {args.split}", file=sys.stderr)
        return 2
    names = list(planner_names(with_models=False)) if args.planner == "all" else [args.planner]
    env = R2RGraphEnv(data, R2REnvConfig(max_steps=args.max_steps))
    print(f"eval r2r: {len(episodes)} episodes of {args.split} from {data.root}", flush=True)
    print(f"{'planner':<15} {'eps':>5} {'NE':>6} {'SR':>6} {'OSR':>6} {'SPL':>6} {'nDTW':>6} "
          f"{'sDTW':>6} {'TL':>6} {'p50 ms':>8} {'p99 ms':>8}")
    summaries: dict[str, dict] = {}
    out = open(args.episodes_out, "w") if args.episodes_out else None
    try:
        for name in names:
            planner = _planner(name, args)
            t0 = time.perf_counter()
            result = evaluate(env, planner, episodes)
            summary = result.summary()
            summary["wall_s"] = time.perf_counter() - t0
            if hasattr(planner, "fallbacks"):
                summary["llm_fallbacks"] = planner.fallbacks
            summaries[name] = summary
            print(_row(name, summary), flush=True)
            if out is not None:
                for e in result.episodes:
                    out.write(json.dumps({"planner": name, "instr_id": e.episode_id,
                                          "trajectory": e.trajectory, "reason": e.stop_reason,
                                          **e.metrics}) + "\n")
    finally:
        if out is not None:
            out.close()
    print("NE/TL in metres; SR, OSR, SPL, nDTW, sDTW in percent; SR = NE < 3 m on the graph.")
    if args.json:
        first = summaries[names[0]]
        print(json.dumps({"split": args.split, "planner": names[0], **first,
                          "by_planner": summaries}))
    return 0
