"""`ifagent ground`: ground one referring expression in an object list read from a JSON file.

    ifagent ground --objects scene.json "the second red block from the left" [--flip-left-right]

prints one JSON line ``{"ids": [...], "ambiguous": bool, "question": str|null, "message":
str|null}``. The file holds ``{"objects": [...]}`` in the ``PerceivedObject`` schema; with a
``stamp`` it is read as a whole ``ObjectList`` (what ``/ifagent/objects`` carries). A missing or
invalid file is reported on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("expression", help='the referring expression, e.g. "the red block"')
    parser.add_argument(
        "--objects", required=True, metavar="FILE",
        help='JSON file: {"objects": [PerceivedObject, ...]} or an ObjectList',
    )
    parser.add_argument(
        "--flip-left-right", action="store_true",
        help="left/right as seen by an operator facing the robot",
    )


class ObjectsFileError(ValueError):
    """The objects file is missing or does not hold a valid object list."""


def load_objects(path: str | Path) -> list[Any]:
    """The ``PerceivedObject`` list in ``path`` (validated), or :class:`ObjectsFileError`.

    Objects whose position is not finite are kept: the grounder skips them."""
    from pydantic import ValidationError

    from ifagent_ros.core.schemas import ObjectList, PerceivedObject

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ObjectsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ObjectsFileError(f"{path}: cannot read it ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ObjectsFileError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise ObjectsFileError(f'{path}: expected a JSON object with an "objects" list')
    try:
        if "stamp" in data:
            return list(ObjectList.model_validate(data).objects)
        return [PerceivedObject.model_validate(o) for o in data["objects"]]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ObjectsFileError(f"{path}: invalid object list at {where}: {first['msg']}") from None


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.perception.grounding import Grounder, GroundingConfig

    try:
        objects = load_objects(args.objects)
    except ObjectsFileError as exc:
        print(f"ifagent ground: {exc}", file=sys.stderr)
        return 2
    grounder = Grounder(GroundingConfig(flip_left_right=args.flip_left_right))
    result = grounder.ground(args.expression, objects)
    print(json.dumps(result.to_json_dict()))
    return 0


__all__ = ["ObjectsFileError", "add_arguments", "load_objects", "run"]
