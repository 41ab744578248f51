"""Checks of a scenario beyond its schema, and the messages they give: every problem with the
file's line (unknown keys with the allowed ones and the closest, ranges, conditions that name no
model, missing files with every path tried, faults a task kind cannot have, seeds reused across
conditions). What a task kind allows comes from its ``core/campaign/tasks`` module. Used by
:func:`~ifagent_ros.core.campaign.scenario.load_scenario`. ROS-free.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ifagent_ros.core.campaign import randomization as rnd
from ifagent_ros.core.campaign.scenario import PACKAGE_ROOT, Scenario
from ifagent_ros.core.campaign.tasks import CheckContext, get_task, kinds_with
from ifagent_ros.core.campaign.types import SIM_NODES

__all__ = ["Lines", "check_scenario", "duplicate_keys", "pydantic_message", "where_name"]

class Lines:
    """Line numbers (1-based) of the YAML nodes, by pydantic-style location."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def __call__(self, loc: tuple[Any, ...]) -> int:
        node, line = self.root, 1
        if node is not None:
            line = node.start_mark.line + 1
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if str(k.value) == str(part)]
                if not match:
                    break
                line, node = match[0][0].start_mark.line + 1, match[0][1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                    and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line


def duplicate_keys(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> list[tuple]:
    out: list[tuple] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            if key in seen:
                out.append((k.start_mark.line + 1, key, path))
            seen.add(key)
            out += duplicate_keys(v, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out += duplicate_keys(v, (*path, i))
    return out



def _closest(word: str, options: Any) -> str:
    import difflib

    best = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {best[0]!r}?)" if best else ""

# ---- checks -----------------------------------------------------------------------------------

FOLDER_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def where_name(path: tuple[Any, ...]) -> str:
    if not path:
        return "the scenario"
    if path[0] == "conditions" and len(path) >= 2:
        rest = ".".join(map(str, path[2:]))
        return f"condition {path[1]!r}" + (f" ({rest})" if rest else "")
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the mapping at ``loc`` (for its allowed keys)."""
    from types import UnionType
    from typing import Union, get_args, get_origin

    tp: Any = model
    for part in loc:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (list, dict):
            tp = get_args(tp)[-1]
        else:
            return None
        if get_origin(tp) in (Union, UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def pydantic_message(err: ValidationError, where: str, lines: Lines,
                      model: type[BaseModel]) -> str:
    msgs: list[tuple[int, str]] = []
    for e in err.errors():
        loc, line = tuple(e["loc"]), lines(tuple(e["loc"]))
        parent = loc[:-1]
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            sub = _model_at(model, parent)
            allowed = sorted(sub.model_fields) if sub is not None else []
            hint = _closest(key, allowed).replace(" (", "; ").rstrip(")")
            msgs.append((line, f"unknown key {key!r} in {where_name(parent)}; allowed: "
                               f"{', '.join(allowed)}{hint}"))
        elif e["type"] == "missing":
            msgs.append((line, f"missing key {str(loc[-1])!r} in {where_name(parent)}"))
        else:
            got = repr(e.get("input"))
            got = got if len(got) <= 80 else got[:77] + "..."
            msgs.append((line, f"{where_name(loc)}: {e['msg']} (got {got})"))
    return "\n".join(f"{where}:{ln}: {m}" for ln, m in sorted(msgs, key=lambda x: x[0]))


def _roots() -> list[Path]:
    """Where relative names resolve after the scenario's folder: the repo (or the installed
    package's share folder when ament knows it)."""
    roots = [PACKAGE_ROOT]
    try:
        from ament_index_python.packages import get_package_share_directory

        roots.append(Path(get_package_share_directory("ifagent_ros")))
    except Exception:  # noqa: BLE001 - not installed with colcon, or ament_index missing
        pass
    return roots


def _find(name: str, dirs: list[Path], *, suffix: str = "",
          want_dir: bool = False) -> tuple[Path | None, list[str]]:
    p = Path(name).expanduser()
    names = [p] if not suffix or p.suffix in (".yaml", ".yml") else [p, Path(f"{p}{suffix}")]
    cands = names if p.is_absolute() else [d / n for d in dirs for n in names]
    tried: list[str] = []
    for c in cands:
        tried.append(str(c))
        if c.is_dir() if want_dir else c.is_file():
            return c.resolve(), tried
    return None, list(dict.fromkeys(tried))


def check_scenario(sc: Scenario, lines: Lines) -> list[tuple[int, str]]:
    """Everything the schema cannot say; fills ``sc._paths`` and ``sc._sim_params``."""
    out: list[tuple[int, str]] = []

    def bad(loc: tuple[Any, ...], msg: str) -> None:
        out.append((lines(loc), msg))

    base = sc.source.parent if sc.source is not None else Path.cwd()
    roots = [base, *_roots()]
    kind = sc.task.kind
    task = get_task(kind)
    if not FOLDER_SAFE.match(sc.name):
        bad(("name",), f"name {sc.name!r} must be folder-safe (letters, digits, '_', '-', '.')")
    if sc.episodes < 1:
        bad(("episodes",), f"episodes must be >= 1, got {sc.episodes}")
    if sc.seed < 0:
        bad(("seed",), f"seed must be >= 0, got {sc.seed}")
    for key in ("time_limit_s", "time_scale", "wall_limit_s"):
        v = getattr(sc, key)
        if v is not None and not (math.isfinite(v) and v > 0):
            bad((key,), f"{key} must be a number > 0, got {v}")
    for j, topic in enumerate(sc.record_topics):
        if not topic.startswith("/"):
            bad(("record_topics", j), f"record_topics: {topic!r} is not an absolute topic name")
    sections: dict[str, dict[str, Any]] = {}
    pf, tried = _find(sc.params_file, roots)
    if pf is None:
        bad(("params_file",), f"params_file {sc.params_file!r} not found; tried "
                              f"{', '.join(tried)}")
    else:
        from ifagent_ros.params_file import ParamsFileError, read_params_file

        sc._paths["params_file"] = str(pf)
        try:
            sections, wildcard = read_params_file(pf)
        except ParamsFileError as exc:
            bad(("params_file",), f"params_file does not read: {exc}")
        else:
            sections = {n: {**wildcard, **p} for n, p in sections.items()}
            sim_node = SIM_NODES[task.world]
            sc._sim_params = sections.get(sim_node, {})
            others = [f"{n} (world {w!r})" for w, n in SIM_NODES.items()
                      if n in sections and w != task.world]
            world = str(sc._sim_params.get("world", task.world))
            if sim_node not in sections and others:
                bad(("params_file",), f"params_file {pf}: its sim node is {others[0]}; task kind "
                                      f"{kind!r} needs world {task.world!r}: a {sim_node} "
                                      "section")
            elif world != task.world:
                bad(("params_file",), f"params_file {pf}: {sim_node} world is {world!r}; "
                                      f"{sim_node} runs world {task.world!r} only")
    ctx = CheckContext(bad=bad, base=base, roots=roots, find=_find, closest=_closest,
                       paths=sc._paths, worlds=sc.worlds, sections=sections)
    _check_task(sc, ctx)
    _check_conditions(sc, ctx)
    _check_overrides(sc, bad)
    if sc.episodes >= 1:
        seeds = [(n, sc.condition_seed(k)) for k, n in enumerate(sc.conditions)]
        for a, (na, sa) in enumerate(seeds):
            for nb, sb in seeds[a + 1:]:
                lo, hi = max(sa, sb), min(sa, sb) + sc.episodes - 1
                if lo <= hi:
                    at = nb if sc.conditions[nb].seed is not None else na
                    bad(("conditions", at, "seed"), f"seed reused across conditions: {na!r} and "
                                                    f"{nb!r} both use seeds {lo}..{hi}")
    for loc, msg in rnd.check_factors(sc.randomization, kind, sc._sim_params):
        bad(loc, msg)
    _check_faults(sc, bad)
    return out


def _check_task(sc: Scenario, ctx: CheckContext) -> None:
    t, kind = sc.task, sc.task.kind
    task = get_task(kind)
    for key in sorted(t.model_fields_set - {"kind"} - task.task_keys):
        owners = kinds_with("task_keys", key)
        if len(owners) == 1:
            ctx.bad(("task", key), f"task.{key} applies to task kind {owners[0]!r} only, not "
                                   f"{kind!r}")
        else:
            ctx.bad(("task", key), f"task.{key} does not apply to task kind {kind!r} (it "
                                   f"applies to: {', '.join(owners)})")
    task.check(sc, ctx)


def _check_conditions(sc: Scenario, ctx: CheckContext) -> None:
    bad, roots, kind = ctx.bad, ctx.roots, sc.task.kind
    task = get_task(kind)
    known = task.conditions
    if not sc.conditions:
        bad(("conditions",), f"conditions is empty; task kind {kind!r} knows "
                             f"{', '.join(known)}")
    for name, c in sc.conditions.items():
        loc = ("conditions", name)
        if name not in known:
            bad(loc, f"condition {name!r} is not one task kind {kind!r} knows"
                     f"{_closest(name, known)}; known: {', '.join(known)}")
            continue
        need = known[name]
        if need is None and c.model is not None:
            bad((*loc, "model"), f"condition {name!r} takes no model (got {c.model!r})")
        elif need in ("file", "dir") and c.model is None:
            example = f"models/{name}.pt" if need == "file" else "a local checkpoint folder"
            bad(loc, f"condition {name!r} names no model (add model: {example})")
        elif need is not None and c.model is not None:
            want_dir = need != "file"
            path, tried = _find(c.model, roots, want_dir=want_dir)
            if path is None:
                what = "folder" if want_dir else "file"
                bad((*loc, "model"), f"condition {name!r}: model {what} {c.model!r} not found; "
                                     f"tried {', '.join(tried)}")
            else:
                sc._paths[f"model:{name}"] = str(path)
        if c.seed is not None and c.seed < 0:
            bad((*loc, "seed"), f"condition {name!r}: seed must be >= 0, got {c.seed}")
        nodes = task.nodes(name)
        flat = _flat_overrides(c.overrides, nodes, (*loc, "overrides"), f"condition {name!r} "
                               f"overrides", f"not in its graph ({', '.join(nodes)})", bad)
        c.overrides = flat
        task.check_condition(name, c, flat, ctx)


def _flat_overrides(overrides: dict[str, Any], nodes: list[str], loc: tuple[Any, ...],
                    what: str, not_there: str, bad: Any) -> dict[str, dict[str, Any]]:
    """``overrides`` (node -> nested params) flattened like a params file; a node not in
    ``nodes`` or a bad value is reported at ``loc + (node,)`` (``what`` {node!r}, which is
    ``not_there``)."""
    from ifagent_ros.params_file import ParamsFileError, flatten_params

    flat: dict[str, dict[str, Any]] = {}
    for node, params in overrides.items():
        if node not in nodes:
            bad((*loc, node), f"{what} {node!r}, which is {not_there}")
            continue
        try:
            flat[node] = flatten_params(params, where=f"{what} {node}")
        except ParamsFileError as exc:
            bad((*loc, node), str(exc))
    return flat


def _check_overrides(sc: Scenario, bad: Any) -> None:
    """The scenario-wide overrides: nodes of some condition's graph, flattened like a params
    file; the sim node's also change the nominal camera the randomization works from."""
    task = get_task(sc.task.kind)
    graphs = sorted({n for c in sc.conditions if c in task.conditions for n in task.nodes(c)})
    flat = _flat_overrides(sc.overrides, graphs, ("overrides",), "overrides",
                           f"in no condition's graph ({', '.join(graphs)})", bad)
    sc.overrides = flat
    sc._sim_params = {**sc._sim_params, **flat.get(SIM_NODES[task.world], {})}


def _check_faults(sc: Scenario, bad: Any) -> None:
    kind = sc.task.kind
    task = get_task(kind)
    for j, f in enumerate(sc.faults):
        loc = ("faults", j)
        if f.kind not in task.fault_kinds:
            bad((*loc, "kind"), f"fault {f.kind!r} does not apply to task kind {kind!r} "
                                f"(allowed: {', '.join(task.fault_kinds)})")
        if f.trigger not in task.fault_triggers:
            bad((*loc, "trigger"), f"fault trigger {f.trigger!r} does not apply to task kind "
                                   f"{kind!r} (allowed: {', '.join(task.fault_triggers)})")
        for key in ("at_s", "duration_s"):
            v = getattr(f, key)
            if not (math.isfinite(v) and v >= 0):
                bad((*loc, key), f"fault {f.kind}: {key} must be >= 0, got {v}")
        if f.at_s > sc.time_limit_s:
            bad((*loc, "at_s"), f"fault {f.kind}: at_s {f.at_s:g} is after the episode's "
                                f"time_limit_s {sc.time_limit_s:g}")
        if f.kind in ("odom_jump", "joy_garbage") and not (math.isfinite(f.magnitude)
                                                          and f.magnitude > 0):
            unit = "metres" if f.kind == "odom_jump" else "messages per second"
            bad(loc, f"fault {f.kind} needs magnitude > 0 ({unit})")
        if f.kind == "kill_node" and not f.target:
            bad(loc, "fault kill_node needs target: the node to kill (e.g. "
                     "shared_autonomy_node)")
        if f.kind != "kill_node" and f.target:
            bad((*loc, "target"), f"fault {f.kind}: target applies to kill_node only")
        if f.conditions is not None and not f.conditions:
            bad((*loc, "conditions"), f"fault {f.kind}: conditions is empty (it would never run)")
        for c in f.conditions or []:
            if c not in sc.conditions:
                bad((*loc, "conditions"), f"fault {f.kind} names condition {c!r}, which the "
                    f"scenario does not have{_closest(c, sc.conditions)}; conditions: "
                    f"{', '.join(sc.conditions)}")
        if f.kind == "kill_node" and f.target:
            for c in f.conditions if f.conditions is not None else list(sc.conditions):
                if c in sc.conditions and c in task.conditions \
                        and f.target not in (nodes := task.nodes(c)):
                    bad((*loc, "target"), f"fault kill_node target {f.target!r} is not in the "
                        f"graph of condition {c!r} ({', '.join(nodes)}); restrict the fault with "
                        f"conditions: [...]")
