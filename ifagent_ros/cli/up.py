"""`ifagent up PARAMS_FILE`: run the node graph a params file describes (see bringup.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ifagent_ros.bringup import (
    EXECUTOR_MODES,
    NODE_REGISTRY,
    BringupError,
    ParamsFileError,
    run_graph,
)


def resolve_params_path(path: str) -> Path:
    """`path` as given, else relative to the package source tree, else to its share dir."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    candidates = [Path(__file__).resolve().parents[2] / given]
    try:
        from ament_index_python.packages import get_package_share_directory

        candidates.append(Path(get_package_share_directory("ifagent_ros")) / given)
    except Exception:  # noqa: BLE001 - no colcon install / ament index
        pass
    return next((c for c in candidates if c.exists()), given)


def _node_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected node names separated by commas")
    return names


def _domain_id(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 232:
        raise argparse.ArgumentTypeError("a ROS domain id is between 0 and 232")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _node_module(text: str) -> tuple[str, str]:
    name, sep, module = text.partition("=")
    if not sep or not name or not module:
        raise argparse.ArgumentTypeError("expected NAME=python.module")
    return name, module


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "params_file",
        metavar="PARAMS_FILE",
        help="ROS 2 params file, e.g. config/sim.yaml; each section whose name "
        f"is a known node starts that node ({', '.join(NODE_REGISTRY)})",
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="one process per node (python -m <module> --ros-args ...) instead "
        "of all nodes in this process",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTOR_MODES,
        default="events",
        help="in one process: a thread per node with rclpy's EventsExecutor "
        "(events, default) or a SingleThreadedExecutor (per_node), or one "
        "MultiThreadedExecutor for all nodes (multi)",
    )
    parser.add_argument("--nodes", type=_node_list, metavar="A,B", help="start only these nodes")
    parser.add_argument(
        "--domain-id",
        type=_domain_id,
        metavar="N",
        help="ROS domain id (default: $ROS_DOMAIN_ID, else 0)",
    )
    parser.add_argument(
        "--duration",
        type=_positive,
        metavar="S",
        help="stop after S seconds (default: run until Ctrl-C / SIGTERM)",
    )
    parser.add_argument(
        "--grace",
        type=_positive,
        default=5.0,
        metavar="S",
        help="seconds to wait for nodes to stop before escalating (default 5)",
    )
    parser.add_argument(
        "--node-module",
        type=_node_module,
        action="append",
        default=[],
        metavar="NAME=MODULE",
        help="run section NAME with python module MODULE (NODE_CLASS + main); "
        "adds to or replaces the built-in node table",
    )


def run(args: argparse.Namespace) -> int:
    registry = {**NODE_REGISTRY, **dict(args.node_module)}
    try:
        return run_graph(
            resolve_params_path(args.params_file),
            nodes=args.nodes,
            domain_id=args.domain_id,
            processes=args.processes,
            duration=args.duration,
            registry=registry,
            executor=args.executor,
            grace_s=args.grace,
        )
    except (ParamsFileError, BringupError) as exc:
        print(f"ifagent up: error: {exc}", file=sys.stderr)
        return 2
