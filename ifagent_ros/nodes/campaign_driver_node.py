"""campaign_driver_node: drives one campaign episode inside its graph and tells the bag about it.

Thin plumbing around :class:`ifagent_ros.core.campaign.episode_driver.EpisodeDriver`: feeds it
the graph's clock, the robot's motion, the simulated person's and the planner's status, and
carries out what it decides: ``CampaignEvent`` s on ``EVENTS_TOPIC`` (start, fault, verdict,
end), ``FaultCommand`` s on ``FAULT_TOPIC`` for fault_relay_node, the VLN instruction, and node
kills (through the episode runtime's callback, ``GraphHandle.kill_node``). What it listens to
depends on the task (``core/campaign/tasks``: ``inputs``, ``moves``).

Not a standalone node (no NODE_CLASS): ``ifagent_ros.campaign_episode`` builds it in the graph's
context with the episode's spec and the plan's topics.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nav_msgs.msg import Odometry
from pydantic import ValidationError
from rclpy.clock import Clock, ClockType
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String

from ifagent_ros.core.campaign.episode_driver import Action, EpisodeDriver, read_operator_verdict
from ifagent_ros.core.campaign.graph_plan import DriverTopics
from ifagent_ros.core.campaign.types import EVENTS_TOPIC, FAULT_TOPIC, CampaignEvent, EpisodeSpec
from ifagent_ros.core.schemas import GroundTruth
from ifagent_ros.nodes.topics import LATCHED_QOS, latched_qos

log = logging.getLogger("ifagent.campaign")

EVENTS_QOS = latched_qos(100)  # a late subscriber (the recorder) still gets every event
TICK_S = 0.05
STARTUP_WAIT_S = 30.0  # wall seconds after the graph is up: start even if something is missing


class CampaignDriverNode(Node):
    def __init__(self, spec: EpisodeSpec, topics: DriverTopics, episode_dir: str | Path, *,
                 context: Context | None = None, kill: Callable[[str], None] | None = None,
                 ready: Callable[[], list[str]] | None = None, relay: bool = False,
                 node_name: str = "campaign_driver_node") -> None:
        """``kill(name)``: kill a node of the graph; ``ready()``: what the recorder still lacks
        (topic names, [] when ready); ``relay``: fault_relay_node must hear FAULT_TOPIC first."""
        super().__init__(node_name, context=context, parameter_overrides=[
            Parameter("use_sim_time", value=not spec.real)])
        self.spec = spec
        self.topics = topics
        self.dir = Path(episode_dir)
        self.driver = EpisodeDriver(spec, arm_joints=list(topics.arm_joints))
        self._kill = kill
        self._ready = ready or (lambda: [])
        self.finished = threading.Event()  # the driver decided to end (reason in end_reason)
        self.end_reason: str | None = None
        self.error: str | None = None      # what went wrong inside the driver, if anything
        self.events_published = 0
        self.graph_up_wall: float | None = None  # time.monotonic() of the first clock
        self.last_image: Image | None = None  # the episode saves it as its snapshot
        self._lock = threading.Lock()

        self._events_pub = self.create_publisher(String, EVENTS_TOPIC, EVENTS_QOS)
        self._fault_pub = self.create_publisher(String, FAULT_TOPIC, 10) if relay else None
        task, motion = self.driver.task, any(f.trigger == "motion" for f in spec.faults)
        if task.instruction_to_send(spec) is not None:
            self._instruction_pub = self.create_publisher(String, topics.instruction, 10)
        if "nav" in task.inputs:
            self.create_subscription(String, topics.nav_status, self._on_nav, 10)
        if task.moves == "base":  # odometry: the base's motion and its pose
            self.create_subscription(Odometry, topics.odom, self._on_odom, 20)
        elif motion or topics.start == "/joint_states":
            self.create_subscription(JointState, topics.joint_states, self._on_joints, 50)
        if "base_pose" in task.inputs and topics.base_pose:
            self.create_subscription(Odometry, topics.base_pose, self._on_base_pose, 20)
        if "ground_truth" in task.inputs:
            self.create_subscription(String, topics.ground_truth, self._on_ground_truth, 5)
        if "sim_user" in task.inputs:
            self.create_subscription(String, topics.sim_user_status, self._on_sim_user,
                                     LATCHED_QOS)
        if "instruction" in task.inputs:
            self.create_subscription(String, topics.instruction, self._on_instruction, 10)
        self.create_subscription(Image, topics.camera, self._on_image, 1)
        # Steady: must tick before the first /clock (and if sim time stalls).
        self._timer = self.create_timer(TICK_S, self._tick,
                                        clock=Clock(clock_type=ClockType.STEADY_TIME))

    # ------------------------------------------------------------------ inputs
    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _graph_up(self) -> None:
        if self.graph_up_wall is None:
            self.graph_up_wall = time.monotonic()
            self.driver.observe_graph_up()

    def _on_joints(self, msg: JointState) -> None:
        if self.topics.start == "/joint_states":
            self._graph_up()
        moving = self.driver.observe_joint_state(self.now(), list(msg.name), list(msg.position),
                                                 list(msg.velocity))
        if moving:
            self._run_step()  # a motion-triggered fault fires now, not at the next tick

    def _on_odom(self, msg: Odometry) -> None:
        if self.topics.start == "/odom":
            self._graph_up()
        p, v = msg.pose.pose.position, msg.twist.twist.linear
        if self.driver.observe_odom(self.now(), p.x, p.y, v.x, v.y):
            self._run_step()

    def _on_base_pose(self, msg: Odometry) -> None:
        self.driver.observe_base_pose(msg.pose.pose.position.x, msg.pose.pose.position.y)

    def _on_ground_truth(self, msg: String) -> None:
        if self.driver.objects_at_start is not None:
            return
        try:
            gt = GroundTruth.model_validate_json(msg.data)
        except ValidationError:
            return
        self.driver.observe_ground_truth([o.model_dump(mode="json") for o in gt.objects])

    def _json(self, msg: String) -> dict[str, Any] | None:
        try:
            data = json.loads(msg.data)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _on_sim_user(self, msg: String) -> None:
        status = self._json(msg)
        if status is not None:
            self.driver.observe_sim_user(self.now(), status)

    def _on_nav(self, msg: String) -> None:
        status = self._json(msg)
        if status is not None:
            self.driver.observe_nav(status)

    def _on_instruction(self, _msg: String) -> None:
        self.driver.observe_instruction(self.now())

    def _on_image(self, msg: Image) -> None:
        self.last_image = msg

    # ------------------------------------------------------------------ the episode
    def _missing(self) -> list[str]:
        missing = list(self._ready())
        if self._fault_pub is not None and self._fault_pub.get_subscription_count() == 0:
            missing.append(f"{FAULT_TOPIC} (fault_relay_node)")
        return missing

    def _tick(self) -> None:
        if self.graph_up_wall is None and not self.spec.real \
                and self.get_clock().now().nanoseconds > 0:
            self._graph_up()  # use_sim_time: the clock moves once /clock arrives
        self._run_step()

    def _run_step(self) -> None:
        with self._lock:
            if self.finished.is_set():
                return
            try:
                actions = self._decide()
                for action in actions:
                    self._carry_out(action)
            except Exception as exc:  # never let the driver die silently: end with the error
                log.exception("campaign driver failed")
                self.error = f"campaign driver: {type(exc).__name__}: {exc}"
                self.end_reason = "error"
                self.finished.set()

    def _decide(self) -> list[Action]:
        now = self.now()
        if self.driver.started:
            self._check_operator()
            return self.driver.step(now)
        if self.graph_up_wall is None:
            return []
        missing = self._missing()
        waited = time.monotonic() - self.graph_up_wall
        force = bool(missing) and waited > STARTUP_WAIT_S
        actions = self.driver.step(now, recorder_ready=not missing or force)
        if force and self.driver.started:
            self._publish_event(CampaignEvent(
                stamp=now, event="note", episode_id=self.spec.episode_id,
                detail={"note": f"started after {waited:.0f} s without {', '.join(missing)}"}))
        if self.driver.started and self.spec.real:
            (self.dir / "awaiting_verdict").touch()  # the runner now asks the operator
        return actions

    def _check_operator(self) -> None:
        verdict = read_operator_verdict(self.dir / "verdict.json") if self.spec.real else None
        if verdict is not None:
            self.driver.observe_operator_verdict(verdict)

    def _carry_out(self, action: Action) -> None:
        if action.kind == "event":
            self._publish_event(action.payload)
        elif action.kind == "fault_command":
            if self._fault_pub is None:
                raise RuntimeError(f"fault {action.payload.kind} needs fault_relay_node")
            self._fault_pub.publish(String(data=action.payload.model_dump_json()))
        elif action.kind == "instruction":
            self._instruction_pub.publish(String(data=action.payload))
        elif action.kind == "kill":
            self._kill_node(str(action.payload))
        elif action.kind == "end":
            self.end_reason = str(action.payload)
            self.finished.set()

    def _kill_node(self, name: str) -> None:
        try:
            if self._kill is None:
                raise RuntimeError("no kill callback")
            self._kill(name)
        except Exception as exc:  # noqa: BLE001 - logged; the episode goes on
            log.error("kill_node %s failed: %s", name, exc)
            self._publish_event(CampaignEvent(
                stamp=self.now(), event="note", episode_id=self.spec.episode_id,
                detail={"note": f"kill_node {name} failed: {exc}"}))

    def _publish_event(self, event: CampaignEvent) -> None:
        self._events_pub.publish(String(data=event.model_dump_json()))
        self.events_published += 1
        log.info("event %s at %.2f: %s", event.event, event.stamp,
                 json.dumps(event.detail, default=str)[:300])

    def publish_end(self, reason: str, nodes_alive: list[str], nodes_dead: list[str],
                    error: str | None = None) -> CampaignEvent:
        """The end event (from the episode's main thread, right before the recorder closes)."""
        with self._lock:
            self.finished.set()
            event = self.driver.finish(self.now(), reason, nodes_alive, nodes_dead, error)
            self._publish_event(event)
            return event
