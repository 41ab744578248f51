"""`ifagent collect`: scripted demonstrations of the tabletop tasks -> a shared-autonomy dataset.

    ifagent collect --out data/shared_autonomy                       # 45 demos/task, 20/primitive
    ifagent collect --out /tmp/ds --demos-per-task 2 --tasks push stack --no-mcap --json

The episode loops are :mod:`ifagent_ros.core.recording.demonstrations` (the scripted expert in
:class:`~ifagent_ros.sim.arm_env.TabletopArmEnv`, kept only on physical success; correction
segments per primitive). Demos go through ``DatasetWriter`` (``index.json`` + ``demos/*.npz``);
the first kept demo of each task also goes to an MCAP bag ``mcap/<task>/`` for inspection.
Exit code 2 for bad arguments or an output folder that already holds a dataset (``--force``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ifagent_ros.core.latent_actions.tasks import PRIMITIVES, TASK_FAMILIES

    parser.add_argument("--out", default="data/shared_autonomy", help="dataset folder")
    parser.add_argument("--demos-per-task", type=int, default=45)
    parser.add_argument("--corrections-per-primitive", type=int, default=20)
    parser.add_argument("--tasks", nargs="+", choices=list(TASK_FAMILIES),
                        default=list(TASK_FAMILIES), help="task families (default: all)")
    parser.add_argument("--primitives", nargs="+", choices=list(PRIMITIVES),
                        default=list(PRIMITIVES), help="correction primitives (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of layouts and params")
    parser.add_argument("--heldout-phrasing-fraction", type=float, default=0.15,
                        help="share of demos recorded with a held-out phrasing")
    parser.add_argument("--xy-jitter", type=float, default=None,
                        help="object placement jitter in metres (default: the scene's, 0.05)")
    parser.add_argument("--max-steps", type=int, default=400, help="per task episode (10 Hz)")
    parser.add_argument("--mcap", action=argparse.BooleanOptionalAction, default=True,
                        help="write one MCAP bag per task under <out>/mcap/")
    parser.add_argument("--force", action="store_true",
                        help="replace the index, demos/ and mcap/ of an existing dataset")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")


def _prepare_out(out: Path, force: bool) -> str | None:
    from ifagent_ros.core.latent_actions.dataset import DEMO_DIR, INDEX_FILE

    existing = [out / n for n in (INDEX_FILE, DEMO_DIR, "mcap") if (out / n).exists()]
    if existing and not force:
        return (f"{out} already holds a dataset ({', '.join(p.name for p in existing)}); "
                "pass --force to replace it or choose another --out")
    for path in existing:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return None


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.latent_actions.dataset import DatasetMeta, DatasetWriter
    from ifagent_ros.core.latent_actions.state import DEFAULT_OBJECT_IDS, STATE_DIM
    from ifagent_ros.core.latent_actions.tasks import dataset_phrasings
    from ifagent_ros.core.recording.demonstrations import (
        RATE_HZ,
        CollectConfig,
        collect_correction_segments,
        collect_task_demos,
        env_action_scale,
    )
    from ifagent_ros.sim.arm_env import ArmEnvConfig, TabletopArmEnv
    from ifagent_ros.sim.tabletop import ARM_JOINT_NAMES, FINGER_JOINT_NAMES

    if args.demos_per_task < 0 or args.corrections_per_primitive < 0 or args.max_steps < 1 \
            or not 0.0 <= args.heldout_phrasing_fraction <= 1.0 \
            or (args.xy_jitter is not None and not 0.0 <= args.xy_jitter <= 0.15):
        print("ifagent collect: counts must be >= 0, --max-steps >= 1, "
              "--heldout-phrasing-fraction in [0, 1] and --xy-jitter in [0, 0.15] m",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    problem = _prepare_out(out, args.force)
    if problem:
        print(f"ifagent collect: {problem}", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    meta = DatasetMeta(object_ids=DEFAULT_OBJECT_IDS, state_dim=STATE_DIM,
                       action_rate_hz=RATE_HZ, action_scale=env_action_scale(),
                       scene="tabletop_default" + ("" if args.xy_jitter is None
                                                   else f" (xy jitter {args.xy_jitter} m)"),
                       phrasings=dataset_phrasings())
    config = CollectConfig(demos_per_task=args.demos_per_task,
                           corrections_per_primitive=args.corrections_per_primitive,
                           seed=args.seed, heldout_phrasing_fraction=args.heldout_phrasing_fraction,
                           max_steps=args.max_steps)
    figures: dict[str, Any] = {"out": str(out), "tasks": {}, "corrections": {}}
    env_config = ArmEnvConfig(xy_jitter=args.xy_jitter)
    with TabletopArmEnv(env_config) as env, DatasetWriter(out, meta) as writer:
        for fi, family in enumerate(args.tasks):
            row = collect_task_demos(env, writer, family, fi, config,
                                     bag_dir=out / "mcap" / family if args.mcap else None,
                                     joint_names=[*ARM_JOINT_NAMES, *FINGER_JOINT_NAMES])
            figures["tasks"][family] = row
            print(f"{family:17s} expert success {row['kept']}/{row['tried']} "
                  f"({100 * row['success_rate']:.0f} %)"
                  f", kept {row['kept']}, {row['steps']} steps, {row['wall_s']:.0f} s", flush=True)
        for pi, primitive in enumerate(args.primitives):
            figures["corrections"][primitive] = collect_correction_segments(
                env, writer, primitive, pi, args.tasks, config)
        index = writer.close()
        sim_seconds = env.simulated_s  # everything simulated, correction lead-ins included
    wall = time.perf_counter() - t_start
    demos = sum(r["kept"] for r in figures["tasks"].values()) + sum(
        r["kept"] for r in figures["corrections"].values())
    corr = figures["corrections"]
    print(f"corrections: {sum(r['kept'] for r in corr.values())} segments kept of "
          f"{sum(r['tried'] for r in corr.values())} tried over {len(corr)} primitives")
    figures.update(index=str(index), demos=demos, wall_s=round(wall, 1),
                   sim_s=round(sim_seconds, 1), real_time_factor=round(sim_seconds / wall, 2))
    print(f"wrote {demos} demos to {index} in {wall:.0f} s "
          f"({sim_seconds:.0f} s simulated, {sim_seconds / wall:.1f}x real time)")
    if args.json:
        print(json.dumps(figures))
    return 0
