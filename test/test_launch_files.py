"""launch/*.launch.py and config/*.yaml, checked without `launch` (not installable here).

(a) statically: every Node(executable=...) is a console script, every params file named exists,
    parses as a ROS 2 params file and has a section for every node the launch file declares;
(b) by running generate_launch_description() against stub `launch` / `launch_ros` modules;
(c) every parameter a params file sets is declared by its node (built in a private Context).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import random
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from setup_info import REPO, console_scripts

from ifagent_ros.bringup import NODE_REGISTRY
from ifagent_ros.params_file import ParamsFileError, load_params_file

LAUNCH_FILES = {
    "sim.launch.py": ("sim.yaml", ["sim_node", "executor_node", "teleop_node", "perception_node"]),
    "franka.launch.py": ("franka.yaml", ["executor_node", "teleop_node"]),
    "speech.launch.py": ("speech.yaml", ["audio_capture_node", "speech_node", "correction_node"]),
    "shared_autonomy.launch.py": (
        "shared_autonomy.yaml",
        ["sim_node", "executor_node", "shared_autonomy_node", "correction_node", "perception_node"],
    ),
    "nav.launch.py": ("nav.yaml", ["house_sim_node", "base_executor_node", "vln_planner_node"]),
}
PARAMS_FILES = {
    "sim.yaml": [
        "sim_node",
        "executor_node",
        "teleop_node",
        "scripted_gamepad_node",
        "recorder_node",
        "perception_node",
    ],
    "franka.yaml": ["executor_node", "teleop_node"],
    "speech.yaml": ["audio_capture_node", "speech_node", "correction_node"],
    "shared_autonomy.yaml": [
        "sim_node", "executor_node", "shared_autonomy_node", "correction_node", "perception_node"
    ],
    "nav.yaml": ["house_sim_node", "base_executor_node", "vln_planner_node"],
}
DOMAIN_ID = int(os.environ.get("IFAGENT_TEST_DOMAIN_ID") or random.randint(1, 101))


# --- (a) static checks ----------------------------------------------------------------------


def _str_kwargs(call: ast.Call) -> dict[str, str]:
    return {
        kw.arg: kw.value.value
        for kw in call.keywords
        if kw.arg and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    }


def static_problems(launch_file: Path, config_dir: Path = REPO / "config") -> list[str]:
    """Everything wrong with a launch file that can be seen without running it."""
    tree = ast.parse(launch_file.read_text(), filename=str(launch_file))
    scripts = console_scripts()
    problems: list[str] = []
    nodes = [
        _str_kwargs(n)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and getattr(n.func, "id", getattr(n.func, "attr", None)) == "Node"
    ]
    if not nodes:
        problems.append("declares no Node")
    for kw in nodes:
        if kw.get("package") != "ifagent_ros":
            problems.append(f"Node package {kw.get('package')!r} is not ifagent_ros")
        if kw.get("executable") not in scripts:
            problems.append(
                f"executable {kw.get('executable')!r} is not a console script in "
                f"setup.py ({', '.join(scripts)})"
            )
        if not kw.get("name"):
            problems.append(f"Node {kw.get('executable')!r} has no literal name=")
    yaml_names = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.endswith(".yaml")
    ]
    if not yaml_names:
        problems.append("names no params file")
    for yaml_name in yaml_names:
        path = config_dir / yaml_name
        if not path.is_file():
            problems.append(f"params file config/{yaml_name} does not exist")
            continue
        try:
            sections = load_params_file(path)
        except ParamsFileError as exc:
            problems.append(str(exc))
            continue
        for kw in nodes:
            if kw.get("name") and kw["name"] not in sections:
                problems.append(f"config/{yaml_name} has no section for node {kw['name']!r}")
    return problems


@pytest.mark.parametrize("launch_name", sorted(LAUNCH_FILES))
def test_launch_file_static(launch_name: str) -> None:
    assert static_problems(REPO / "launch" / launch_name) == []


def test_static_check_catches_bad_executable_and_params_file(tmp_path: Path) -> None:
    good = (REPO / "launch" / "sim.launch.py").read_text()
    bad_exe = tmp_path / "bad_exe.launch.py"
    bad_exe.write_text(good.replace('executable="teleop_node"', 'executable="teleop_nod"'))
    assert any("teleop_nod" in p for p in static_problems(bad_exe))
    bad_yaml = tmp_path / "bad_yaml.launch.py"
    bad_yaml.write_text(good.replace('"sim.yaml"', '"sim_nope.yaml"'))
    assert any("sim_nope.yaml" in p for p in static_problems(bad_yaml))
    missing_section = tmp_path / "missing.launch.py"
    missing_section.write_text(
        (REPO / "launch" / "franka.launch.py")
        .read_text()
        .replace('name="teleop_node"', 'name="teleop_node2"')
    )
    assert any("teleop_node2" in p for p in static_problems(missing_section))


@pytest.mark.parametrize("params_name", sorted(PARAMS_FILES))
def test_params_file_sections(params_name: str) -> None:
    sections = load_params_file(REPO / "config" / params_name)
    assert list(sections) == PARAMS_FILES[params_name]
    assert set(sections) <= set(NODE_REGISTRY)


def test_franka_params_target_the_real_robot() -> None:
    executor = load_params_file(REPO / "config" / "franka.yaml")["executor_node"]
    assert executor["backend"] == "franka"
    assert executor["arm.joint_names"] == [f"fr3_joint{i}" for i in range(1, 8)]
    assert executor["arm.trajectory_topic"] == "/fr3_arm_controller/joint_trajectory"
    assert executor["arm.velocity_topic"] == "/forward_velocity_controller/commands"


# --- (b) running generate_launch_description() with stub modules ---------------------------


class _Recorded:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs


class LaunchDescription(_Recorded):
    pass


class DeclareLaunchArgument(_Recorded):
    pass


class Node(_Recorded):
    pass


class LaunchConfiguration(_Recorded):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, LaunchConfiguration) and other.args == self.args


def _stub_modules(share_dir: Path) -> dict[str, types.ModuleType]:
    def module(name: str, **attrs: Any) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        return mod

    return {
        "launch": module("launch", LaunchDescription=LaunchDescription),
        "launch.actions": module("launch.actions", DeclareLaunchArgument=DeclareLaunchArgument),
        "launch.substitutions": module(
            "launch.substitutions", LaunchConfiguration=LaunchConfiguration
        ),
        "launch_ros": module("launch_ros"),
        "launch_ros.actions": module("launch_ros.actions", Node=Node),
        "ament_index_python": module("ament_index_python"),
        "ament_index_python.packages": module(
            "ament_index_python.packages",
            get_package_share_directory=lambda pkg: (
                str(share_dir)
                if pkg == "ifagent_ros"
                else pytest.fail(f"asked for the share dir of {pkg}")
            ),
        ),
    }


def run_launch_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> LaunchDescription:
    # The source tree has the share dir's layout (config/, launch/ at the top).
    for name, stub in _stub_modules(REPO).items():
        monkeypatch.setitem(sys.modules, name, stub)
    spec = importlib.util.spec_from_file_location(f"_launch_{path.stem.replace('.', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    assert isinstance(description, LaunchDescription)
    return description


@pytest.mark.parametrize("launch_name", sorted(LAUNCH_FILES))
def test_generate_launch_description(launch_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    params_name, expected_nodes = LAUNCH_FILES[launch_name]
    description = run_launch_file(REPO / "launch" / launch_name, monkeypatch)
    (entities,) = description.args
    arguments = [e for e in entities if isinstance(e, DeclareLaunchArgument)]
    nodes = [e for e in entities if isinstance(e, Node)]
    assert len(arguments) + len(nodes) == len(entities)

    assert [a.args[0] for a in arguments] == ["params_file"]
    default = Path(arguments[0].kwargs["default_value"])
    assert default == REPO / "config" / params_name and default.is_file()
    sections = load_params_file(default)

    scripts = console_scripts()
    assert [n.kwargs["name"] for n in nodes] == expected_nodes
    for node in nodes:
        kw = node.kwargs
        assert kw["package"] == "ifagent_ros"
        assert kw["executable"] in scripts
        assert kw["executable"] == kw["name"]
        assert kw["parameters"] == [LaunchConfiguration("params_file")]
        assert kw["output"] == "screen"
        assert kw["name"] in sections


# --- (c) every parameter in the params files is declared by its node -------------------------


def _node_cases() -> list[tuple[str, str]]:
    return [
        (params_name, node) for params_name, nodes in sorted(PARAMS_FILES.items()) for node in nodes
    ]


@pytest.mark.parametrize(("params_name", "node_name"), _node_cases())
def test_params_are_declared_by_the_node(
    params_name: str, node_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module_name = NODE_REGISTRY[node_name]
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{module_name} does not exist yet")
    from rclpy.context import Context
    from rclpy.parameter import Parameter

    monkeypatch.chdir(tmp_path)  # nodes that write files (recorder) write them here
    params = load_params_file(REPO / "config" / params_name)[node_name]
    node_class = importlib.import_module(module_name).NODE_CLASS
    context = Context()
    context.init(["test"], domain_id=DOMAIN_ID)
    node = None
    try:
        node = node_class(
            context=context,
            node_name=node_name,
            parameter_overrides=[Parameter(k, value=v) for k, v in params.items()],
        )
        undeclared = sorted(name for name in params if not node.has_parameter(name))
        assert not undeclared, f"{node_name} does not declare {undeclared} ({params_name})"
        for name, value in params.items():
            got = node.get_parameter(name).value
            assert (list(got) if isinstance(value, list) else got) == value, name
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        context.try_shutdown()
