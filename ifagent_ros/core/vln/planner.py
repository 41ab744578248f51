"""The default navigation planner: rule-based, no model.

It decomposes the instruction into sub-goals (:mod:`instruction`), keeps an online topological
map (:mod:`topo_map`) and a plan (the current sub-goal and what it is waiting for) that it
revises every step:

* each neighbour is scored against the current sub-goal as a weighted sum of a few features
  (:mod:`candidate_features`): the turn asked for, relative to the agent's heading (deferred
  while there is no opening that way), keeping straight, objects matching the landmark or room
  seen in the neighbour's direction (weighted by closeness), climbing or descending for stairs,
  the next sub-goals' turn and landmark, and detours (a place already reachable from an earlier
  one: described routes are efficient);
* a sub-goal is done when its condition holds (turn taken, landmark close, landmark passed,
  floor changed, room left), when a move did what a later sub-goal asks (skip ahead), or when
  it has used its share of the expected route length;
* it stops when the last sub-goal's landmark is close, when the expected route length (from the
  instruction, fitted on R2R train) is used up, or when the map has nothing left to explore;
  at a dead end it backtracks along the map to the nearest unvisited place.

Every decision carries the sub-goal, the plan and a reason; it only moves to a current neighbour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from ifagent_ros.core.vln.candidate_features import (
    DEFAULT_WEIGHTS,
    DESIRED_TURN,
    FEATURES,
    LOOKAHEAD,
    candidate_features,
    squash,
)
from ifagent_ros.core.vln.instruction import (
    MOTION_ACTIONS,
    TURN_ACTIONS,
    InstructionParser,
    ParsedInstruction,
    SubGoal,
)
from ifagent_ros.core.vln.lexicon import Lexicon
from ifagent_ros.core.vln.topo_map import TopoMap
from ifagent_ros.core.vln.types import NavDecision, NavObservation, Neighbour, wrap_angle


@dataclass(frozen=True)
class RulePlannerConfig:
    # thresholds searched on R2R train (tuning.py); expected route length (m) =
    # base + per_word * words + per_motion * motion sub-goals
    length_base_m: float = 4.325
    length_per_word_m: float = 0.056
    length_per_motion_m: float = 0.659
    length_max_m: float = 16.0
    stop_factor: float = 1.0  # stop once travelled >= stop_factor * expected length
    subgoal_budget_factor: float = 0.5  # a sub-goal may use this share x its even share
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    turn_sigma: float = math.radians(45.0)
    object_half_width: float = math.radians(40.0)
    # landmark closeness (R2R max_area_frac) that counts as "reached"
    reached_closeness: float = 0.157
    stop_closeness: float = 0.091
    stairs_dz_m: float = 0.25
    skip_turn_tolerance: float = math.radians(40.0)
    defer_turn_tolerance: float = math.radians(50.0)  # 0: always turn on the next move
    max_moves: int = 30

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown feature weights: {sorted(unknown)}")


@dataclass
class PlanState:
    """The plan kept across steps."""

    subgoal_index: int = 0
    subgoal_moves: int = 0
    subgoal_metres: float = 0.0
    target_seen: bool = False  # current sub-goal's target seen at some place
    climbed: bool = False
    travelled_m: float = 0.0
    moves: int = 0
    pending_turn: float | None = None  # desired relative heading for the next move
    turn_deferred: bool = False  # no opening that way here: keep straight, turn later
    history: list[str] = field(default_factory=list)


class RulePlanner:
    """Implements :class:`~ifagent_ros.core.vln.types.Planner`."""

    name = "rule"

    def __init__(self, config: RulePlannerConfig | None = None,
                 lexicon: Lexicon | None = None) -> None:
        self.config = config or RulePlannerConfig()
        self.lexicon = lexicon or Lexicon.default()
        self.parser = InstructionParser(self.lexicon)
        self.map = TopoMap()
        self.parsed = ParsedInstruction("", ())
        self.state = PlanState()
        self.expected_length_m = self.config.length_base_m

    # ------------------------------------------------------------------ interface
    def reset(self, instruction: str, observation: NavObservation) -> None:
        self.parsed = self.parser.parse(instruction or "")
        self.map = TopoMap()
        self.map.update(observation)
        self.state = PlanState()
        self.expected_length_m = self.expected_length(self.parsed)
        self._last_obs = observation

    def act(self, observation: NavObservation) -> NavDecision:
        self.observe(observation)
        reason = self.stop_reason(observation)
        if reason is not None:
            return self._stop(reason)
        return self._move(observation, self.current_subgoal)

    def observe(self, observation: NavObservation) -> None:
        """Updates the map, the distance travelled and the sub-goal progress."""
        st = self.state
        last = self.map.trajectory[-1]
        if observation.place_id != last:
            prev = self.map.places[last]
            metres = prev.edges.get(observation.place_id, 0.0)
            st.travelled_m += metres
            st.subgoal_metres += metres
            dz = observation.position[2] - prev.position[2]
            goal = self.current_subgoal
            if goal is not None and goal.action in ("go_up", "go_down") and \
                    (dz if goal.action == "go_up" else -dz) > self.config.stairs_dz_m:
                st.climbed = True
            self._skip_ahead(wrap_angle(observation.heading - self._last_obs.heading), dz)
        self.map.update(observation)
        self._last_obs = observation
        if self.parsed.subgoals:
            self._advance(observation)
        st.turn_deferred = False
        if st.pending_turn is not None and st.moves > 0 and \
                self.config.defer_turn_tolerance > 0 and st.subgoal_metres < \
                self._subgoal_budget():
            st.turn_deferred = not any(
                abs(wrap_angle(n.heading - observation.heading - st.pending_turn))
                < self.config.defer_turn_tolerance for n in self._open_neighbours(observation))

    def stop_reason(self, observation: NavObservation) -> str | None:
        """Why to stop here, or None to move on."""
        st, cfg = self.state, self.config
        if not self.parsed.subgoals or all(g.action == "stop_at" and g.target is None
                                           for g in self.parsed.subgoals):
            if self.parsed.unknown_nouns:
                words = ", ".join(self.parsed.unknown_nouns[:5])
                return f"nothing I can follow in the instruction (unknown words: {words}); " \
                       "staying here"
            return "empty instruction: nothing to follow, staying here"
        goal = self.current_subgoal
        if goal is None:
            return "all sub-goals done"
        if goal.action == "stop_at":
            if goal.target is None:
                return "instruction ends here"
            close = self.target_closeness(observation, goal.target)
            if close > 0.0 and close >= cfg.stop_closeness:
                return f"the {goal.target} is close: stopping at it"
        if st.travelled_m >= cfg.stop_factor * self.expected_length_m:
            targets = dict.fromkeys(t for t in (goal.target, self.parsed.subgoals[-1].target)
                                    if t and not self._ever_seen(t))
            unseen = f"; never seen: {', '.join(targets)}" if targets else ""
            return (f"expected route length {self.expected_length_m:.1f} m used up at "
                    f"sub-goal '{goal.describe()}'{unseen}")
        if st.moves >= cfg.max_moves:
            return f"move limit {cfg.max_moves}"
        if not observation.neighbours:
            return "no neighbour to move to"
        return None

    def _open_neighbours(self, obs: NavObservation) -> list[Neighbour]:
        """Unvisited neighbours not reachable straight from an earlier place."""
        return [n for n in obs.neighbours if not self.map.places[n.place_id].visited
                and not any(self.map.places[p].visited and p != obs.place_id
                            for p in self.map.places[n.place_id].edges)]

    def _ever_seen(self, term: str) -> bool:
        return any(self.lexicon.match(term, o.name) > 0 for p in self.map.places.values()
                   for o in p.objects)

    def commit_move(self) -> None:
        """Bookkeeping of a move (the environment reports where it led on the next observe)."""
        st = self.state
        st.moves += 1
        if st.turn_deferred:
            return  # the turn is still to come
        st.subgoal_moves += 1
        st.pending_turn = None

    # ------------------------------------------------------------------ plan
    @property
    def current_subgoal(self) -> SubGoal | None:
        goals = self.parsed.subgoals
        return goals[self.state.subgoal_index] if self.state.subgoal_index < len(goals) else None

    def expected_length(self, parsed: ParsedInstruction) -> float:
        cfg = self.config
        words = len(parsed.text.split())
        motions = sum(1 for g in parsed.subgoals if g.action in MOTION_ACTIONS)
        est = cfg.length_base_m + cfg.length_per_word_m * words + cfg.length_per_motion_m * motions
        return min(cfg.length_max_m, est)

    def plan_text(self) -> str:
        goals = self.parsed.subgoals
        k = self.state.subgoal_index
        done = "; ".join(g.describe() for g in goals[:k]) or "nothing yet"
        todo = "; ".join(g.describe() for g in goals[k:]) or "nothing"
        return (f"done: {done}. now: {todo}. travelled {self.state.travelled_m:.1f} of "
                f"~{self.expected_length_m:.1f} m")

    def _next_subgoal(self, reason: str) -> None:
        st = self.state
        goal = self.current_subgoal
        st.history.append(f"{goal.describe() if goal else '?'}: {reason}")
        st.subgoal_index += 1
        st.subgoal_moves = 0
        st.subgoal_metres = 0.0
        st.target_seen = False
        st.climbed = False
        nxt = self.current_subgoal
        st.pending_turn = DESIRED_TURN.get(nxt.action) if nxt is not None else None

    def _skip_ahead(self, turned: float, dz: float) -> None:
        """A move that did what a later sub-goal asks (a turn, a floor change) completes the
        sub-goals before it: progress follows what was actually done."""
        goal = self.current_subgoal
        if goal is None or goal.action in TURN_ACTIONS or goal.action in ("go_up", "go_down"):
            return
        cfg = self.config
        if abs(dz) > cfg.stairs_dz_m:
            want = "go_up" if dz > 0 else "go_down"
            found = self.upcoming({want})
            if found is not None:
                while self.state.subgoal_index < found[0]:
                    self._next_subgoal(f"skipped: changed floor ({want})")
                self.state.climbed = True
                return
        found = self.upcoming(TURN_ACTIONS)
        if found is not None and abs(wrap_angle(turned - DESIRED_TURN[found[1].action])) < \
                cfg.skip_turn_tolerance:
            while self.state.subgoal_index <= found[0]:
                self._next_subgoal(f"skipped: turned ({found[1].action})")

    def _subgoal_budget(self) -> float:
        motions = max(1, sum(1 for g in self.parsed.subgoals if g.action in MOTION_ACTIONS))
        return self.config.subgoal_budget_factor * self.expected_length_m / motions

    def _advance(self, obs: NavObservation) -> None:
        """Marks sub-goals done while their condition holds here."""
        cfg, st = self.config, self.state
        for _ in range(len(self.parsed.subgoals)):
            goal = self.current_subgoal
            if goal is None or goal.action == "stop_at":
                return
            if st.pending_turn is None and goal.action in TURN_ACTIONS:
                st.pending_turn = DESIRED_TURN[goal.action]
            close = self.target_closeness(obs, goal.target) if goal.target else 0.0
            if close > 0.0:
                st.target_seen = True
            done = ""
            if goal.action in TURN_ACTIONS:
                done = "turned" if st.subgoal_moves >= 1 else ""
            elif goal.action == "forward":
                done = "moved on" if st.subgoal_moves >= 1 else ""
            elif goal.action in ("go_up", "go_down"):
                if st.climbed and not self._stairs_candidates(obs, goal.action):
                    done = "floor changed"
            elif goal.action == "exit":
                done = "left the room" if st.subgoal_moves >= 1 and close < 0.05 else ""
            elif goal.action in ("go_to", "go_into", "go_through"):
                done = f"{goal.target} reached" if 0 < close and cfg.reached_closeness <= close \
                    else ""
            elif goal.action == "go_past":
                done = f"{goal.target} passed" if st.target_seen and close < 0.02 and \
                    st.subgoal_moves >= 1 else ""
            if not done and goal.action in MOTION_ACTIONS and \
                    st.subgoal_metres >= self._subgoal_budget():
                done = "budget used"
            if not done:
                return
            self._next_subgoal(done)

    # ------------------------------------------------------------------ scoring
    def target_closeness(self, obs: NavObservation, term: str | None,
                          heading: float | None = None) -> float:
        """Best match x closeness of ``term`` among objects seen here (optionally toward)."""
        if term is None:
            return 0.0
        best = 0.0
        for o in obs.objects:
            if heading is not None and abs(wrap_angle(o.heading - heading)) > \
                    self.config.object_half_width:
                continue
            m = self.lexicon.match(term, o.name)
            if m > 0.0:
                best = max(best, m * max(o.closeness, 0.01))
        return best

    def _stairs_candidates(self, obs: NavObservation, action: str) -> list[Neighbour]:
        sign = 1.0 if action == "go_up" else -1.0
        return [n for n in obs.neighbours
                if sign * (n.position[2] - obs.position[2]) > self.config.stairs_dz_m
                and not self.map.places[n.place_id].visited]

    def evidence(self, obs: NavObservation, term: str | None, heading: float) -> float:
        """0..1: how much ``term`` is seen toward ``heading`` (stairs also from floor changes)."""
        ev = squash(self.target_closeness(obs, term, heading))
        if term == "stairs":
            for n in obs.neighbours:
                if abs(n.position[2] - obs.position[2]) > self.config.stairs_dz_m and \
                        abs(wrap_angle(n.heading - heading)) <= self.config.object_half_width:
                    ev = 1.0
        return ev

    def upcoming(self, actions: frozenset[str] | set[str]) -> tuple[int, SubGoal] | None:
        """The first sub-goal among the next LOOKAHEAD whose action is in ``actions``."""
        k = self.state.subgoal_index
        for j, g in enumerate(self.parsed.subgoals[k + 1:k + 1 + LOOKAHEAD], start=k + 1):
            if g.action in actions:
                return j, g
        return None

    def features(self, obs: NavObservation, n: Neighbour, goal: SubGoal) -> dict[str, float]:
        return candidate_features(self, obs, n, goal)

    def score(self, obs: NavObservation, n: Neighbour, goal: SubGoal) -> float:
        w = self.config.weights
        return sum(w.get(k, 0.0) * v for k, v in self.features(obs, n, goal).items())

    def upcoming_target(self) -> str | None:
        goals = self.parsed.subgoals
        for g in goals[self.state.subgoal_index + 1:]:
            if g.target and g.action != "exit":
                return g.target
        return None

    # ------------------------------------------------------------------ decisions
    def _move(self, obs: NavObservation, goal: SubGoal) -> NavDecision:
        unvisited = [n for n in obs.neighbours if not self.map.places[n.place_id].visited]
        if not unvisited:
            step = self._backtrack_step(obs)
            if step is None:
                return self._stop("explored everything reachable; stopping here")
            target, reason = step, "dead end: backtracking to the nearest unvisited place"
        else:
            scored = sorted(((self.score(obs, n, goal), n.place_id) for n in obs.neighbours),
                            reverse=True)
            target = scored[0][1]
            reason = f"best match for '{goal.describe()}' (score {scored[0][0]:.2f})"
        self.commit_move()
        return NavDecision("move", target=target, subgoal=goal.describe(), reason=reason,
                           extras={"plan": self.plan_text(),
                                   "expected_length_m": self.expected_length_m})

    def _backtrack_step(self, obs: NavObservation) -> str | None:
        dist, _ = self.map.shortest_paths(obs.place_id)
        frontier = [p for p in self.map.frontier() if p.place_id in dist]
        if not frontier:
            return None
        nearest = min(frontier, key=lambda p: dist[p.place_id])
        route = self.map.path(obs.place_id, nearest.place_id)
        return route[1] if len(route) > 1 else None

    def _stop(self, reason: str) -> NavDecision:
        goal = self.current_subgoal
        return NavDecision("stop", subgoal=goal.describe() if goal else "", reason=reason,
                           extras={"plan": self.plan_text()})
