"""`ifagent eval grounding`: grounding accuracy on generated scenes and referring expressions.

    ifagent eval grounding [--n 600] [--seed 0] [--flip-left-right] [--failures 5] [--json]

prints a per-family table (and, with ``--json``, one JSON object last with ``grounding_accuracy``,
``grounding_accuracy_<family>`` and ``n_expressions``). Exit code 1 when the overall accuracy is
below ``--min-accuracy``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=600, help="generated expressions (>= 1)")
    parser.add_argument("--seed", type=int, default=0, help="scene and expression seed")
    parser.add_argument(
        "--flip-left-right", action="store_true",
        help="left/right as seen by an operator facing the robot",
    )
    parser.add_argument("--failures", type=int, default=5, help="failure examples to print")
    parser.add_argument(
        "--min-accuracy", type=float, default=0.0, help="exit 1 below this overall accuracy"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures last"
    )


def format_table(report: dict[str, Any]) -> str:
    lines = [f"{'family':<15}{'correct':>9}{'total':>7}{'accuracy':>10}"]
    for family, row in report["families"].items():
        lines.append(
            f"{family:<15}{row['correct']:>9}{row['total']:>7}{row['accuracy']:>10.3f}"
        )
    total = sum(row["correct"] for row in report["families"].values())
    lines.append(f"{'overall':<15}{total:>9}{report['n_expressions']:>7}"
                 f"{report['accuracy']:>10.3f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.perception.grounding import GroundingConfig
    from ifagent_ros.core.perception.grounding_eval import evaluate

    if args.n < 1:
        raise SystemExit("eval grounding: --n must be >= 1")
    config = GroundingConfig(flip_left_right=args.flip_left_right)
    report = evaluate(n=args.n, seed=args.seed, config=config)
    print(f"eval grounding: {report['n_expressions']} expressions, seed {args.seed}"
          f"{', left/right flipped' if args.flip_left_right else ''}")
    print(format_table(report))
    for failure in report["failures"][: max(0, args.failures)]:
        print(f"  FAIL {failure['family']}: {' / '.join(failure['dialogue'])!r} expected "
              f"{failure['expected']} got {failure['got']}")
    if args.json:
        figures: dict[str, Any] = {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in report.items()
            if key.startswith("grounding_accuracy")
        }
        figures.update(n_expressions=report["n_expressions"], seed=args.seed,
                       flip_left_right=args.flip_left_right)
        print(json.dumps(figures))
    return 0 if report["accuracy"] >= args.min_accuracy else 1
