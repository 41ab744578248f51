"""Naive navigation baselines: stop at the start, a seeded random walk, and "go to the nearest
place showing the last-mentioned object" (breadth-first over the online map)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from ifagent_ros.core.vln.instruction import InstructionParser
from ifagent_ros.core.vln.lexicon import Lexicon
from ifagent_ros.core.vln.topo_map import TopoMap
from ifagent_ros.core.vln.types import NavDecision, NavObservation

if TYPE_CHECKING:
    from ifagent_ros.core.vln.planners import PlannerOptions


class StopPlanner:
    """Stops where it starts (NE of doing nothing)."""

    name = "stop"

    def reset(self, instruction: str, observation: NavObservation) -> None:
        pass

    def act(self, observation: NavObservation) -> NavDecision:
        return NavDecision("stop", reason="stop-at-start baseline")


class RandomWalkPlanner:
    """``steps`` random moves (unvisited neighbours first), then stop; seeded per episode.

    Five moves is about the length of an R2R path (4-6 edges), as in the R2R paper's random
    baseline.
    """

    name = "random"

    def __init__(self, seed: int = 0, steps: int = 5) -> None:
        self.seed = seed
        self.steps = steps
        self._episode = 0
        self._rng = random.Random(seed)
        self._visited: set[str] = set()
        self._moves = 0

    @classmethod
    def from_options(cls, options: PlannerOptions) -> RandomWalkPlanner:
        return cls(seed=options.seed)

    def reset(self, instruction: str, observation: NavObservation) -> None:
        self._rng = random.Random(f"{self.seed}:{self._episode}")
        self._episode += 1
        self._visited = {observation.place_id}
        self._moves = 0

    def act(self, observation: NavObservation) -> NavDecision:
        self._visited.add(observation.place_id)
        if self._moves >= self.steps or not observation.neighbours:
            return NavDecision("stop", reason=f"random walk of {self._moves} moves done")
        fresh = [n for n in observation.neighbours if n.place_id not in self._visited]
        choice = self._rng.choice(fresh or list(observation.neighbours))
        self._moves += 1
        return NavDecision("move", target=choice.place_id, reason="random move")


class NearestObjectPlanner:
    """Explores breadth-first (nearest unvisited place on the map first) until it stands at a
    place showing the instruction's last-mentioned landmark, then stops there."""

    name = "nearest-object"

    def __init__(self, lexicon: Lexicon | None = None, max_moves: int = 15,
                 min_match: float = 0.75) -> None:
        self.lexicon = lexicon or Lexicon.default()
        self.min_match = min_match  # the object itself (hand-written lexicon), not associations
        self.parser = InstructionParser(self.lexicon)
        self.max_moves = max_moves
        self.target: str | None = None
        self.map = TopoMap()
        self._moves = 0

    @classmethod
    def from_options(cls, options: PlannerOptions) -> NearestObjectPlanner:
        if options.max_moves is None:
            return cls()
        return cls(max_moves=options.max_moves)

    def reset(self, instruction: str, observation: NavObservation) -> None:
        self.target = self.parser.parse(instruction or "").last_landmark
        self.map = TopoMap()
        self._moves = 0

    def act(self, observation: NavObservation) -> NavDecision:
        self.map.update(observation)
        if self.target is None:
            return NavDecision("stop", reason="no landmark in the instruction")
        if any(self.lexicon.match(self.target, o.name) >= self.min_match
               for o in observation.objects):
            return NavDecision("stop", subgoal=f"find the {self.target}",
                               reason=f"the {self.target} is visible here")
        if self._moves >= self.max_moves:
            return NavDecision("stop", reason=f"move limit {self.max_moves}")
        dist, _ = self.map.shortest_paths(observation.place_id)
        frontier = [p for p in self.map.frontier() if p.place_id in dist]
        if not frontier:
            return NavDecision("stop", reason=f"the {self.target} was never seen")
        nearest = min(frontier, key=lambda p: (dist[p.place_id], p.index))
        route = self.map.path(observation.place_id, nearest.place_id)
        self._moves += 1
        return NavDecision("move", target=route[1], subgoal=f"find the {self.target}",
                           reason="breadth-first search for the last-mentioned landmark")
