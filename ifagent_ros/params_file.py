"""Read ROS 2 params files (`node: {ros__parameters: {...}}`) the way rcl does, without ROS.

Nested maps become dotted parameter names (`camera: {width: 64}` -> `camera.width`), `/**`
holds parameters for every node, `/name` and `/**/name` mean `name`. Like rcl, `1e-3` is a
double (PyYAML alone would read it as a string). Values must be what a ROS parameter can hold:
bool, int, float, str, or a non-empty list of one of those.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = [
    "WILDCARD",
    "ParamsFileError",
    "flatten_params",
    "load_params_file",
    "parse_params",
    "read_params_file",
]

WILDCARD = "/**"
ROS_PARAMETERS = "ros__parameters"


class ParamsFileError(ValueError):
    """The params file cannot be read as a ROS 2 params file; the message says where."""


class _RosYamlLoader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats such as `1e-3` (as rcl's parser does)."""


_RosYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _check_value(value: Any, name: str, where: str) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        if not value:
            raise ParamsFileError(
                f"{where}: {name}: an empty list has no ROS parameter type; leave the key out"
            )
        if all(isinstance(v, bool) for v in value) or all(isinstance(v, str) for v in value):
            return value
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            # [0, 0.5] -> all doubles; all ints stay an integer array.
            return value if all(isinstance(v, int) for v in value) else [float(v) for v in value]
        raise ParamsFileError(
            f"{where}: {name}: a list must hold only bools, only numbers or only strings: {value!r}"
        )
    if value is None:
        raise ParamsFileError(f"{where}: {name}: has no value")
    raise ParamsFileError(
        f"{where}: {name}: {type(value).__name__} is not a ROS parameter type: {value!r}"
    )


def flatten_params(params: Mapping[str, Any] | None, *, where: str = "params") -> dict[str, Any]:
    """{'camera': {'width': 64}} -> {'camera.width': 64}, checking every value."""
    out: dict[str, Any] = {}

    def walk(prefix: str, mapping: Mapping[Any, Any]) -> None:
        for key, value in mapping.items():
            if not isinstance(key, str) or not key:
                raise ParamsFileError(f"{where}: parameter name {key!r} is not a string")
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                walk(name, value)
            else:
                out[name] = _check_value(value, name, where)

    if params is None:
        return out
    if not isinstance(params, Mapping):
        raise ParamsFileError(f"{where}: expected a map of parameters, got {params!r}")
    walk("", params)
    return out


def _node_name(key: Any, where: str) -> str:
    if not isinstance(key, str) or not key:
        raise ParamsFileError(f"{where}: node name {key!r} is not a string")
    if key == WILDCARD:
        return key
    name = key.removeprefix("/").removeprefix("**/")
    if not name or "/" in name or "*" in name:
        raise ParamsFileError(
            f"{where}: section {key!r}: only plain node names (`name`, `/name`, `/**/name`) "
            f"and `/**` are supported here, not namespaces or other wildcards"
        )
    return name


def parse_params(
    data: Any, *, where: str = "params"
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(sections, wildcard) from the loaded YAML of a params file; sections keep file order."""
    if data is None:
        raise ParamsFileError(f"{where}: the file is empty")
    if not isinstance(data, Mapping):
        raise ParamsFileError(f"{where}: top level must be a map of node names, got {data!r}")
    sections: dict[str, dict[str, Any]] = {}
    wildcard: dict[str, Any] = {}
    for key, body in data.items():
        name = _node_name(key, where)
        if not isinstance(body, Mapping) or set(body) != {ROS_PARAMETERS}:
            keys = sorted(map(str, body)) if isinstance(body, Mapping) else body
            raise ParamsFileError(
                f"{where}: section {key!r} must hold exactly one key `{ROS_PARAMETERS}`, "
                f"found {keys!r}"
            )
        params = flatten_params(body[ROS_PARAMETERS], where=f"{where}: {key}")
        target = wildcard if name == WILDCARD else sections.setdefault(name, {})
        target.update(params)
    return sections, wildcard


def read_params_file(path: str | os.PathLike) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(sections, wildcard) of a params file, without merging `/**` into the sections."""
    where = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f, Loader=_RosYamlLoader)  # a SafeLoader subclass
    except OSError as exc:
        raise ParamsFileError(f"{where}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ParamsFileError(f"{where}: not valid YAML: {exc}") from exc
    return parse_params(data, where=where)


def load_params_file(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """{node_name: {param_name: value}} with `/**` merged into every node (node values win)."""
    sections, wildcard = read_params_file(path)
    return {name: {**wildcard, **params} for name, params in sections.items()}
