"""Looking a name up in one of the package's registries (campaign tasks, conditions, model
kinds, user models, planners): the entry, or one error that names what is known.

ROS-free; every registry is a plain ``dict`` in the module that owns the concept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = ["lookup", "unknown_message"]

T = TypeVar("T")


def unknown_message(registry: Mapping[str, object], name: object, what: str,
                    plural: str | None = None) -> str:
    """``unknown <what> 'x'; known <plural>: a, b, c`` (``plural`` defaults to ``what + 's'``)."""
    known = ", ".join(registry) or "(none)"
    return f"unknown {what} {name!r}; known {plural or what + 's'}: {known}"


def lookup(registry: Mapping[str, T], name: str, what: str, *, plural: str | None = None,
           error: type[ValueError] = ValueError) -> T:
    """``registry[name]``; otherwise ``error`` (a ValueError) with :func:`unknown_message`."""
    try:
        return registry[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name (a list from a YAML file)
        raise error(unknown_message(registry, name, what, plural)) from None
