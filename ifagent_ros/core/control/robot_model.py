"""Where the robot descriptions live, and the Franka limits published by Franka Robotics.

The simulator and the kinematics must use the same URDF, so both resolve it here. The Panda URDF
ships with ``pybullet_data``; finding its path needs no pybullet import (core stays simulator-free).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

PANDA_ARM_JOINTS: tuple[str, ...] = tuple(f"panda_joint{i}" for i in range(1, 8))
FR3_ARM_JOINTS: tuple[str, ...] = tuple(f"fr3_joint{i}" for i in range(1, 8))
EE_FRAME = "panda_grasptarget"
# The arm's ready pose (gripper above the table, elbow up), used by the simulator and benchmarks.
PANDA_HOME_Q: tuple[float, ...] = (0.0, -0.785, 0.0, -2.356, 0.0, 1.571, 0.785)


def panda_urdf_path() -> Path:
    """Path of ``franka_panda/panda.urdf`` inside the installed ``pybullet_data`` package."""
    spec = importlib.util.find_spec("pybullet_data")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "pybullet_data is not installed; it carries franka_panda/panda.urdf "
            "(pip install pybullet)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "franka_panda" / "panda.urdf"
    if not path.is_file():
        raise FileNotFoundError(f"Panda URDF not found at {path}")
    return path


@dataclass(frozen=True)
class FrankaLimits:
    """Joint limits from Franka's datasheet ("Robot and interface specifications").

    Position limits match the URDF; velocity, acceleration and jerk are the published per-joint
    maxima.
    """

    position_lower: tuple[float, ...] = (
        -2.8973,
        -1.7628,
        -2.8973,
        -3.0718,
        -2.8973,
        -0.0175,
        -2.8973,
    )
    position_upper: tuple[float, ...] = (2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973)
    velocity: tuple[float, ...] = (2.1750, 2.1750, 2.1750, 2.1750, 2.6100, 2.6100, 2.6100)
    acceleration: tuple[float, ...] = (15.0, 7.5, 10.0, 12.5, 15.0, 20.0, 20.0)
    jerk: tuple[float, ...] = (7500.0, 3750.0, 5000.0, 6250.0, 7500.0, 10000.0, 10000.0)


FRANKA_LIMITS = FrankaLimits()
