"""A graph environment over the R2R folder format (no images, objects per viewpoint).

Folder layout (see ``../shared/data/r2r/README.md``)::

    R2R_<split>.json      instructions: scan, path_id, path, heading, distance, instructions
    scans/<scan>.json     nodes: id -> pos [x, y, z], objects [{name, id, views, max_area_frac}]
                          edges: [a, b, metres]

The agent starts at ``path[0]`` facing ``heading``, sees the neighbouring viewpoints and the
objects annotated near its viewpoint with their absolute headings (panorama view ``v``: heading
index ``v % 12``, 30 degree steps clockwise from +y), moves along edges (its heading becomes the
direction of the edge) and stops. An object with no view is not visible and is not reported.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ifagent_ros.core.vln.graph_walk import GraphNavEnv
from ifagent_ros.core.vln.types import SeenObject

VIEW_HEADING_STEP = math.radians(30.0)


def default_data_dir() -> Path:
    """``$IFAGENT_R2R_DATA``, else ``../shared/data/r2r`` beside the repository."""
    env = os.environ.get("IFAGENT_R2R_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[4] / "shared" / "data" / "r2r"


class R2RDataError(ValueError):
    """Missing or malformed R2R folder, split file or scan."""


@dataclass(frozen=True)
class R2REpisode:
    instr_id: str  # "<path_id>_<k>" as in R2R
    scan: str
    path: tuple[str, ...]
    heading: float
    instruction: str
    distance: float = 0.0
    path_id: int = -1

    @property
    def episode_id(self) -> str:
        return self.instr_id


class R2RScan:
    """One building: viewpoint positions, visible objects, weighted edges, shortest distances."""

    def __init__(self, scan: str, raw: dict) -> None:
        try:
            nodes = raw["nodes"]
            edges = raw["edges"]
        except (KeyError, TypeError) as exc:
            raise R2RDataError(f"scan {scan}: expected 'nodes' and 'edges'") from exc
        self.scan = scan
        self.positions: dict[str, tuple[float, float, float]] = {}
        self.objects: dict[str, tuple[SeenObject, ...]] = {}
        for vid, node in nodes.items():
            pos = tuple(float(v) for v in node["pos"])
            if len(pos) != 3 or not all(math.isfinite(v) for v in pos):
                raise R2RDataError(f"scan {scan}: viewpoint {vid} has a bad position {pos}")
            self.positions[vid] = pos  # type: ignore[assignment]
            self.objects[vid] = tuple(_seen(o) for o in node.get("objects", ()) if o.get("views"))
        self.adjacency: dict[str, dict[str, float]] = {v: {} for v in self.positions}
        for a, b, metres in edges:
            if a not in self.positions or b not in self.positions:
                raise R2RDataError(f"scan {scan}: edge {a}-{b} names an unknown viewpoint")
            self.adjacency[a][b] = float(metres)
            self.adjacency[b][a] = float(metres)
        self._distances: dict[str, dict[str, float]] | None = None

    @property
    def distances(self) -> dict[str, dict[str, float]]:
        """All-pairs shortest-path metres over the navigation graph (computed once)."""
        if self._distances is None:
            import networkx as nx

            graph = nx.Graph()
            graph.add_nodes_from(self.positions)
            for a, nbrs in self.adjacency.items():
                for b, w in nbrs.items():
                    graph.add_edge(a, b, weight=w)
            self._distances = {a: dict(d) for a, d in
                               nx.all_pairs_dijkstra_path_length(graph, weight="weight")}
        return self._distances


def _seen(obj: dict) -> SeenObject:
    """Heading = circular mean of the object's panorama heading indices."""
    indices = {int(v) % 12 for v in obj["views"]}
    sx = sum(math.sin(i * VIEW_HEADING_STEP) for i in indices)
    cy = sum(math.cos(i * VIEW_HEADING_STEP) for i in indices)
    heading = math.atan2(sx, cy) if abs(sx) + abs(cy) > 1e-9 else min(indices) * VIEW_HEADING_STEP
    return SeenObject(name=str(obj["name"]).strip().lower(), heading=heading,
                      closeness=float(obj.get("max_area_frac", 0.0)),
                      object_id=str(obj.get("id", "")))


class R2RData:
    """An R2R-format folder: split files and scans (loaded on demand, cached)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise R2RDataError(f"R2R data folder not found: {self.root}")
        if not (self.root / "scans").is_dir():
            raise R2RDataError(f"{self.root} has no scans/ folder (expected scans/<scan>.json)")
        self._scans: dict[str, R2RScan] = {}

    def splits(self) -> list[str]:
        return sorted(p.stem[len("R2R_"):] for p in self.root.glob("R2R_*.json"))

    def episodes(self, split: str, limit: int | None = None) -> list[R2REpisode]:
        """One episode per instruction, in file order (``limit`` counts episodes)."""
        path = self.root / f"R2R_{split}.json"
        if not path.is_file():
            have = ", ".join(self.splits()) or "none"
            raise R2RDataError(f"split file not found: {path} (have: {have})")
        try:
            items = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise R2RDataError(f"{path}: not valid JSON ({exc})") from exc
        out: list[R2REpisode] = []
        for item in items:
            for k, text in enumerate(item["instructions"]):
                out.append(R2REpisode(
                    instr_id=f"{item['path_id']}_{k}", scan=item["scan"],
                    path=tuple(item["path"]), heading=float(item["heading"]),
                    instruction=text, distance=float(item.get("distance", 0.0)),
                    path_id=int(item["path_id"])))
                if limit is not None and len(out) >= limit:
                    return out
        return out

    def scan(self, name: str) -> R2RScan:
        if name not in self._scans:
            path = self.root / "scans" / f"{name}.json"
            if not path.is_file():
                raise R2RDataError(f"scan file not found: {path}")
            try:
                raw = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise R2RDataError(f"{path}: not valid JSON ({exc})") from exc
            self._scans[name] = R2RScan(name, raw)
        return self._scans[name]


@dataclass(frozen=True)
class R2REnvConfig:
    max_steps: int = 15  # moves per episode; the episode ends (stop) after that many


class R2RGraphEnv(GraphNavEnv[R2RScan]):
    """:class:`~ifagent_ros.core.vln.types.NavEnv` over one R2R scan at a time."""

    def __init__(self, data: R2RData, config: R2REnvConfig | None = None) -> None:
        self.data = data
        self.config = config or R2REnvConfig()
        super().__init__(self.config.max_steps)

    @property
    def scan(self) -> R2RScan:
        return self._current()

    def _enter(self, episode: R2REpisode) -> R2RScan:
        scan = self.data.scan(episode.scan)
        if not episode.path or episode.path[0] not in scan.positions:
            raise R2RDataError(f"episode {episode.instr_id}: start viewpoint not in scan "
                               f"{episode.scan}")
        return scan

    def _position(self, place_id: str) -> tuple[float, float, float]:
        return self.scan.positions[place_id]

    def _edges(self, place_id: str) -> dict[str, float]:
        return self.scan.adjacency[place_id]

    def _objects(self, place_id: str) -> tuple[SeenObject, ...]:
        return self.scan.objects[place_id]

    @property
    def distances(self) -> dict[str, dict[str, float]]:
        return self.scan.distances
