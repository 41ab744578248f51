"""Campaign task ``perception``: the perception node watches a tabletop scene for
``task.duration_s``; each of its object lists is scored against the simulator's ground truth.

Graph: sim_node and perception_node running the condition's detector. Nothing moves and no
instruction is given, so faults trigger on time only. The driver ends the episode after the
duration with no verdict of its own; success (from the bag): recall at least
:data:`PERCEPTION_MIN_RECALL` and mean position error of the matches at most
:data:`PERCEPTION_MAX_ERROR_M`. Metrics: matched error, recall, precision, label and colour
accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ifagent_ros.core.campaign.metrics_bag import (
    GROUND_TRUTH,
    OBJECTS,
    Joints,
    Recording,
    TaskResult,
    Timeline,
    stamp_or_log,
)
from ifagent_ros.core.campaign.tasks.base import (
    BaseTask,
    CheckContext,
    DriverView,
    ModelNeed,
    Overrides,
    check_duration,
    check_scene,
)
from ifagent_ros.core.campaign.types import EpisodeSpec, TaskSpec
from ifagent_ros.core.schemas import GroundTruth, ObjectList

if TYPE_CHECKING:
    from ifagent_ros.core.campaign.scenario import Scenario
    from ifagent_ros.core.campaign.worlds import WorldFiles

__all__ = ["PERCEPTION_GATE_M", "PERCEPTION_MAX_ERROR_M", "PERCEPTION_MIN_RECALL",
           "PERCEPTION_PAIR_MAX_DT_S", "TASK", "PerceptionTask"]

PERCEPTION_GATE_M = 0.1               # a detection further than this from every object: unmatched
PERCEPTION_PAIR_MAX_DT_S = 0.5        # an object list without ground truth this close: not scored
PERCEPTION_MIN_RECALL = 0.8           # perception success: recall at least this ...
PERCEPTION_MAX_ERROR_M = 0.03         # ... and mean position error of the matches at most this
COLOR = "/camera/color/image_raw"
_METRICS = ["perception_position_error_m", "perception_recall", "perception_precision",
            "perception_label_accuracy", "frames_evaluated", "success"]


def _finite_positions(rec: Recording, topic: str, objs: Sequence[Any]) -> list[Any]:
    out = []
    for o in objs:
        if np.all(np.isfinite(o.position)):
            out.append(o)
        else:
            rec.skip(topic)
    return out


class PerceptionTask(BaseTask):
    kind = "perception"
    world = "tabletop"
    conditions: Mapping[str, ModelNeed] = {"geometric": None, "owlv2": "dir"}
    task_keys = frozenset({"scene", "duration_s"})
    fault_kinds = ("kill_node", "freeze_camera", "stale_joint_states")
    fault_triggers = ("time",)  # nothing moves, no instruction
    factors = ("object_xy_jitter_m", "colour_jitter", "light_scale", "camera_fov_error_deg",
               "camera_position_error_m", "camera_rotation_error_deg", "depth_noise_std_m",
               "latency_s", "jitter_s", "drop_rate")
    link_topics = (COLOR, "/camera/depth/image_raw", "/joint_states")
    real_start_topic = "/joint_states"
    key_topics = (COLOR,)
    moves: Literal["arm", "base", "nothing"] = "arm"
    required_topics = {OBJECTS: _METRICS, GROUND_TRUTH: _METRICS}
    core_topic = OBJECTS
    success_needs = f"{OBJECTS} + {GROUND_TRUTH}"
    expected_topics = frozenset({OBJECTS, GROUND_TRUTH})

    # ---- scenario
    def nodes(self, condition: str) -> list[str]:
        return ["sim_node", "perception_node"]

    def check(self, sc: Scenario, ctx: CheckContext) -> None:
        check_duration(sc, ctx, "perception")
        check_scene(sc, ctx)

    def instance(self, sc: Scenario, condition: str, index: int, scene_seed: int,
                 worlds: WorldFiles) -> tuple[TaskSpec, Overrides]:
        t = sc.task
        scene = sc.scene_path()
        ov: Overrides = {"sim_node": {"seed": scene_seed, "scene": scene},
                         "perception_node": {"detector.backend": condition,
                                             "detector.model_path": sc.model_path(condition)}}
        name = t.scene or Path(scene).name
        return TaskSpec(kind=self.kind, split=t.split, scene=name, duration_s=t.duration_s,
                        episode={"scene": name}), ov

    # ---- driver
    def validate_spec(self, spec: EpisodeSpec) -> None:
        if not (spec.task.duration_s or 0) > 0:
            raise ValueError(f"perception episode {spec.episode_id}: task.duration_s must "
                             f"be > 0, got {spec.task.duration_s}")

    def start_detail(self, d: DriverView) -> dict[str, Any]:
        return {"scene": d.spec.task.scene or d.spec.task.episode.get("scene")}

    def end(self, d: DriverView, now: float, t: float) -> dict[str, Any] | None:
        if t >= float(d.spec.task.duration_s or 0.0):
            return self.time_limit_verdict(d)
        return None

    # ---- metrics
    def metrics(self, rec: Recording, tl: Timeline, joints: Joints | None) -> TaskResult:
        """Each /ifagent/objects list against the ground truth nearest in time (within
        PERCEPTION_PAIR_MAX_DT_S); objects matched by position (Hungarian, gate
        PERCEPTION_GATE_M)."""
        from scipy.optimize import linear_sum_assignment

        gts = sorted((stamp_or_log(g.stamp, t), g)
                     for t, g in rec.models(GROUND_TRUTH, GroundTruth))
        gt_t = np.asarray([t for t, _ in gts], float)
        frames = matched = labels = colors = n_gt = n_pred = 0
        err_sum = 0.0
        for log_t, ol in rec.models(OBJECTS, ObjectList):
            t = stamp_or_log(ol.stamp, log_t)
            if not tl.within(t) or not len(gt_t):
                continue
            k = int(np.argmin(np.abs(gt_t - t)))
            if abs(gt_t[k] - t) > PERCEPTION_PAIR_MAX_DT_S:
                continue
            pred = _finite_positions(rec, OBJECTS, ol.objects)
            truth = _finite_positions(rec, GROUND_TRUTH, gts[k][1].objects)
            frames += 1
            n_gt, n_pred = n_gt + len(truth), n_pred + len(pred)
            if not pred or not truth:
                continue
            d = np.linalg.norm(np.asarray([p.position for p in pred], float)[:, None, :]
                               - np.asarray([g.position for g in truth], float)[None, :, :],
                               axis=2)
            # Pairs beyond the gate cost more than any valid set, so the assignment maximizes
            # matches.
            rows, cols = linear_sum_assignment(np.where(d <= PERCEPTION_GATE_M, d, 1e3))
            for r, c in zip(rows, cols, strict=True):
                if d[r, c] <= PERCEPTION_GATE_M:
                    matched += 1
                    err_sum += float(d[r, c])
                    labels += pred[r].label.lower() == truth[c].label.lower()
                    colors += pred[r].color.lower() == truth[c].color.lower()
        mean_err = err_sum / matched if matched else None
        recall = matched / n_gt if n_gt else None
        values: dict[str, Any] = {
            "frames_evaluated": frames, "perception_position_error_m": mean_err,
            "perception_recall": recall,
            "perception_precision": matched / n_pred if n_pred else None,
            "perception_label_accuracy": labels / matched if matched else None,
            "perception_color_accuracy": colors / matched if matched else None}
        if not frames:
            return TaskResult(values, None, f"no {OBJECTS} list had a {GROUND_TRUTH} within "
                              f"{PERCEPTION_PAIR_MAX_DT_S} s in the episode")
        ok = recall is not None and recall >= PERCEPTION_MIN_RECALL and mean_err is not None \
            and mean_err <= PERCEPTION_MAX_ERROR_M
        return TaskResult(values, ok)


TASK = PerceptionTask()
