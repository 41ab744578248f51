"""`ifagent parse`: parse one operator correction and print the Correction as one JSON line.

    ifagent parse "a bit more to the left"
    ifagent parse "towards the red bowl" --objects scene.json

With ``--objects`` (the file format of ``ifagent ground``) a target is grounded: ``target_ids``
and, when ambiguous, a ``question``. A missing or invalid objects file exits with code 2.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='the correction, e.g. "a bit higher"')
    parser.add_argument(
        "--objects", metavar="FILE", default=None,
        help='JSON file: {"objects": [PerceivedObject, ...]} or an ObjectList (grounds targets)',
    )


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.cli.ground import ObjectsFileError, load_objects
    from ifagent_ros.core.language.parser import CorrectionParser

    objects = None
    if args.objects is not None:
        try:
            objects = load_objects(args.objects)
        except ObjectsFileError as exc:
            print(f"ifagent parse: {exc}", file=sys.stderr)
            return 2
    print(CorrectionParser().parse(args.text, objects=objects).model_dump_json())
    return 0


__all__ = ["add_arguments", "run"]
