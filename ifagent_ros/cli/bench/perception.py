"""`ifagent bench perception`: RGB-D perception and grounding on random sim scenes against the
simulator's ground truth."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenes", type=int, default=50, help="random scenes (>= 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--track-scenes", type=int, default=10,
                        help="scenes in which objects are pushed for the tracking figures")
    parser.add_argument("--track-frames", type=int, default=30, help="frames per push run")
    parser.add_argument("--expressions", type=int, default=600,
                        help="generated referring expressions for grounding accuracy")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.bench.perception import (
        PerceptionBenchConfig,
        format_table,
        run_perception_bench,
    )

    if args.scenes < 1 or args.track_scenes < 0 or args.track_frames < 1:
        raise SystemExit("bench perception: --scenes and --track-frames must be >= 1, "
                         "--track-scenes >= 0")
    cfg = PerceptionBenchConfig(scenes=args.scenes, seed=args.seed,
                                track_scenes=min(args.track_scenes, args.scenes),
                                track_frames=args.track_frames,
                                grounding_expressions=args.expressions)
    print(f"bench perception: {cfg.scenes} random scenes ({cfg.min_objects}-{cfg.max_objects} "
          f"objects), {cfg.track_scenes} x {cfg.track_frames} pushed frames, "
          f"{cfg.grounding_expressions} expressions ...", flush=True)

    def progress(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            print(f"  {done}/{total} scenes", flush=True)

    result = run_perception_bench(cfg, progress)
    figures = result.figures()
    print(format_table(figures))
    if result.confusion_color:
        wrong = {f"{g}->{o}": n for (g, o), n in result.confusion_color.items() if g != o}
        print(f"colour confusions: {wrong or 'none'}")
        wrong = {f"{g}->{o}": n for (g, o), n in result.confusion_shape.items() if g != o}
        print(f"shape confusions: {wrong or 'none'}")
    if args.json:
        print(json.dumps(figures))
    return 0
