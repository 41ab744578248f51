"""A small synthetic building in the R2R folder format, shared by the VLN tests.

Layout (metres, +y is heading 0, headings clockwise)::

            A (0, 2)  bed ahead of the start, and a mini-fridge (a decoy "refrigerator")
            |
            S (0, 0)  start, doorway behind
            |
    W ----- B (0, -2) ----- D (2, -2) ----- G (4, -2) ----- K (6, -2)   kitchen: fridge
            |               |               |               |
            F (0, -4)       H (2, -4)       L (4, 0)        M (8, -2)
            |               |
            P (0, -6)       Q (2, -6)       plus side rooms: X (-2, -4) off W, V (-4, -2) off W

The agent starts at S facing the bed (heading 0). "Exit the bedroom, turn left and walk past
the couch, then stop at the fridge in the kitchen": S -> B (leave the bed behind), turn left
(facing -y, left is +x) -> D, past the couch seen ahead from D -> G -> K, where the fridge is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

INSTRUCTION = ("Exit the bedroom, turn left and walk past the couch, then stop at the fridge "
               "in the kitchen.")
ROUTE = ["S", "B", "D", "G", "K"]

POSITIONS = {
    "S": (0, 0), "A": (0, 2), "B": (0, -2), "W": (-2, -2),
    "D": (2, -2), "G": (4, -2), "K": (6, -2), "F": (0, -4), "H": (2, -4), "L": (4, 0),
    "M": (8, -2), "P": (0, -6), "Q": (2, -6), "X": (-2, -4), "V": (-4, -2),
}
EDGES = [("S", "A"), ("S", "B"), ("B", "W"), ("B", "D"), ("B", "F"),
         ("D", "G"), ("D", "H"), ("G", "K"), ("G", "L"), ("K", "M"), ("F", "P"), ("H", "Q"),
         ("W", "X"), ("W", "V")]


def _view(heading_deg: float) -> int:
    """Level-row panorama view index looking at ``heading_deg``."""
    return 12 + round(heading_deg / 30.0) % 12


def _obj(name: str, heading_deg: float, closeness: float, oid: str) -> dict:
    return {"name": name, "id": oid, "views": [_view(heading_deg)],
            "max_area_frac": closeness}


OBJECTS = {
    "S": [_obj("bed", 0, 0.3, "1"), _obj("nightstand", 30, 0.1, "2"),
          _obj("doorway", 180, 0.2, "11")],
    "A": [_obj("bed", 0, 0.5, "1"), _obj("refrigerator", 90, 0.2, "9")],
    "D": [_obj("couch", 90, 0.08, "3")],
    "G": [_obj("couch", 0, 0.25, "3"), _obj("kitchen cabinet", 90, 0.05, "4")],
    "K": [_obj("refrigerator", 90, 0.45, "5"), _obj("kitchen cabinet", 0, 0.2, "4"),
          _obj("stove", 180, 0.1, "6")],
    "H": [_obj("towel", 180, 0.2, "7")],
    "W": [_obj("picture", 270, 0.1, "8"), _obj("ghost", 0, 0.0, "10") | {"views": []}],
}


def write_world(root: Path, instructions: list[str] | None = None, split: str = "toy") -> Path:
    (root / "scans").mkdir(parents=True, exist_ok=True)
    nodes = {v: {"pos": [float(x), float(y), 1.5], "objects": OBJECTS.get(v, [])}
             for v, (x, y) in POSITIONS.items()}
    edges = [[a, b, math.dist(POSITIONS[a], POSITIONS[b])] for a, b in EDGES]
    (root / "scans" / "toyhouse.json").write_text(
        json.dumps({"scan": "toyhouse", "nodes": nodes, "edges": edges}))
    episodes = [{"scan": "toyhouse", "path_id": 1, "path": ROUTE, "heading": 0.0,
                 "distance": 8.0, "instructions": instructions or [INSTRUCTION]}]
    (root / f"R2R_{split}.json").write_text(json.dumps(episodes))
    return root
