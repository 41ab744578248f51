"""The campaign tasks: one module per task, each holding one
:class:`~ifagent_ros.core.campaign.tasks.base.CampaignTask` (``TASK``), found through
:data:`TASKS`.

Adding a task is one module here (a :class:`~ifagent_ros.core.campaign.tasks.base.BaseTask`
subclass and its ``TASK``) and one line in :data:`TASKS`; the scenario, the episode graph, the
driver and the metrics ask it through :func:`get_task`. ROS-free.
"""

from __future__ import annotations

from ifagent_ros.core.campaign.tasks import perception, shared_autonomy, vln_houses
from ifagent_ros.core.campaign.tasks.base import BaseTask, CampaignTask, CheckContext, DriverView
from ifagent_ros.core.registry import lookup

__all__ = ["TASKS", "BaseTask", "CampaignTask", "CheckContext", "DriverView", "get_task",
           "kinds_with"]

TASKS: dict[str, CampaignTask] = {t.kind: t for t in (
    shared_autonomy.TASK,
    vln_houses.TASK,
    perception.TASK,
)}


def get_task(kind: str) -> CampaignTask:
    """The task called ``kind``; ValueError naming the known tasks otherwise."""
    return lookup(TASKS, kind, "campaign task", plural="tasks")


def kinds_with(attribute: str, name: str) -> list[str]:
    """The kinds of the tasks whose ``attribute`` (``factors``, ``task_keys``, ``fault_kinds``,
    ...) holds ``name``, for messages that say where something applies."""
    return [k for k, t in TASKS.items() if name in getattr(t, attribute)]
