from __future__ import annotations

import pytest

from ifagent_ros.core.registry import lookup, unknown_message


class Unknown(ValueError):
    pass


def test_lookup_returns_the_entry_and_names_the_known_ones_otherwise() -> None:
    reg = {"a": 1, "b": 2}
    assert lookup(reg, "b", "widget") == 2
    with pytest.raises(ValueError, match=r"^unknown widget 'c'; known widgets: a, b$"):
        lookup(reg, "c", "widget")
    with pytest.raises(Unknown, match="known things: a, b"):
        lookup(reg, "c", "widget", plural="things", error=Unknown)
    with pytest.raises(ValueError, match=r"unknown widget \['a'\]"):  # unhashable, from YAML
        lookup(reg, ["a"], "widget")  # type: ignore[arg-type]
    assert unknown_message({}, "x", "task") == "unknown task 'x'; known tasks: (none)"
