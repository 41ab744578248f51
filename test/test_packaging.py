"""package.xml, setup.py and a real `colcon build` of the package."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from setup_info import REPO, console_scripts, setup_kwargs

NODE_SCRIPTS = [
    "sim_node",
    "house_sim_node",
    "executor_node",
    "teleop_node",
    "scripted_gamepad_node",
    "recorder_node",
    "perception_node",
    "audio_capture_node",
    "speech_node",
    "correction_node",
    "shared_autonomy_node",
    "vln_planner_node",
    "base_executor_node",
    "sim_user_node",
    "fault_relay_node",
]
DATA_DIRS = ["launch", "config", "urdf", "sim", "models"]
# Imports that are ROS packages (rosdep keys), so package.xml must name them.
ROS_PACKAGES = {
    "rclpy",
    "ament_index_python",
    "launch",
    "launch_ros",
    "tf2_ros",
    "cv_bridge",
    "message_filters",
    "rosbag2_py",
}
ROS_SUFFIXES = ("_msgs", "_srvs", "_interfaces")


def parse_package_xml():
    catkin_pkg = pytest.importorskip("catkin_pkg.package")
    warnings: list[str] = []
    package = catkin_pkg.parse_package(str(REPO / "package.xml"), warnings=warnings)
    return package, warnings


def imported_ros_packages(*folders: str) -> dict[str, str]:
    """{ROS package: first file importing it} over every .py file under the folders."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in ROS_PACKAGES or top.endswith(ROS_SUFFIXES):
                        found.setdefault(top, str(path.relative_to(REPO)))
    return found


def test_package_xml_is_valid_format3_ament_python() -> None:
    package, warnings = parse_package_xml()
    package.validate()
    assert warnings == []
    assert package.package_format == 3
    assert package.name == "ifagent_ros"
    assert package.version == "0.1.0" == setup_kwargs()["version"]
    assert package.get_build_type() == "ament_python"
    assert package.licenses == ["Apache-2.0"]
    assert package.maintainers
    assert "python3-pytest" in {d.name for d in package.test_depends}


def test_package_xml_depends_on_every_imported_ros_package() -> None:
    package, _ = parse_package_xml()
    depends = {d.name for d in package.exec_depends + package.build_export_depends}
    imported = imported_ros_packages("ifagent_ros", "launch")
    assert {"rclpy", "std_msgs", "launch", "launch_ros"} <= set(imported)  # the scan works
    missing = {name: where for name, where in imported.items() if name not in depends}
    assert not missing, f"add <exec_depend> for these to package.xml: {missing}"
    base = {
        "rclpy",
        "std_msgs",
        "sensor_msgs",
        "geometry_msgs",
        "nav_msgs",
        "trajectory_msgs",
        "visualization_msgs",
        "std_srvs",
        "diagnostic_msgs",
        "rosgraph_msgs",
        "builtin_interfaces",
        "ament_index_python",
        "launch",
        "launch_ros",
        "python3-numpy",
        "python3-yaml",
        "python3-pydantic",
    }
    assert base <= depends


def test_console_scripts() -> None:
    scripts = console_scripts()
    assert scripts == {
        **{name: f"ifagent_ros.nodes.{name}:main" for name in NODE_SCRIPTS},
        "ifagent": "ifagent_ros.cli:main",
        "ifagent_campaign_episode": "ifagent_ros.campaign_episode:main",
    }
    assert (REPO / "ifagent_ros" / "cli" / "__init__.py").exists()


def test_setup_cfg_puts_scripts_where_ros2_run_looks() -> None:
    text = (REPO / "setup.cfg").read_text()
    assert "script_dir=$base/lib/ifagent_ros" in text.replace(" ", "")
    assert "install_scripts=$base/lib/ifagent_ros" in text.replace(" ", "")


def test_data_files_cover_data_folders_at_any_depth(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    shutil.copy(REPO / "setup.py", root)
    (root / "resource").mkdir()
    (root / "resource" / "ifagent_ros").touch()
    for rel in [
        "launch/sim.launch.py",
        "config/sim.yaml",
        "scenes/a.json",
        "houses/h1/rooms/kitchen.json",
        "scenarios/s.yaml",
        "models/m/card.md",
        "scenes/__pycache__/junk.pyc",
        "models/.hidden",
    ]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    # urdf/ is missing on purpose: missing folders are fine
    data_files = dict(setup_kwargs(root)["data_files"])
    assert data_files["share/ament_index/resource_index/packages"] == ["resource/ifagent_ros"]
    assert data_files["share/ifagent_ros"] == ["package.xml"]
    assert data_files["share/ifagent_ros/houses/h1/rooms"] == [
        "houses/h1/rooms/kitchen.json"
    ]
    assert data_files["share/ifagent_ros/models/m"] == ["models/m/card.md"]
    installed = {f for files in data_files.values() for f in files}
    assert "scenes/__pycache__/junk.pyc" not in installed and "models/.hidden" not in installed


def test_data_files_of_this_repo_cover_every_data_file() -> None:
    data_files = setup_kwargs()["data_files"]
    installed = {(dest, src) for dest, files in data_files for src in files}
    for folder in DATA_DIRS:
        for path in (REPO / folder).rglob("*"):
            rel = path.relative_to(REPO)
            if (
                path.is_file()
                and "__pycache__" not in rel.parts
                and not any(p.startswith(".") for p in rel.parts)
            ):
                assert (f"share/ifagent_ros/{rel.parent}", str(rel)) in installed


def _has_colcon() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("colcon_core", "colcon_ros"))


def _copy_source(dest: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".venv",
        ".git",
        "build",
        "install",
        "log",
        "__pycache__",
        "*.egg-info",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "runs",
        "rosbag2_*",
    )
    shutil.copytree(REPO, dest, ignore=ignore)


@pytest.mark.colcon
@pytest.mark.skipif(not _has_colcon(), reason="colcon-common-extensions not installed")
def test_colcon_build_installs_scripts_and_data(tmp_path: Path) -> None:
    _copy_source(tmp_path / "src" / "ifagent_ros")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "colcon",
            "--log-base",
            str(tmp_path / "log"),
            "build",
            "--base-paths",
            str(tmp_path / "src"),
            "--build-base",
            str(tmp_path / "build"),
            "--install-base",
            str(tmp_path / "install"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    prefix = tmp_path / "install" / "ifagent_ros"
    for script in [*NODE_SCRIPTS, "ifagent"]:
        path = prefix / "lib" / "ifagent_ros" / script
        assert path.is_file() and os.access(path, os.X_OK), script
    share = prefix / "share" / "ifagent_ros"
    for rel in [
        "package.xml",
        "launch/sim.launch.py",
        "launch/franka.launch.py",
        "config/sim.yaml",
        "config/franka.yaml",
    ]:
        assert (share / rel).is_file(), rel
    assert (
        prefix / "share" / "ament_index" / "resource_index" / "packages" / "ifagent_ros"
    ).is_file()
    site = next(prefix.glob("lib/python3*/site-packages"))
    assert (site / "ifagent_ros" / "bringup.py").is_file()
    assert not (site / "test").exists()
    # The installed `ifagent` runs from the install space (as after `source install/setup.bash`).
    env = {**os.environ, "PYTHONPATH": str(site), "AMENT_PREFIX_PATH": str(prefix)}
    help_run = subprocess.run(
        [str(prefix / "lib" / "ifagent_ros" / "ifagent"), "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "up" in help_run.stdout
