"""Real-robot campaigns (``ifagent campaign run SCENARIO --real PARAMS``).

The same scenario runs on the robot's graph (``PARAMS``, e.g. ``config/franka.yaml``) one
episode at a time, with a person in the loop: before each episode they reset the scene (or
skip / quit), and when it ends they say whether it succeeded, failed or does not count
(invalid: e.g. the scene was knocked over by hand). Their verdict goes to the episode process as
``verdict.json`` and is recorded in the bag as a ``verdict`` event.

Safety: the runner refuses a params file that does not keep the executor's deadman and
e-stop armed. A campaign is many unattended-looking repetitions; the deadman keeps a hand on
the robot in every one of them.

Operator I/O sits behind :class:`Operator` so tests script it (:class:`ScriptedOperator`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, Protocol

from ifagent_ros.core.campaign.types import EpisodeSpec, LinkImpairment
from ifagent_ros.params_file import ParamsFileError, load_params_file

__all__ = [
    "ConsoleOperator",
    "Operator",
    "RealParamsError",
    "ScriptedOperator",
    "check_real_params",
    "real_specs",
]

Decision = Literal["run", "skip", "quit"]
VERDICTS: dict[str, dict[str, Any]] = {
    "s": {"success": True, "valid": True},
    "f": {"success": False, "valid": True},
    "i": {"success": False, "valid": False},
}
DECISIONS: dict[str, Decision] = {"": "run", "s": "skip", "q": "quit"}


class RealParamsError(ValueError):
    """The real-robot params file is unusable or does not keep the safety stops armed."""


def check_real_params(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The params file's sections, after checking that executor_node keeps ``require_deadman:
    true`` and an e-stop topic (written in the file: a node default is not good enough)."""
    where = os.fspath(path)
    try:
        sections = load_params_file(path)
    except ParamsFileError as exc:
        raise RealParamsError(str(exc)) from None
    executor = sections.get("executor_node")
    if executor is None:
        raise RealParamsError(
            f"{where}: no executor_node section; a real-robot campaign needs the executor "
            f"(deadman, e-stop, limits) between the graph and the robot")
    problems = []
    if executor.get("require_deadman") is not True:
        problems.append(f"require_deadman is {executor.get('require_deadman', 'not set')!r} "
                        f"(need true)")
    estop = executor.get("topics.estop")
    if not isinstance(estop, str) or not estop.strip():
        problems.append(f"topics.estop is {estop if estop is not None else 'not set'!r} "
                        f"(need a topic, e.g. /ifagent/estop)")
    button = executor.get("pad.deadman", 0)
    if isinstance(button, int) and button < 0:
        problems.append(f"pad.deadman is {button} (need a button index >= 0)")
    if "deadman_button" in executor:  # the executor refuses the old name too; say it first
        problems.append("deadman_button is now pad.deadman")
    if problems:
        raise RealParamsError(
            f"{where}: refusing a real-robot campaign: executor_node must keep the deadman and "
            f"the e-stop armed: " + "; ".join(problems))
    return sections


# Nodes the episode process adds itself (graph_plan.py); a params file's section for one of
# them is translated (the relay's routes become spec links) or left out.
EPISODE_NODES = ("fault_relay_node", "recorder_node", "campaign_driver_node")
_LINK_FIELDS = ("latency_s", "jitter_s", "drop_rate", "word_error_rate")


def _relay_links(sections: dict[str, dict[str, Any]], where: str
                 ) -> tuple[dict[str, LinkImpairment], dict[str, dict[str, Any]]]:
    """A params file's own fault_relay_node (a robot's link, e.g. the stand-in's latency) as
    spec links, plus overrides that point its producers back at the standard names: the
    episode then builds the same relay itself (it re-routes producers to RAW_PREFIX names)."""
    relay = sections.get("fault_relay_node")
    if not relay:
        return {}, {}
    inputs, outputs = relay.get("routes.inputs", []), relay.get("routes.outputs", [])
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(
            outputs):
        raise RealParamsError(f"{where}: fault_relay_node routes.inputs and routes.outputs must "
                              f"be lists of equal length")
    links: dict[str, LinkImpairment] = {}
    restore: dict[str, dict[str, Any]] = {}
    for i, (raw, topic) in enumerate(zip(inputs, outputs)):
        values = {}
        for name in _LINK_FIELDS:
            seq = relay.get(f"routes.{name}", [])
            if seq and (not isinstance(seq, list) or len(seq) != len(inputs)):
                raise RealParamsError(f"{where}: fault_relay_node routes.{name} needs one value "
                                      f"per route ({len(inputs)})")
            values[name] = float(seq[i]) if seq else 0.0
        links[str(topic)] = LinkImpairment(**values)
        for node, params in sections.items():
            if node not in EPISODE_NODES:
                for key, value in params.items():
                    if value == raw:
                        restore.setdefault(node, {})[key] = topic
    return links, restore


def real_specs(specs: Iterable[EpisodeSpec], params_file: str | os.PathLike[str],
               sections: dict[str, dict[str, Any]]) -> list[EpisodeSpec]:
    """Specs of ``expand(real=True)`` moved onto the robot's graph: every node of its params
    file, overrides only for nodes it has (the rest were sim-only: sim_node, sim_user_node).

    ``nodes`` stays [] (= every section) unless the file has sections of nodes the episode
    adds itself (a relay, a recorder): then it lists the others, and a relay's routes become
    the spec's links."""
    path = str(Path(params_file).resolve())
    links, restore = _relay_links(sections, path)
    graph = [n for n in sections if n not in EPISODE_NODES]
    nodes = graph if len(graph) != len(sections) else []
    out = []
    for spec in specs:
        overrides = {n: dict(p) for n, p in restore.items()}
        for node, params in spec.overrides.items():
            if node in graph:
                overrides.setdefault(node, {}).update(params)
        out.append(spec.model_copy(update={
            "params_file": path, "nodes": nodes, "real": True, "overrides": overrides,
            "links": {**spec.links, **links}}))
    return out


class Operator(Protocol):
    def before_episode(self, spec: EpisodeSpec) -> Decision: ...
    def verdict(self, spec: EpisodeSpec) -> dict[str, Any]: ...
    def say(self, text: str) -> None: ...


def _reset_prompt(spec: EpisodeSpec) -> str:
    return (f"Reset the scene for {spec.episode_id} ({spec.condition}), then press Enter  "
            f"[s]kip  [q]uit: ")


VERDICT_PROMPT = "When the episode ends type s (success), f (failure) or i (invalid): "


class ConsoleOperator:
    """A person at the terminal. ``input``/``print`` are injectable (tests, other front ends)."""

    def __init__(self, input: Callable[[str], str] = input,  # mirrors builtins
                 print: Callable[[str], None] = print) -> None:
        self._input, self._print = input, print

    def say(self, text: str) -> None:
        self._print(text)

    def _ask(self, prompt: str, choices: dict[str, Any]) -> Any:
        while True:
            answer = self._input(prompt).strip().lower()
            if answer in choices:
                return choices[answer]
            self._print(f"  please answer one of: {', '.join(repr(c) for c in choices)}")

    def before_episode(self, spec: EpisodeSpec) -> Decision:
        return self._ask(_reset_prompt(spec), DECISIONS)

    def verdict(self, spec: EpisodeSpec) -> dict[str, Any]:
        given = dict(self._ask(VERDICT_PROMPT, VERDICTS))
        note = self._input("  note (optional, Enter for none): ").strip()
        return {**given, "note": note}


class ScriptedOperator:
    """Answers from a list, in order (the same letters a person types: "" = Enter, s, q for the
    reset prompt; s, f, i for the verdict). Records every prompt in :attr:`prompts`."""

    def __init__(self, answers: Iterable[str]) -> None:
        self._answers = list(answers)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def _next(self, prompt: str, choices: dict[str, Any]) -> Any:
        self.prompts.append(prompt)
        if not self._answers:
            raise RuntimeError(f"ScriptedOperator: no answer left for {prompt!r}")
        answer = self._answers.pop(0)
        if answer not in choices:
            raise ValueError(f"ScriptedOperator: {answer!r} does not answer {prompt!r}")
        return choices[answer]

    def before_episode(self, spec: EpisodeSpec) -> Decision:
        return self._next(_reset_prompt(spec), DECISIONS)

    def verdict(self, spec: EpisodeSpec) -> dict[str, Any]:
        return {**self._next(VERDICT_PROMPT, VERDICTS), "note": "scripted"}
