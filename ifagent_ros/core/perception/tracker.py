"""Multi-object tracker: stable ids for objects across frames (scipy's Hungarian assignment).

Each track predicts its position with a constant velocity; detections are assigned to tracks by
minimum total cost (distance plus penalties for a different label or colour) within a gate. An
unmatched track is held, with its last position, for ``max_missed_s`` (brief occlusion) and then
dropped. Label and colour are votes over recent frames, so one misread frame does not rename an
object. A stamp that goes backwards (a bag looping) resets the tracker.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class TrackerConfig:
    gate: float = 0.06  # metres between prediction and detection, beyond: a different object
    max_missed_s: float = 1.0  # hold an unseen track this long
    label_penalty: float = 0.02  # metres of extra cost for a different label
    color_penalty: float = 0.03  # ... for a different colour
    velocity_smoothing: float = 0.5  # weight of the new velocity estimate
    max_dt: float = 0.5  # longer gaps do not extrapolate velocity
    vote_decay: float = 0.85  # per update; recent frames count more
    id_prefix: str = "obj_"


@dataclass
class Detection3D:
    position: np.ndarray
    size: np.ndarray
    label: str
    color: str
    confidence: float
    label_confidence: float = 1.0
    color_confidence: float = 1.0


@dataclass
class Track:
    id: str
    position: np.ndarray
    size: np.ndarray
    velocity: np.ndarray
    last_seen: float
    hits: int = 1
    confidence: float = 1.0
    label_votes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    color_votes: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def label(self) -> str:
        return max(self.label_votes.items(), key=lambda kv: kv[1])[0]

    @property
    def color(self) -> str:
        return max(self.color_votes.items(), key=lambda kv: kv[1])[0]


class Tracker:
    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.tracks: list[Track] = []
        self._ids = itertools.count()
        self._stamp: float | None = None
        self.assignment: dict[int, Track] = {}  # detection index -> its track, last update

    def reset(self) -> None:
        self.tracks = []
        self._stamp = None

    def _vote(self, track: Track, det: Detection3D) -> None:
        cfg = self.config
        for votes, key, w in ((track.label_votes, det.label, det.label_confidence),
                              (track.color_votes, det.color, det.color_confidence)):
            for k in list(votes):
                votes[k] *= cfg.vote_decay
            votes[key] += max(w, 0.05)

    def update(self, detections: list[Detection3D], stamp: float) -> list[Track]:
        """Assign ``detections`` (seen at ``stamp``) and return all live tracks."""
        cfg = self.config
        if self._stamp is not None and stamp < self._stamp:
            self.reset()
        self._stamp = stamp
        predicted = [t.position + t.velocity * min(stamp - t.last_seen, cfg.max_dt)
                     for t in self.tracks]
        matched_tracks: set[int] = set()
        matched_dets: set[int] = set()
        self.assignment = {}
        if self.tracks and detections:
            cost = np.zeros((len(self.tracks), len(detections)))
            for i, t in enumerate(self.tracks):
                for j, d in enumerate(detections):
                    c = float(np.linalg.norm(predicted[i] - d.position))
                    c += cfg.label_penalty * (d.label != t.label)
                    c += cfg.color_penalty * (d.color != t.color)
                    cost[i, j] = c
            big = 1e6
            gated = np.where(cost <= cfg.gate, cost, big)
            rows, cols = linear_sum_assignment(gated)
            for i, j in zip(rows, cols, strict=True):
                if gated[i, j] >= big:
                    continue
                t, d = self.tracks[i], detections[j]
                elapsed = stamp - t.last_seen
                if 0.0 < elapsed <= cfg.max_dt:
                    v = (d.position - t.position) / elapsed
                    t.velocity = (cfg.velocity_smoothing * v
                                  + (1.0 - cfg.velocity_smoothing) * t.velocity)
                else:
                    t.velocity = np.zeros(3)
                t.position = d.position.copy()
                t.size = d.size.copy()
                t.last_seen = stamp
                t.hits += 1
                t.confidence = d.confidence
                self._vote(t, d)
                matched_tracks.add(i)
                matched_dets.add(j)
                self.assignment[j] = t
        kept = [t for i, t in enumerate(self.tracks)
                if i in matched_tracks or stamp - t.last_seen <= cfg.max_missed_s]
        for j, d in enumerate(detections):
            if j in matched_dets:
                continue
            t = Track(id=f"{cfg.id_prefix}{next(self._ids)}", position=d.position.copy(),
                      size=d.size.copy(), velocity=np.zeros(3), last_seen=stamp,
                      confidence=d.confidence)
            self._vote(t, d)
            kept.append(t)
            self.assignment[j] = t
        self.tracks = kept
        return list(self.tracks)
