"""A small synthetic shared-autonomy dataset whose actions are a known function of the words.

Corrections (context free): "left" families move +y, "up" +z, "forward" +x, whatever the state.
Task "reach the {obj}": move towards the object (the state's object offset), so it needs the
state. One object (``cube``), so the state is 17 + 3 = 20-D.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ifagent_ros.core.latent_actions.dataset import DatasetMeta, DatasetWriter

OBJECT_IDS = ("cube",)
STATE_DIM = 20
DIRECTIONS = {"left": 1, "up": 2, "forward": 0}  # family -> axis of the action
PHRASINGS = {
    "left": {
        "train": ["left", "move left", "go to the left", "a bit more left"],
        "heldout": ["shift left"],
    },
    "up": {"train": ["up", "move up", "go higher", "a bit more up"], "heldout": ["lift up"]},
    "forward": {
        "train": ["forward", "move forward", "go forward", "a bit more forward"],
        "heldout": ["push forward"],
    },
    "reach": {
        "train": ["reach the {obj}", "go to the {obj}", "move to the {obj}"],
        "heldout": ["approach the {obj}"],
    },
}


def write_synthetic(root: Path, demos_per_family: int = 12, steps: int = 20, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    meta = DatasetMeta(
        object_ids=OBJECT_IDS,
        state_dim=STATE_DIM,
        action_rate_hz=10.0,
        scene="synthetic",
        phrasings=PHRASINGS,
    )
    with DatasetWriter(root, meta) as writer:
        for family in PHRASINGS:
            for i in range(demos_per_family):
                demo_seed = i  # the same seeds for every family: seed hold-out cuts across all
                split = "heldout" if i == 0 else "train"
                text = PHRASINGS[family][split][i % len(PHRASINGS[family][split])]
                text = text.format(obj="cube")
                states = rng.normal(size=(steps, STATE_DIM)).astype(np.float32)
                speed = rng.uniform(0.3, 1.0, size=(steps, 1))
                actions = np.zeros((steps, 6))
                if family == "reach":
                    offset = states[:, 17:20]
                    actions[:, :3] = offset / np.linalg.norm(offset, axis=1, keepdims=True)
                    kind, alpha = "task", 1.0
                else:
                    actions[:, DIRECTIONS[family]] = 1.0
                    kind, alpha = "correction", 0.0
                writer.add_demo(
                    states,
                    (actions * speed).astype(np.float32),
                    np.zeros(steps, np.float32),
                    task=family,
                    kind=kind,
                    text=text,
                    split=split,
                    alpha=alpha,
                    seed=demo_seed,
                    params={"obj": "cube"},
                )
    return root
