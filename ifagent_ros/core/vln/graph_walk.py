"""Episode bookkeeping shared by every graph environment (R2R scans, simulated houses): where the
agent is, its heading, the places visited, and why the episode ended."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ifagent_ros.core.vln.types import NavDecision


class GraphWalk:
    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.trajectory: list[str] = []
        self.heading = 0.0
        self.done = True
        self.stop_reason = ""

    @property
    def here(self) -> str:
        return self.trajectory[-1]

    @property
    def steps(self) -> int:
        return len(self.trajectory) - 1

    def start(self, place: str, heading: float) -> None:
        self.trajectory = [place]
        self.heading = float(heading)
        self.done = False
        self.stop_reason = ""

    def apply(self, decision: NavDecision, adjacency: Mapping[str, object],
              heading_to_target: Callable[[str], float], detail: str = "") -> None:
        """Stop, or move along an edge to a neighbour; ValueError for anything else."""
        if self.done:
            raise RuntimeError("episode is over; reset() first")
        if decision.action == "stop":
            self.done = True
            self.stop_reason = decision.reason or "planner stopped"
            return
        if decision.action != "move" or decision.target not in adjacency:
            raise ValueError(f"{decision.action} {decision.target!r} is not a move to a "
                             f"neighbour of {self.here}{detail}")
        self.heading = heading_to_target(decision.target)
        self.trajectory.append(decision.target)
        if self.steps >= self.max_steps:
            self.done = True
            self.stop_reason = f"step limit ({self.max_steps})"
