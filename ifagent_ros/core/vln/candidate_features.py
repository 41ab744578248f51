"""What a candidate move looks like to the rule planner: a few named features.

Each feature is a number about moving to one neighbour for the current sub-goal (the turn it
asks for, landmarks seen that way, stairs, detours); the planner scores a move as the weighted
sum. The weights in :data:`DEFAULT_WEIGHTS` were fitted on R2R train by conditional logistic
regression (:mod:`ifagent_ros.core.vln.tuning`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ifagent_ros.core.vln.instruction import TURN_ACTIONS, SubGoal
from ifagent_ros.core.vln.types import NavObservation, Neighbour, wrap_angle

if TYPE_CHECKING:
    from ifagent_ros.core.vln.planner import RulePlanner

DESIRED_TURN = {"turn_left": -math.pi / 2, "turn_right": math.pi / 2, "turn_around": math.pi}

FEATURES = (
    "straight",  # cos(relative heading), no turn pending
    "straight_start",  # cos(relative heading) on the first move (initial heading is random)
    "turn_start",  # match to the turn asked for on the first move
    "turn",  # match to the turn asked for now
    "turn_next",  # match to a turn one or two sub-goals ahead
    "side",  # match to the sub-goal's side ("the door on your left")
    "target",  # current sub-goal's landmark/room seen toward the neighbour
    "target_stop",  # same, while on the final stop sub-goal
    "exit_away",  # room being left seen toward the neighbour (expect < 0)
    "door",  # door-like objects toward the neighbour while exiting/entering/crossing
    "next_target",  # the following sub-goal's landmark toward the neighbour
    "stairs_match",  # +1 climbing/descending as asked, -1 the other way
    "stairs_next",  # same for a stairs sub-goal one or two ahead
    "stairs_unwanted",  # changing floor when no sub-goal near is about stairs
    "visited",
    "shortcut",  # reachable directly from an earlier place: a detour (routes are efficient)
    "progress",  # metres gained away from the start per metre of edge
    "clutter",  # how close the nearest object toward the neighbour is
    "edge_m",  # edge length in metres
)
# fitted on 3000 R2R train episodes (python -m ifagent_ros.core.vln.tuning)
DEFAULT_WEIGHTS: dict[str, float] = {
    "straight": 1.471, "straight_start": 0.266, "turn_start": 2.3, "turn": 1.899,
    "turn_next": 1.487, "side": 0.927, "target": 0.439, "target_stop": 0.89,
    "exit_away": -0.868, "door": 0.483, "next_target": 0.332, "stairs_match": 2.282,
    "stairs_next": 1.827, "stairs_unwanted": -0.365, "visited": -2.657, "shortcut": -5.045,
    "progress": 0.132, "clutter": -0.11, "edge_m": -0.163,
}
LOOKAHEAD = 2  # sub-goals ahead that a turn / floor change / landmark may skip to


def candidate_features(planner: RulePlanner, obs: NavObservation, n: Neighbour, goal: SubGoal
                       ) -> dict[str, float]:
    """The features of moving to neighbour ``n`` for the current sub-goal (see FEATURES)."""
    cfg, st = planner.config, planner.state
    rel = wrap_angle(n.heading - obs.heading)
    f = dict.fromkeys(FEATURES, 0.0)

    def turn_match(desired: float) -> float:
        return math.exp(-0.5 * (wrap_angle(rel - desired) / cfg.turn_sigma) ** 2)

    if st.pending_turn is None or st.turn_deferred:
        f["straight_start" if st.moves == 0 else "straight"] = math.cos(rel)
        upcoming = planner.upcoming(TURN_ACTIONS)
        if upcoming is not None:
            f["turn_next"] = turn_match(DESIRED_TURN[upcoming[1].action])
    else:
        f["turn_start" if st.moves == 0 else "turn"] = turn_match(st.pending_turn)
    if goal.side in ("left", "right"):
        f["side"] = turn_match(math.pi / 2 if goal.side == "right" else -math.pi / 2)
    dz = n.position[2] - obs.position[2]
    stairs_next = planner.upcoming({"go_up", "go_down"})
    if goal.action in ("go_up", "go_down"):
        f["stairs_match"] = stairs_sign(goal.action, dz, cfg.stairs_dz_m)
        f["target"] = planner.evidence(obs, "stairs", n.heading)
    else:
        if stairs_next is not None:
            f["stairs_next"] = stairs_sign(stairs_next[1].action, dz, cfg.stairs_dz_m)
        else:
            f["stairs_unwanted"] = float(abs(dz) > cfg.stairs_dz_m)
        if goal.target:
            toward = planner.evidence(obs, goal.target, n.heading)
            if goal.action == "exit":
                f["exit_away"] = toward
            elif goal.action == "stop_at":
                f["target_stop"] = toward
            else:
                f["target"] = toward
        if goal.action in ("exit", "go_into", "go_through"):
            f["door"] = planner.evidence(obs, "door", n.heading)
    nxt = planner.upcoming_target()
    if nxt:
        f["next_target"] = planner.evidence(obs, nxt, n.heading)
    f["visited"] = float(planner.map.places[n.place_id].visited)
    f["shortcut"] = float(any(planner.map.places[p].visited and p != obs.place_id
                              for p in planner.map.places[n.place_id].edges))
    start = planner.map.places[planner.map.trajectory[0]].position
    if n.distance > 1e-6:
        f["progress"] = (math.dist(n.position[:2], start[:2])
                         - math.dist(obs.position[:2], start[:2])) / n.distance
    toward = [o.closeness for o in obs.objects
              if abs(wrap_angle(o.heading - n.heading)) <= cfg.object_half_width]
    f["clutter"] = min(1.0, 3.0 * max(toward, default=0.0))
    f["edge_m"] = n.distance
    return f


def squash(closeness: float) -> float:
    """Closeness (0..1, mostly < 0.3) -> 0..1 evidence; seeing it at all counts most."""
    return 0.0 if closeness <= 0.0 else min(1.0, 0.5 + 2.0 * closeness)


def stairs_sign(action: str, dz: float, threshold: float) -> float:
    """+1 when ``dz`` goes the way ``action`` (go_up / go_down) asks, -1 the other way."""
    sign = 1.0 if action == "go_up" else -1.0
    if sign * dz > threshold:
        return 1.0
    return -1.0 if -sign * dz > threshold else 0.0
