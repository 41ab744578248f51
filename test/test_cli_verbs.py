"""The `ifagent` verb table: every verb is a module with add_arguments/run, one line in
cli/verbs.py, imported only when chosen."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ifagent_ros.cli import main, verbs
from ifagent_ros.cli.command import build_parser, chosen_words
from ifagent_ros.cli.verbs import VERBS, Group, Verb

REPO = Path(__file__).resolve().parents[1]


def _all_verbs() -> list[tuple[str, Verb]]:
    out = []
    for entry in VERBS:
        if isinstance(entry, Group):
            out += [(f"{entry.name} {v.name}", v) for v in entry.verbs]
        else:
            out.append((entry.name, entry))
    return out


def test_the_cli_is_one_package() -> None:
    assert not list((REPO / "ifagent_ros").glob("cli_*.py"))
    assert not (REPO / "ifagent_ros" / "cli.py").exists()
    for sub in ("eval", "bench", "campaign"):
        assert (REPO / "ifagent_ros" / "cli" / sub / "__init__.py").is_file()


def test_every_verb_module_has_add_arguments_and_run() -> None:
    names = [name for name, _ in _all_verbs()]
    assert len(names) == len(set(names))
    for name, verb in _all_verbs():
        module = importlib.import_module(verb.module)
        assert callable(module.add_arguments) and callable(module.run), name
        module.add_arguments(argparse.ArgumentParser(prog=f"ifagent {name}"))


@pytest.mark.parametrize("argv, words", [
    (["eval", "r2r", "--limit", "3"], ["eval", "r2r"]),
    (["--log-level", "DEBUG", "campaign", "gap", "a", "b"], ["campaign", "gap"]),
    (["up", "config/sim.yaml"], ["up"]),
    (["--help"], []),
    (["bench"], ["bench"]),
    (["frobnicate", "x"], ["frobnicate"]),
])
def test_chosen_words(argv: list[str], words: list[str]) -> None:
    assert chosen_words(argv) == words


def test_help_imports_no_verb_module() -> None:
    code = ("import sys\nfrom ifagent_ros.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nimport json\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ifagent_ros') "
            "or m in ('torch', 'rclpy', 'pybullet'))))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == ["ifagent_ros", "ifagent_ros.cli", "ifagent_ros.cli.command",
                      "ifagent_ros.cli.verbs"]
    for name, _ in _all_verbs():
        assert name.split()[0] in result.stdout


def test_a_group_lists_its_verbs_and_needs_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    out = capsys.readouterr().out
    for verb in ("grounding", "shared-autonomy", "r2r", "houses"):
        assert verb in out
    with pytest.raises(SystemExit) as info:
        main(["bench"])
    assert info.value.code == 2 and "WHAT" in capsys.readouterr().err


def test_a_new_verb_is_one_module_and_one_line(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    module = types.ModuleType("hello_verb")

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--name", default="world")

    def run(args: argparse.Namespace) -> int:
        print(f"hello {args.name}")
        return 3

    module.add_arguments = add_arguments  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hello_verb", module)
    monkeypatch.setattr(verbs, "VERBS", (*VERBS, Verb("hello", "hello_verb", "say hello")))
    monkeypatch.setattr("ifagent_ros.cli.command.VERBS", verbs.VERBS)
    assert main(["hello", "--name", "robot"]) == 3
    assert capsys.readouterr().out == "hello robot\n"


def test_a_verb_that_cannot_load_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    broken = Group("broken", "a group", (Verb("verb", "no_such_module_here", "missing"),))
    monkeypatch.setattr("ifagent_ros.cli.command.VERBS", (*VERBS, broken))
    with pytest.raises(SystemExit) as info:
        build_parser(["broken", "verb"])
    assert info.value.code == 2
    assert "cannot load 'broken verb' (no_such_module_here)" in capsys.readouterr().err
