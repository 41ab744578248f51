"""`ifagent eval shared-autonomy`: end-effector teleop vs. BC vs. LILA vs. LILAC with a
simulated user, in the headless tabletop.

    ifagent eval shared-autonomy --episodes 20 --workers 2 --json
    ifagent eval shared-autonomy --tasks push,stack --conditions teleop,lilac --train-phrasings
    ifagent eval shared-autonomy --user laggy --tasks easy

``--user`` picks the user model (``core/latent_actions/pilots.USERS``): ``sim`` (the simulated
person, default), ``laggy`` or ``noisy`` (pilots after Reddy et al. 2018 wrapping that person;
``--skill`` / ``--reaction-delay`` set the person inside them too). ``--tasks`` is a task set
(``easy``: the five translation-only families, default; ``paper``: LILAC's five, once
``core/latent_actions/paper_tasks.py`` registers them; ``all``) or family names.

Every condition gets the same scenes, task phrasings and simulated person (seeds depend on the
task and the episode index only). Prints a condition x task table (success rate with its Wilson
95 % interval, median time to success, stick effort, corrections, limit interventions and mode
switches per episode), the model inference and controller step times, and LILAC's speed-up over
teleop with a bootstrap interval over the paired episodes; writes ``results.json``,
``episodes.csv`` and two PNG plots into ``--out``. A condition whose checkpoint is missing is
skipped with the command that makes it; the others run. ``--json`` prints one JSON object last.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, default=20, help="episodes per task and condition")
    parser.add_argument("--tasks", default="easy",
                        help="task set easy (default), paper or all (easy + paper), or "
                             "comma-separated task families")
    parser.add_argument("--user", default="sim",
                        help="user model: sim (default), laggy or noisy (pilots.USERS)")
    parser.add_argument("--conditions", default="teleop,bc,lila,lilac",
                        help="comma-separated: teleop, bc, lila, lilac")
    parser.add_argument("--models", default="models", help="folder with bc.pt, lila.pt, lilac.pt")
    parser.add_argument("--out", default=None,
                        help="output folder (default runs/shared_autonomy_<date-time>)")
    parser.add_argument("--workers", type=int, default=2, help="episode processes (1: in-process)")
    phr = parser.add_mutually_exclusive_group()
    phr.add_argument("--heldout", dest="split", action="store_const", const="heldout",
                     help="held-out instruction and correction phrasings (default)")
    phr.add_argument("--train-phrasings", dest="split", action="store_const", const="train",
                     help="phrasings the models were trained on")
    parser.set_defaults(split="heldout")
    parser.add_argument("--timeout", type=float, default=60.0, help="sim seconds per episode")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the scenes")
    parser.add_argument("--skill", type=float, default=None, help="simulated user's skill 0..1")
    parser.add_argument("--reaction-delay", type=float, default=None,
                        help="simulated user's reaction delay (s)")
    parser.add_argument("--quiet", action="store_true", help="no per-episode lines")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ifagent_ros.bench.shared_autonomy import (
        CONDITIONS,
        USERS,
        make_specs,
        missing_models,
        model_timings,
        resolve_tasks,
        run_episodes,
    )
    from ifagent_ros.bench.shared_autonomy_report import (
        flat_figures,
        format_table,
        summarize,
        write_outputs,
    )
    from ifagent_ros.core.latent_actions.sim_user import SimUserConfig
    from ifagent_ros.core.registry import unknown_message

    try:
        tasks = resolve_tasks(args.tasks)
    except ValueError as exc:
        print(f"eval shared-autonomy: {exc}", file=sys.stderr)
        return 2
    bad = [c for c in _csv(args.conditions) if c not in CONDITIONS]
    if bad or args.episodes < 1:
        print(f"eval shared-autonomy: unknown condition {bad} or no episodes; conditions: "
              f"{', '.join(CONDITIONS)}", file=sys.stderr)
        return 2
    if args.user not in USERS:
        print(f"eval shared-autonomy: {unknown_message(USERS, args.user, 'user model')}",
              file=sys.stderr)
        return 2
    wanted = [CONDITIONS[c] for c in _csv(args.conditions)]
    skipped = missing_models(wanted, args.models)
    for name, why in skipped.items():
        print(f"eval shared-autonomy: skipping {name}: {why}", file=sys.stderr)
    conditions = [c for c in wanted if c.name not in skipped]
    user = SimUserConfig()
    try:
        if args.skill is not None:
            user = replace(user, skill=args.skill)
        if args.reaction_delay is not None:
            user = replace(user, reaction_delay_s=args.reaction_delay)
    except ValueError as exc:
        print(f"eval shared-autonomy: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out or f"runs/shared_autonomy_{datetime.now():%Y%m%d_%H%M%S}")
    specs = make_specs(conditions, tasks, args.episodes, args.models, split=args.split,
                       base_seed=args.seed, timeout_s=args.timeout, user=user,
                       user_model=args.user)
    print(f"eval shared-autonomy: {len(conditions)} conditions x {len(tasks)} tasks x "
          f"{args.episodes} episodes = {len(specs)} episodes, user {args.user}, "
          f"{args.split} phrasings, "
          f"{args.workers} workers -> {out_dir}", flush=True)

    def progress(r, done: int, total: int) -> None:
        if not args.quiet:
            t = f"{r.time_to_success_s:.1f} s" if r.success else r.end
            print(f"  [{done}/{total}] {r.condition:<6} {r.task:<16} #{r.index:<2} {t:>8}  "
                  f"corrections {r.corrections}  ({r.wall_s:.1f} s wall)", flush=True)

    t0 = time.monotonic()
    try:
        timing = model_timings(conditions, args.models)
    except Exception as exc:  # noqa: BLE001 - a model that does not load: say which and stop
        print(f"eval shared-autonomy: {exc}", file=sys.stderr)
        return 2
    results = run_episodes(specs, workers=args.workers, progress=progress) if specs else []
    summary = summarize(results, skipped, timing)
    meta = {"episodes_per_cell": args.episodes, "tasks": tasks, "split": args.split,
            "conditions": [c.name for c in conditions], "models": str(args.models),
            "seed": args.seed, "timeout_s": args.timeout, "workers": args.workers,
            "user_model": args.user,
            "user": {k: getattr(user, k) for k in user.__dataclass_fields__},
            "wall_s": round(time.monotonic() - t0, 1)}
    paths = write_outputs(out_dir, results, summary, meta)
    print(format_table(summary))
    print(f"wrote {', '.join(str(p) for p in paths.values())} ({meta['wall_s']} s)")
    if args.json:
        figs = flat_figures(summary)
        figs["user_model"] = args.user
        figs["out"] = str(out_dir)
        print(json.dumps(figs))
    return 0
