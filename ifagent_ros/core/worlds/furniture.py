"""Furniture catalogue: default size, shape, colour and placement of each landmark label.

Sizes are typical catalogue dimensions in metres, [width (object x), depth (object y), height];
an object's *front* faces its -y axis before ``yaw`` (so a sofa with yaw 0 standing against a
north wall faces south, into the room). ``where`` says how the generator places it: ``wall``
(back against a wall), ``centre`` (free-standing near the middle), ``corner``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Furniture:
    size: tuple[float, float, float]
    shape: Literal["box", "cylinder"] = "box"
    color: str = "brown"  # a name of sim/scene.py's COLOR_PALETTE
    blocks: bool = True  # an obstacle for the base
    where: Literal["wall", "centre", "corner"] = "wall"


FURNITURE: dict[str, Furniture] = {
    "sofa": Furniture((2.0, 0.9, 0.85), color="blue"),
    "armchair": Furniture((0.9, 0.85, 0.9), color="green"),
    "coffee table": Furniture((1.1, 0.6, 0.45), where="centre"),
    "tv": Furniture((1.3, 0.45, 1.2), color="black"),  # on its stand
    "bookshelf": Furniture((1.0, 0.35, 1.9)),
    "fireplace": Furniture((1.4, 0.5, 1.1), color="gray"),
    "piano": Furniture((1.5, 0.6, 1.2), color="black"),
    "bed": Furniture((1.6, 2.0, 0.55), color="white"),
    "nightstand": Furniture((0.45, 0.4, 0.55)),
    "wardrobe": Furniture((1.2, 0.6, 2.0), color="white"),
    "dresser": Furniture((1.0, 0.5, 0.9)),
    "desk": Furniture((1.3, 0.65, 0.75)),
    "chair": Furniture((0.5, 0.5, 0.9), color="black", where="centre"),
    "fridge": Furniture((0.7, 0.7, 1.8), color="white"),
    "stove": Furniture((0.6, 0.6, 0.9), color="black"),
    "kitchen counter": Furniture((1.8, 0.6, 0.9), color="gray"),
    "sink": Furniture((0.6, 0.5, 0.9), color="white"),
    "dining table": Furniture((1.6, 0.9, 0.75), where="centre"),
    "toilet": Furniture((0.4, 0.65, 0.8), color="white"),
    "bathtub": Furniture((1.7, 0.75, 0.6), color="white"),
    "shower": Furniture((0.9, 0.9, 2.0), color="cyan", where="corner"),
    "washing machine": Furniture((0.6, 0.6, 0.85), color="white"),
    "plant": Furniture((0.45, 0.45, 1.1), shape="cylinder", color="green", where="corner"),
    "lamp": Furniture((0.35, 0.35, 1.6), shape="cylinder", color="yellow", where="corner"),
    "cabinet": Furniture((0.9, 0.45, 1.0)),
    "bench": Furniture((1.2, 0.4, 0.45)),
    "rug": Furniture((2.0, 1.4, 0.01), color="red", blocks=False, where="centre"),
}

# What the generator furnishes each room type with: (label, probability), in placement order.
ROOM_FURNITURE: dict[str, tuple[tuple[str, float], ...]] = {
    "bedroom": (("bed", 1.0), ("wardrobe", 0.8), ("nightstand", 0.7), ("dresser", 0.4),
                ("plant", 0.3), ("desk", 0.2)),
    "kitchen": (("fridge", 1.0), ("stove", 0.9), ("sink", 0.9), ("kitchen counter", 0.5),
                ("dining table", 0.3), ("plant", 0.3)),
    "living room": (("sofa", 1.0), ("tv", 0.9), ("coffee table", 0.7), ("armchair", 0.6),
                    ("bookshelf", 0.5), ("plant", 0.5), ("fireplace", 0.3), ("piano", 0.2),
                    ("rug", 0.3)),
    "bathroom": (("toilet", 1.0), ("sink", 1.0), ("bathtub", 0.6), ("shower", 0.4)),
    "hallway": (("plant", 0.5), ("bench", 0.4), ("cabinet", 0.4), ("lamp", 0.3)),
    "office": (("desk", 1.0), ("chair", 0.8), ("bookshelf", 0.8), ("plant", 0.4),
               ("lamp", 0.3)),
    "dining room": (("dining table", 1.0), ("cabinet", 0.6), ("plant", 0.5), ("lamp", 0.3),
                    ("piano", 0.15)),
    "laundry room": (("washing machine", 1.0), ("sink", 0.6), ("cabinet", 0.5)),
    "closet": (("cabinet", 0.8),),
}


def furniture_defaults(label: str) -> Furniture | None:
    return FURNITURE.get(label)
