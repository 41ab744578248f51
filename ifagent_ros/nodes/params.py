"""One way to declare a node's parameters: from its config dataclass.

``declare_config(node, Config, prefix="camera")`` declares one ROS parameter per dataclass field
(``camera.width``, ...), reads the values (defaults, params file, launch overrides), checks and
converts each one against the field's type annotation, and returns ``Config(**values)``:

- ``bool``, ``int``, ``float`` (an integer is accepted and converted), ``str``, ``Path``,
  ``Literal["a", "b"]`` (the value must be one of them) and unions of scalars (``str | int``)
  fields become scalar parameters;
- ``tuple[float, ...]``, ``tuple[float, float, float]`` (length checked), ``list[str]``,
  ``Sequence[int]`` ... become array parameters; the config gets the field's container type;
- a nested dataclass becomes dotted names (``limits.velocity``), recursively;
- ``X | None``: a ``None`` default declares the parameter unset; unset stays ``None``.

A wrong type, a wrong length or a value the config's own validation rejects (its
``__post_init__`` or a no-argument ``validate()``) raises one :class:`ParameterError` that names
the parameter, e.g. ``sim_node: parameter camera.width must be an integer, got 'wide' (str)``.

Parameters are declared with dynamic typing: the type check is this module's, so ``rate_hz: 5``
in a params file is accepted for a float (ROS would refuse the integer).

``overrides`` replaces defaults (``{"camera.width": 320}``; field paths relative to the config).
``fixed`` sets fields the node decides itself and does not declare (``{"scene_dirs": (...)}``,
a whole nested config too); a list of field paths keeps those fields at their defaults.
``names`` gives a field a parameter name other than its path
(``{"limits.workspace_min": "workspace.min"}``, used as is, without ``prefix``). ``renamed``
refuses old parameter names (``{"joy_axes": "pad.num_axes"}``) with an error naming the new one.
:func:`parameter_table` lists the parameters and their defaults without ROS.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from rcl_interfaces.msg import ParameterDescriptor

__all__ = ["ParameterError", "declare_config", "parameter_table"]

T = TypeVar("T")


class ParameterError(ValueError):
    """A parameter value the config cannot take; ``parameter`` names it (or them, joined by
    ", " when the config rejects a combination)."""

    def __init__(self, message: str, parameter: str = "") -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclasses.dataclass(frozen=True)
class _Leaf:
    """One declared parameter: where it lives in the config and what it must hold."""

    path: tuple[str, ...]  # field names from the top config down
    name: str  # the ROS parameter name
    hint: Any  # the field's resolved type annotation
    default: Any  # the config's default (None: unset)


# ---- type handling --------------------------------------------------------------------------
def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0], True
    return hint, False


def _is_sequence_hint(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    return origin in (tuple, list) or (
        origin is not None and inspect.isclass(origin) and issubclass(origin, Sequence)
        and origin is not str)


def _scalar_union(hint: Any) -> tuple[Any, ...]:
    """The members of a union of scalars (``str | int``), else ()."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = tuple(a for a in typing.get_args(hint) if a is not type(None))
        if all(a in (bool, int, float, str) for a in args):
            return args
    return ()


def _supported(hint: Any) -> bool:
    hint, _ = _unwrap_optional(hint)
    if hint in (bool, int, float, str, Path) or _scalar_union(hint):
        return True
    if typing.get_origin(hint) is Literal:
        return all(isinstance(a, str | int) and not isinstance(a, bool)
                   for a in typing.get_args(hint))
    if _is_sequence_hint(hint):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return bool(args) and all(a in (bool, int, float, str, Path) for a in args)
    return False


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _scalar(name: str, hint: Any, value: Any) -> Any:
    members = _scalar_union(hint)
    if members:  # the first member that takes the value as it is, else the first that converts
        exact = [m for m in members if type(value) is m]
        for member in exact or members:
            try:
                return _scalar(name, member, value)
            except ParameterError:
                continue
        kinds = " or ".join(m.__name__ for m in members)
        raise ParameterError(f"parameter {name} must be {kinds}, got {_describe(value)}", name)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ParameterError(f"parameter {name} must be true or false, got {_describe(value)}",
                             name)
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        raise ParameterError(f"parameter {name} must be an integer, got {_describe(value)}",
                             name)
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ParameterError(f"parameter {name} must be a number, got {_describe(value)}", name)
    if hint in (str, Path):
        if isinstance(value, str):
            return hint(value)
        raise ParameterError(f"parameter {name} must be a string, got {_describe(value)}", name)
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        if value in choices and type(value) in {type(c) for c in choices}:
            return value
        raise ParameterError(f"parameter {name} must be one of {list(choices)}, "
                             f"got {_describe(value)}", name)
    raise TypeError(f"parameter {name}: unsupported type {hint!r}")


def _convert(name: str, hint: Any, value: Any) -> Any:
    """``value`` as read from ROS -> the field's type, or a ParameterError naming ``name``."""
    inner, optional = _unwrap_optional(hint)
    if value is None:
        if optional:
            return None
        raise ParameterError(f"parameter {name} must be set", name)
    if not _is_sequence_hint(inner):
        return _scalar(name, inner, value)
    if isinstance(value, str | bytes) or not (hasattr(value, "__iter__")
                                              and hasattr(value, "__len__")):
        raise ParameterError(f"parameter {name} must be a list, got {_describe(value)}", name)
    items = list(value)
    origin = typing.get_origin(inner)
    args = typing.get_args(inner)
    if origin is tuple and args and args[-1] is not Ellipsis:  # fixed length
        if len(items) != len(args):
            raise ParameterError(f"parameter {name} needs {len(args)} values, got "
                                 f"{len(items)}: {items}", name)
        kinds = list(args)
    else:
        kinds = [args[0]] * len(items)
    out = []
    for i, (kind, item) in enumerate(zip(kinds, items, strict=True)):
        try:
            out.append(_scalar(name, kind, item))
        except ParameterError as err:
            raise ParameterError(f"{err} (item {i} of {items})", name) from None
    return list(out) if origin is list else tuple(out)


def _ros_default(hint: Any, value: Any) -> Any:
    """A default as a ROS parameter value (lists, floats as floats, paths as strings)."""
    if value is None:
        return None
    inner, _ = _unwrap_optional(hint)
    if _is_sequence_hint(inner):
        args = [a for a in typing.get_args(inner) if a is not Ellipsis]
        items = [float(v) if float in args and isinstance(v, int) and not isinstance(v, bool)
                 else str(v) if isinstance(v, Path) else v for v in value]
        return items
    if inner is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    return value


# ---- the field tree -------------------------------------------------------------------------
def _dataclass_type(cfg: Any) -> type:
    cls = cfg if isinstance(cfg, type) else type(cfg)
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"declare_config needs a dataclass or a dataclass instance, got {cfg!r}")
    return cls


def _field_default(cfg: Any, f: dataclasses.Field[Any]) -> Any:
    if not isinstance(cfg, type):
        return getattr(cfg, f.name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None  # required: the parameter starts unset and must be given


def _walk(cfg: Any, path: tuple[str, ...], prefix: str, overrides: Mapping[str, Any],
          fixed: Mapping[str, Any], names: Mapping[str, str], leaves: list[_Leaf]) -> None:
    cls = _dataclass_type(cfg)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        fpath = (*path, f.name)
        key = ".".join(fpath)
        if key in fixed:
            continue
        default = overrides[key] if key in overrides else _field_default(cfg, f)
        hint = hints[f.name]
        inner, _ = _unwrap_optional(hint)
        if dataclasses.is_dataclass(inner) and isinstance(inner, type):
            _walk(default if default is not None else inner, fpath, prefix, overrides, fixed,
                  names, leaves)
            continue
        if not _supported(hint):
            raise TypeError(f"{cls.__name__}.{f.name}: a {hint!r} field cannot be a ROS "
                            f"parameter; pass it in `fixed`")
        name = names.get(key) or (f"{prefix}.{key}" if prefix else key)
        leaves.append(_Leaf(fpath, name, hint, _ros_default(hint, default)))


Fixed = Mapping[str, Any] | Iterable[str] | None


def _default_at(cfg: Any, path: str) -> Any:
    """The default of the field at dotted ``path`` (the instance's value for an instance)."""
    for part in path.split("."):
        cls = _dataclass_type(cfg)
        match = [f for f in dataclasses.fields(cls) if f.name == part]
        if not match:
            raise KeyError(f"fixed names no field of {cls.__name__}: {path!r}")
        cfg = _field_default(cfg, match[0])
        if cfg is None and part != path.split(".")[-1]:
            cfg = typing.get_type_hints(cls)[part]
    return cfg


def _fixed_values(cfg: Any, fixed: Fixed) -> dict[str, Any]:
    if fixed is None:
        return {}
    if isinstance(fixed, Mapping):
        return dict(fixed)
    return {path: _default_at(cfg, path) for path in fixed}


def _leaves(cfg: Any, prefix: str, overrides: Mapping[str, Any] | None,
            fixed: Mapping[str, Any], names: Mapping[str, str] | None) -> list[_Leaf]:
    overrides, names = dict(overrides or {}), dict(names or {})
    leaves: list[_Leaf] = []
    _walk(cfg, (), prefix.rstrip("."), overrides, fixed, names, leaves)
    # a leaf's path, or a nested config's (overrides may replace a whole nested default)
    known = {".".join(leaf.path[:i]) for leaf in leaves for i in range(1, len(leaf.path) + 1)}
    for what, keys in (("overrides", overrides), ("names", names)):
        unknown = sorted(set(keys) - known)
        if unknown:
            raise KeyError(f"{what} names no parameter field of {_dataclass_type(cfg).__name__}: "
                           f"{unknown}")
    return leaves


def parameter_table(cfg: Any, prefix: str = "", overrides: Mapping[str, Any] | None = None, *,
                    fixed: Fixed = None,
                    names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parameter name -> default (None: unset) that :func:`declare_config` would declare."""
    leaves = _leaves(cfg, prefix, overrides, _fixed_values(cfg, fixed), names)
    return {leaf.name: leaf.default for leaf in leaves}


def _build(cfg: Any, path: tuple[str, ...], values: Mapping[tuple[str, ...], Any],
           fixed: Mapping[str, Any]) -> Any:
    cls = _dataclass_type(cfg)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        fpath = (*path, f.name)
        key = ".".join(fpath)
        if key in fixed:
            kwargs[f.name] = fixed[key]
        elif fpath in values:
            kwargs[f.name] = values[fpath]
        else:  # a nested dataclass
            inner, _ = _unwrap_optional(hints[f.name])
            sub = getattr(cfg, f.name) if not isinstance(cfg, type) else inner
            kwargs[f.name] = _build(sub if sub is not None else inner, fpath, values, fixed)
    out = cls(**kwargs)
    validate = getattr(out, "validate", None)
    if callable(validate) and not inspect.signature(validate).parameters:
        validate()
    return out


def _blame(cfg: Any, leaves: list[_Leaf], values: dict[tuple[str, ...], Any],
           fixed: Mapping[str, Any], err: Exception) -> list[str]:
    """The parameter(s) whose value the config rejects: the first one that fails on its own
    against the defaults, else the ones the message names, else all that differ from them."""
    try:
        defaults = {leaf.path: None if leaf.default is None
                    else _convert(leaf.name, leaf.hint, leaf.default) for leaf in leaves}
        _build(cfg, (), defaults, fixed)
    except Exception:  # noqa: BLE001 - the defaults alone fail: probing says nothing
        defaults = {}
    changed = [leaf for leaf in leaves if values[leaf.path] != defaults.get(leaf.path)]
    probe = changed if defaults else []
    for leaf in probe:
        try:
            _build(cfg, (), {**defaults, leaf.path: values[leaf.path]}, fixed)
        except (ValueError, TypeError):
            return [leaf.name]
        except Exception:  # noqa: BLE001 - any other failure: no verdict from this probe
            continue
    text = str(err)
    named = [leaf for leaf in leaves if leaf.path[-1] in text or leaf.name in text]
    pick = named or changed or leaves
    return [leaf.name for leaf in pick]


def declare_config(node: Any, cfg_cls_or_instance: type[T] | T, prefix: str = "",
                   overrides: Mapping[str, Any] | None = None, *,
                   fixed: Fixed = None,
                   names: Mapping[str, str] | None = None,
                   renamed: Mapping[str, str] | None = None) -> T:
    """Declare one parameter per field of the config dataclass on ``node`` and return the config
    built from their values (see the module docstring). Raises :class:`ParameterError`.

    ``renamed`` maps old parameter names to their new names: each old name is declared unset,
    and a params file or override that still sets it is an error saying the new name (a value
    silently ignored under an old name could leave, say, a deadman button unset)."""
    cfg = cfg_cls_or_instance
    fixed = _fixed_values(cfg, fixed)
    leaves = _leaves(cfg, prefix, overrides, fixed, names)
    node_name = node.get_name()
    declared = {leaf.name for leaf in leaves}
    for old, new in (renamed or {}).items():
        if new not in declared:
            raise KeyError(f"renamed: {old!r} -> {new!r} names no parameter of this config")
        value = node.declare_parameter(old, None, ParameterDescriptor(
            dynamic_typing=True, description=f"renamed: set {new}")).value
        if value is not None:
            raise ParameterError(f"{node_name}: parameter {old} is now {new} (set {new}: "
                                 f"{value!r} instead)", old)
    values: dict[tuple[str, ...], Any] = {}
    for leaf in leaves:
        value = node.declare_parameter(
            leaf.name, leaf.default,
            ParameterDescriptor(dynamic_typing=True, description=".".join(leaf.path))).value
        try:
            values[leaf.path] = _convert(leaf.name, leaf.hint, value)
        except ParameterError as err:
            raise ParameterError(f"{node_name}: {err}", err.parameter) from None
    try:
        return typing.cast(T, _build(cfg, (), values, fixed))
    except (ValueError, TypeError) as err:
        blamed = _blame(cfg, leaves, values, fixed, err)
        joined = ", ".join(blamed)
        if str(err).startswith("parameter "):  # the config's message names it already
            raise ParameterError(f"{node_name}: {err}", joined) from err
        which = "parameters " if len(blamed) > 1 else "parameter "
        raise ParameterError(f"{node_name}: {which}{joined}: {err}", joined) from err
