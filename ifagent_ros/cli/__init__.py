"""The `ifagent` command (console script ``ifagent = ifagent_ros.cli.command``).

``verbs.py`` is the one table of verbs, ``command.py`` builds the parser from it lazily. The verb
modules hold argument parsing and printing only; the work is in ``ifagent_ros.core`` (and
``bench``, ``bringup``, ``sim``). Groups of verbs live in subpackages: ``eval/``, ``bench/``,
``campaign/``.
"""

from ifagent_ros.cli.command import main

__all__ = ["main"]
