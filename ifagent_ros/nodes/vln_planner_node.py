"""vln_planner_node: ``/ifagent/instruction`` + ``/ifagent/objects`` + ``/odom`` -> ``/goal_pose``,
``/ifagent/nav/plan`` and ``/ifagent/nav/status``.

Thin plumbing around :class:`~ifagent_ros.core.vln.nav_supervisor.NavSupervisor`. The known map
(places and edges) comes from a parameter:

* ``house: apartment_a`` (sim): the house floor plan's navigation graph (``houses``, or a
  path), the same house house_sim_node runs;
* ``map_file: /path/places.yaml`` (real robot): a place graph in the frame of the robot's
  localisation (see :mod:`ifagent_ros.core.vln.known_map` for the format). The odometry topic
  must then carry poses in that frame (e.g. remap ``/odom`` to a map-frame pose topic such as
  AMCL's, converted to nav_msgs/Odometry), since tf2 is not used here.

``/goal_pose`` (geometry_msgs/PoseStamped, frame ``map``) is what Nav2's bt_navigator follows,
so a real base drives unchanged; in sim, base_executor_node follows ``/ifagent/nav/plan``. An
empty plan means "stop here". Status (schemas.NavStatus) goes out on every change and at
``status_rate_hz``. A goal is published only after the supervisor's final check (finite, inside
the known map); the node checks once more before it leaves.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
from pydantic import ValidationError
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Header, String

from ifagent_ros.core.schemas import NavStatus, ObjectList
from ifagent_ros.core.vln.known_map import KnownMap
from ifagent_ros.core.vln.nav_supervisor import (
    NavSupervisor,
    NavSupervisorConfig,
    NavUpdate,
    PerceivedThing,
)
from ifagent_ros.core.vln.planners import make_planner
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class LlmParams:
    url: str = ""  # OpenAI-compatible endpoint (with model) ...
    model: str = ""
    path: str = ""  # ... or a local transformers model directory


@dataclass(frozen=True)
class VlnTopics:
    instruction: str = topics.INSTRUCTION
    objects: str = topics.OBJECTS
    odom: str = topics.ODOM
    goal: str = topics.GOAL_POSE
    plan: str = topics.NAV_PLAN
    status: str = topics.NAV_STATUS


@dataclass(frozen=True)
class VlnPlannerConfig:
    """vln_planner_node's parameters (one per field; nested ones as ``llm.url``, ...)."""

    house: str = "apartment_a"  # sim: the same house as sim_node
    map_file: str = ""  # real robot: a place-graph YAML (overrides house)
    frame_id: str = "map"
    planner: str = "rule"  # a name in core/vln/planners.PLANNERS
    planner_seed: int = 0
    llm: LlmParams = field(default_factory=LlmParams)
    status_rate_hz: float = 2.0
    supervisor: NavSupervisorConfig = field(default_factory=NavSupervisorConfig)
    topics: VlnTopics = field(default_factory=VlnTopics)

    def __post_init__(self) -> None:
        if not self.status_rate_hz > 0.0:
            raise ValueError(f"status_rate_hz must be > 0, got {self.status_rate_hz}")


def load_known_map(house: str, map_file: str) -> KnownMap:
    """A place-graph file when given, else the sim house's navigation graph."""
    if map_file:
        return KnownMap.from_file(map_file)
    if not house:
        raise ValueError("vln_planner_node needs parameter house (sim) or map_file (robot)")
    from ifagent_ros.core.worlds.house import load_house
    from ifagent_ros.nodes.sim_node import scene_search_dirs

    dirs = [d.parent / "houses" for d in scene_search_dirs()]
    return KnownMap.from_house(load_house(house, dirs))


class VlnPlannerNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "vln_planner_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self._closed = False
        self.config = cfg = declare_config(self, VlnPlannerConfig)
        self.frame_id = cfg.frame_id
        self.known_map = load_known_map(cfg.house, cfg.map_file)
        planner = make_planner(cfg.planner, llm_url=cfg.llm.url, llm_model=cfg.llm.model,
                               llm_path=cfg.llm.path, seed=cfg.planner_seed)
        self.supervisor = NavSupervisor(self.known_map, planner, cfg.supervisor)
        self.goals_sent = 0
        self.refused = 0
        t = cfg.topics
        self._goal_pub = self.create_publisher(PoseStamped, t.goal, 10)
        self._plan_pub = self.create_publisher(Path, t.plan, 10)
        self._status_pub = self.create_publisher(String, t.status, 10)
        self.create_subscription(String, t.instruction, self._on_instruction, 10)
        self.create_subscription(String, t.objects, self._on_objects, 5)
        self.create_subscription(Odometry, t.odom, self._on_odom, 20)
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._timer = self.create_timer(1.0 / cfg.status_rate_hz, self._on_timer, clock=steady)
        self.get_logger().info(f"vln planner up: map {self.known_map.source} "
                               f"({len(self.known_map)} places), planner {cfg.planner}")

    # ------------------------------------------------------------------ callbacks
    def _on_instruction(self, msg: String) -> None:
        if self._closed:
            return
        self.get_logger().info(f"instruction: {msg.data[:200]!r}")
        self._publish(self.supervisor.set_instruction(msg.data, time.monotonic()))

    def _on_odom(self, msg: Odometry) -> None:
        if self._closed:
            return
        q = msg.pose.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        update = self.supervisor.on_odometry(msg.pose.pose.position.x, msg.pose.pose.position.y,
                                             yaw, time.monotonic())
        if update is not None:
            self._publish(update)

    def _on_objects(self, msg: String) -> None:
        if self._closed:
            return
        try:
            objects = ObjectList.model_validate_json(msg.data)
        except ValidationError as err:
            self.get_logger().warning(f"object list rejected: {err.errors()[0]['msg']}",
                                      throttle_duration_sec=2.0)
            return
        things = [PerceivedThing(o.id, o.label, o.position, o.size) for o in objects.objects]
        # The list's stamp is sim time (source image); age is judged on arrival instead.
        self.supervisor.on_objects(things, time.monotonic(), time.monotonic())

    def _on_timer(self) -> None:
        if self._closed:
            return
        update = self.supervisor.tick(time.monotonic())
        if update is not None:
            self._publish(update)
        else:
            self._publish_status(self.supervisor.status())

    # ------------------------------------------------------------------ publishing
    def _header(self) -> Header:
        return Header(stamp=self.get_clock().now().to_msg(), frame_id=self.frame_id)

    def _pose(self, x: float, y: float, yaw: float) -> PoseStamped:
        ps = PoseStamped(header=self._header())
        ps.pose.position.x, ps.pose.position.y = x, y
        ps.pose.orientation.z, ps.pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
        return ps

    def _safe(self, pose: tuple[float, float, float]) -> bool:
        return all(math.isfinite(v) for v in pose) and self.known_map.contains(pose[0], pose[1])

    def _publish(self, update: NavUpdate) -> None:
        path = update.path
        if path is not None and not all(self._safe(p) for p in path):
            self.refused += 1
            self.get_logger().error(f"refused a path off the known map or non-finite: {path}")
            path, update.goal = [], None
        if update.goal is not None and not self._safe(update.goal):
            self.refused += 1
            self.get_logger().error(f"refused goal {update.goal}: off the known map")
            update.goal, path = None, []
        if path is not None:
            self._plan_pub.publish(Path(header=self._header(),
                                        poses=[self._pose(*p) for p in path]))
        if update.goal is not None:
            self._goal_pub.publish(self._pose(*update.goal))
            self.goals_sent += 1
        self._publish_status(update.status)
        if update.status.get("mode") in ("halted", "asking"):
            self.get_logger().warning(str(update.status.get("reason")),
                                      throttle_duration_sec=1.0)

    def _publish_status(self, fields: dict[str, Any]) -> None:
        stamp = self.get_clock().now().nanoseconds * 1e-9
        status = NavStatus(stamp=stamp, frame_id=self.frame_id, **fields)
        self._status_pub.publish(String(data=status.model_dump_json()))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:  # leave the base stopped
            self._plan_pub.publish(Path(header=self._header()))
        except Exception:  # noqa: BLE001 - context already shut down
            pass


NODE_CLASS = VlnPlannerNode


def main(args: list[str] | None = None) -> None:
    run_node(VlnPlannerNode, args)


if __name__ == "__main__":
    main()
