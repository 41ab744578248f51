"""A dispatcher verb with lazily imported verbs (`ifagent eval <what>`, `ifagent campaign
<verb>`): every verb gets a subparser, but only the one named on the command line imports its
module and adds its arguments, so `ifagent eval grounding` never loads torch."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Verb", "add_verbs", "run_verb", "word_after"]


class Verb(NamedTuple):
    name: str
    module: str
    add: str  # name of the module's function adding the verb's arguments
    run: str  # name of the module's function running it: (args) -> exit code
    help: str


def word_after(argv: Sequence[str], word: str) -> str | None:
    """The first positional argument after ``word`` (a dispatcher's chosen verb, read before
    argparse runs so that only that verb's module is imported)."""
    argv = list(argv)
    if word in argv:
        for arg in argv[argv.index(word) + 1:]:
            if not arg.startswith("-"):
                return arg
    return None


def add_verbs(parser: argparse.ArgumentParser, verbs: Sequence[Verb], *, command: str,
              metavar: str, argv: Sequence[str] | None = None) -> None:
    """Subparsers for ``verbs`` under ``command``; the chosen one (read from ``argv``, default
    ``sys.argv``) gets its arguments. A verb module that cannot be imported is a usage error
    naming it."""
    sub = parser.add_subparsers(dest=command, required=True, metavar=metavar)
    chosen = word_after(list(sys.argv[1:] if argv is None else argv), command)
    for verb in verbs:
        verb_parser = sub.add_parser(verb.name, help=verb.help, description=verb.help)
        verb_parser.set_defaults(_verb=verb)
        if verb.name == chosen:
            try:
                module = importlib.import_module(verb.module)
            except ImportError as exc:
                parser.error(f"cannot load '{command} {verb.name}' ({verb.module}): {exc}")
            getattr(module, verb.add)(verb_parser)


def run_verb(args: argparse.Namespace) -> int:
    """Run the verb :func:`add_verbs` parsed."""
    verb: Verb = args._verb
    return int(getattr(importlib.import_module(verb.module), verb.run)(args) or 0)
