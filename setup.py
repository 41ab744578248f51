"""ament_python packaging for ifagent_ros (colcon build / pip install -e .)."""

import os

from setuptools import find_packages, setup

PACKAGE_NAME = "ifagent_ros"
HERE = os.path.dirname(os.path.abspath(__file__))

# Data folders installed under share/ifagent_ros/, keeping their relative layout
# (scenes/, houses/, scenarios/ keep their layout). Missing folders are fine.
DATA_DIRS = ("launch", "config", "urdf", "scenes", "houses", "scenarios", "models")
_SKIP_DIRS = {"__pycache__"}


def tree_data_files(top: str) -> list[tuple[str, list[str]]]:
    """(install_dir, [files]) for every folder under top that holds files.

    Paths are relative to setup.py, as setuptools requires.
    """
    entries = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(HERE, top)):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, HERE)
        files = [
            os.path.join(rel_dir, f)
            for f in sorted(filenames)
            if not f.startswith(".") and not f.endswith(".pyc")
        ]
        if files:
            entries.append((os.path.join("share", PACKAGE_NAME, rel_dir), files))
    return entries


data_files = [
    ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE_NAME}"]),
    (f"share/{PACKAGE_NAME}", ["package.xml"]),
]
for _top in DATA_DIRS:
    data_files += tree_data_files(_top)

setup(
    name=PACKAGE_NAME,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=data_files,
    install_requires=["setuptools"],
    package_data={
        "ifagent_ros.core.language": ["data/*.yaml"],
        "ifagent_ros.core.latent_actions": ["data/*.yaml"],
        "ifagent_ros.core.vln": ["r2r_associations.json"],
    },
    zip_safe=False,  # core/language, latent_actions and vln read their data files by path
    maintainer="ifagent maintainers",
    maintainer_email="maintainer@ifagent.invalid",
    description="Instruction-following robot agent on ROS 2 (sim + Franka), runnable without ROS.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "sim_node = ifagent_ros.nodes.sim_node:main",
            "house_sim_node = ifagent_ros.nodes.house_sim_node:main",
            "executor_node = ifagent_ros.nodes.executor_node:main",
            "teleop_node = ifagent_ros.nodes.teleop_node:main",
            "scripted_gamepad_node = ifagent_ros.nodes.scripted_gamepad_node:main",
            "recorder_node = ifagent_ros.nodes.recorder_node:main",
            "perception_node = ifagent_ros.nodes.perception_node:main",
            "audio_capture_node = ifagent_ros.nodes.audio_capture_node:main",
            "speech_node = ifagent_ros.nodes.speech_node:main",
            "correction_node = ifagent_ros.nodes.correction_node:main",
            "shared_autonomy_node = ifagent_ros.nodes.shared_autonomy_node:main",
            "vln_planner_node = ifagent_ros.nodes.vln_planner_node:main",
            "base_executor_node = ifagent_ros.nodes.base_executor_node:main",
            "sim_user_node = ifagent_ros.nodes.sim_user_node:main",
            "fault_relay_node = ifagent_ros.nodes.fault_relay_node:main",
            "ifagent = ifagent_ros.cli:main",
            # one campaign episode (the runner starts `python -m ifagent_ros.campaign_episode`)
            "ifagent_campaign_episode = ifagent_ros.campaign_episode:main",
        ],
    },
)
