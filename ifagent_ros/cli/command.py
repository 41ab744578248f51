"""The `ifagent` command: builds the parser from the verb table (:mod:`ifagent_ros.cli.verbs`)
and runs the chosen verb.

Every verb and group gets a subparser (so ``--help`` lists them all), but only the verb named on
the command line imports its module and adds its arguments.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ifagent_ros.cli.verbs import VERBS, Group, Verb

LOG_FORMAT = "[ifagent] %(levelname)s %(name)s: %(message)s"
_TOP_OPTIONS_WITH_VALUE = ("--log-level",)


def chosen_words(argv: Sequence[str]) -> list[str]:
    """The verb path named in ``argv`` (``["eval", "r2r"]``), read before argparse runs: the
    first positional word (skipping top-level options), then, for a group, the next one."""
    words: list[str] = []
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif not words and arg in _TOP_OPTIONS_WITH_VALUE:
            skip_next = True
        elif not arg.startswith("-"):
            words.append(arg)
            group = _find(VERBS, words)
            if not isinstance(group, Group):
                break
    return words


def _find(table: Sequence[Verb | Group], words: Sequence[str]) -> Verb | Group | None:
    entry: Verb | Group | None = None
    for word in words:
        entry = next((e for e in table if e.name == word), None)
        if not isinstance(entry, Group):
            return entry
        table = entry.verbs
    return entry


def _add_verbs(parser: argparse.ArgumentParser, table: Sequence[Verb | Group], *, dest: str,
               metavar: str, chosen: Sequence[str], path: tuple[str, ...] = ()) -> None:
    sub = parser.add_subparsers(dest=dest, metavar=metavar, required=True)
    for entry in table:
        entry_parser = sub.add_parser(entry.name, help=entry.help, description=entry.help)
        if not chosen or entry.name != chosen[0]:
            continue
        if isinstance(entry, Group):
            _add_verbs(entry_parser, entry.verbs, dest=entry.name, metavar=entry.metavar,
                       chosen=chosen[1:], path=(*path, entry.name))
            continue
        entry_parser.set_defaults(_verb=entry)
        try:
            module = importlib.import_module(entry.module)
        except ImportError as exc:
            words = " ".join((*path, entry.name))
            parser.error(f"cannot load {words!r} ({entry.module}): {exc}")
        module.add_arguments(entry_parser)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; only the verb named in ``argv`` gets its arguments (imports its module)."""
    parser = argparse.ArgumentParser(
        prog="ifagent",
        description="ifagent_ros: instruction-following robot agent on ROS 2, with or without "
        "a ROS install.",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level of the ifagent messages (default: INFO)",
    )
    _add_verbs(parser, VERBS, dest="command", metavar="COMMAND", chosen=chosen_words(argv))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    verb: Verb = args._verb
    module = importlib.import_module(verb.module)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
