"""perception_node's parameters (one per field, same names; nested ones as ``camera.position``).

The pipeline's own (``workspace_min``, ``tracker.gate``, ...) are the fields of
:class:`~ifagent_ros.core.perception.pipeline.PerceptionConfig`, declared beside these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ifagent_ros.nodes import topics

# The sim camera's optical frame (CameraConfig(eye=[1.2, 0, 0.75], target=[0.45, 0, 0])).
DEFAULT_CAMERA_POSITION = (1.2, 0.0, 0.75)
DEFAULT_CAMERA_ORIENTATION = (0.653281, 0.653281, -0.270598, -0.270598)


@dataclass(frozen=True)
class CameraPose:
    """The optical frame in base_link (on a real robot: the extrinsic calibration)."""

    position: tuple[float, float, float] = DEFAULT_CAMERA_POSITION
    orientation: tuple[float, float, float, float] = DEFAULT_CAMERA_ORIENTATION

    def __post_init__(self) -> None:
        if not np.all(np.isfinite([*self.position, *self.orientation])):
            raise ValueError("camera.position and camera.orientation must be finite numbers")
        if abs(np.linalg.norm(self.orientation) - 1.0) > 1e-3:
            raise ValueError("camera.orientation must be a unit quaternion (x, y, z, w)")


@dataclass(frozen=True)
class SyncConfig:
    slop_s: float = 0.02  # colour and depth stamps closer than this form a pair


@dataclass(frozen=True)
class DetectorParams:
    """``detector.*``: the open-vocabulary detector (``OpenVocabConfig``, which imports torch,
    is built from these only when ``backend: owlv2``)."""

    backend: Literal["geometric", "owlv2"] = "geometric"
    model_path: str = ""  # a local OWLv2 checkpoint directory (no downloads)
    queries: tuple[str, ...] = ("block", "bowl", "plate", "mug")
    score_threshold: float = 0.2
    device: str = "auto"  # auto | cpu | cuda


@dataclass(frozen=True)
class PerceptionNodeConfig:
    """perception_node's own parameters; the pipeline's (workspace_min, tracker.gate, ...) are
    :class:`PerceptionConfig`'s fields, declared beside these."""

    color_topic: str = topics.COLOR_IMAGE
    depth_topic: str = topics.DEPTH_IMAGE
    camera_info_topic: str = topics.COLOR_INFO
    joint_states_topic: str = topics.JOINT_STATES
    objects_topic: str = topics.OBJECTS
    markers_topic: str = topics.OBJECT_MARKERS
    points_topic: str = topics.OBJECT_POINTS
    frame_id: str = "base_link"
    camera: CameraPose = field(default_factory=CameraPose)
    sync: SyncConfig = field(default_factory=SyncConfig)
    joint_states_timeout_s: float = 0.5
    marker_lifetime_s: float = 1.0
    publish_points: bool = True
    detector: DetectorParams = field(default_factory=DetectorParams)
