"""The layering the package promises (docs/spine_contract.md), checked on the import statements.

core/ is ROS-free and simulator-free, sim/ holds the simulators without ROS, and nothing below the
CLI imports the CLI. A violation names the file, the line and the module it imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ifagent_ros"

# folder -> module prefixes no file in it may import (at any depth, lazily imported or not)
FORBIDDEN = {
    "core": ("rclpy", "pybullet", "habitat_sim", "ifagent_ros.nodes", "ifagent_ros.sim",
             "ifagent_ros.cli", "ifagent_ros.bench", "ifagent_ros.bringup"),
    "sim": ("rclpy", "ifagent_ros.nodes", "ifagent_ros.cli", "ifagent_ros.bench"),
    "nodes": ("ifagent_ros.cli",),
    "bench": ("ifagent_ros.cli",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(folder: str) -> list[str]:
    banned = FORBIDDEN[folder]
    out = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == b or module.startswith(b + ".") for b in banned):
                out.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports(folder: str) -> None:
    assert violations(folder) == []


def test_the_scan_sees_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import rclpy.node\n\ndef f():\n    from ifagent_ros.sim import tabletop\n")
    assert [m for _, m in imported_modules(probe)] == ["rclpy.node", "ifagent_ros.sim"]


NODE_MAX_LINES = 250


def test_node_files_stay_thin() -> None:
    """A node file is callbacks and message conversion; logic that grows goes to core/."""
    long = {p.name: n for p in sorted((PACKAGE / "nodes").glob("*_node.py"))
            if (n := len(p.read_text().splitlines())) > NODE_MAX_LINES}
    assert long == {}
