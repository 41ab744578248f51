"""Demonstrations on disk: ``<root>/index.json`` + one ``<root>/demos/<n>.npz`` per demo.

Writing (the collector): ``DatasetWriter(root, meta).add_demo(...)`` per demo, then ``close()``
(also on leaving a ``with`` block), which writes ``index.json`` atomically: the
:class:`DatasetMeta` plus one entry per demo (file, task, kind, text, split, alpha, seed,
params, steps). Each ``.npz`` holds ``states`` (T, S) float32, ``actions`` (T, 6) float32
(normalized, see ``state.ActionScale``) and ``gripper_close`` (T,) float32 in {0, 1}.

Phrasings: ``meta.phrasings[family] = {"train": [...], "heldout": [...]}`` holds templates
filled with ``str.format(**params)`` (e.g. ``"put the {block} in the {bowl}"`` with
``params={"block": "red block", "bowl": "yellow bowl"}``); a demo's ``task`` names its family.
A demo's ``text`` is the phrasing it was recorded with; ``split="heldout"`` marks a held-out
phrasing.

Language pairing (as LILAC): every step of a demo is paired with the demo's text. For training,
a train demo may also be paired with any other *train* phrasing of its family, filled with the
demo's own params (:meth:`Dataset.phrasings_for`); the trainer redraws one per demo per epoch.
Held-out phrasings are never paired with a training demo.

Held-out samples = demos recorded with a held-out phrasing, plus every demo whose seed is among
the highest ``heldout_seed_fraction`` of the seeds (unseen object layouts).

Alpha (LILAC's gate) is labelled by :func:`label_alpha` from the correction parser, as the
controller does at run time: 1 for task instructions and context-dependent corrections
("towards the bowl"), 0 for context-free ones ("left"). The collector's stored ``alpha`` is a
record, checked to lie in [0, 1].
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ifagent_ros.core.latent_actions.state import ROBOT_STATE_DIM, ActionScale

DATASET_VERSION = 1
INDEX_FILE = "index.json"
DEMO_DIR = "demos"
ACTION_DIM = 6
DemoKind = Literal["task", "correction"]
DemoSplit = Literal["train", "heldout"]


class DatasetError(ValueError):
    """The dataset on disk (or a demo being written) is malformed; the message names what."""


@dataclass
class DatasetMeta:
    object_ids: Sequence[str]
    state_dim: int
    action_rate_hz: float
    action_scale: ActionScale | Mapping[str, float] = field(default_factory=ActionScale)
    scene: str = ""
    phrasings: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    version: int = DATASET_VERSION

    def to_json(self) -> dict[str, Any]:
        scale = self.action_scale
        scale_d = asdict(scale) if isinstance(scale, ActionScale) else dict(scale)
        return {
            "object_ids": list(self.object_ids),
            "state_dim": int(self.state_dim),
            "action_rate_hz": float(self.action_rate_hz),
            "action_scale": scale_d,
            "scene": self.scene,
            "version": int(self.version),
            "phrasings": {
                fam: {k: list(v) for k, v in d.items()} for fam, d in self.phrasings.items()
            },
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any], where: str = INDEX_FILE) -> DatasetMeta:
        try:
            scale = d.get("action_scale") or {}
            meta = cls(
                object_ids=tuple(str(o) for o in d["object_ids"]),
                state_dim=int(d["state_dim"]),
                action_rate_hz=float(d["action_rate_hz"]),
                action_scale=ActionScale(**{k: float(v) for k, v in scale.items()}),
                scene=str(d.get("scene", "")),
                phrasings={
                    str(f): {str(k): [str(t) for t in v] for k, v in p.items()}
                    for f, p in (d.get("phrasings") or {}).items()
                },
                version=int(d.get("version", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DatasetError(f"{where}: bad 'meta' ({type(exc).__name__}: {exc})") from exc
        if meta.version != DATASET_VERSION:
            raise DatasetError(
                f"{where}: meta.version {meta.version}, this code reads {DATASET_VERSION}"
            )
        return meta


def _check_arrays(
    states: Any, actions: Any, gripper: Any, state_dim: int, where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = np.asarray(states, dtype=np.float32)
    a = np.asarray(actions, dtype=np.float32)
    g = np.asarray(gripper, dtype=np.float32)
    if s.ndim != 2 or s.shape[0] < 1 or s.shape[1] != state_dim:
        raise DatasetError(f"{where}: 'states' has shape {s.shape}, expected (T, {state_dim})")
    t = s.shape[0]
    if a.shape != (t, ACTION_DIM):
        raise DatasetError(f"{where}: 'actions' has shape {a.shape}, expected ({t}, 6)")
    if g.shape != (t,):
        raise DatasetError(f"{where}: 'gripper_close' has shape {g.shape}, expected ({t},)")
    for name, arr in (("states", s), ("actions", a), ("gripper_close", g)):
        if not np.all(np.isfinite(arr)):
            raise DatasetError(f"{where}: '{name}' contains NaN or inf")
    if not np.all((g == 0.0) | (g == 1.0)):
        raise DatasetError(f"{where}: 'gripper_close' must be 0 or 1")
    return s, a, g


def fill_phrasing(template: str, params: Mapping[str, Any], where: str = "") -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError) as exc:
        raise DatasetError(
            f"{where}: phrasing {template!r} cannot be filled from params {dict(params)} ({exc})"
        ) from exc


class DatasetWriter:
    """Writes demos as they come; ``close()`` writes ``index.json`` (atomically)."""

    def __init__(self, root: str | Path, meta: DatasetMeta) -> None:
        self.root = Path(root)
        self.meta = meta
        self.meta_json = meta.to_json()  # validates action_scale etc. early
        (self.root / DEMO_DIR).mkdir(parents=True, exist_ok=True)
        self.entries: list[dict[str, Any]] = []
        self.closed = False

    def add_demo(
        self,
        states: np.ndarray,
        actions: np.ndarray,
        gripper_close: np.ndarray,
        task: str,
        kind: DemoKind,
        text: str,
        split: DemoSplit,
        alpha: float,
        seed: int,
        params: Mapping[str, Any] | None = None,
    ) -> str:
        """Writes ``demos/<n>.npz``; returns its path relative to the root."""
        if self.closed:
            raise DatasetError("add_demo after close()")
        n = len(self.entries)
        where = f"demo {n} ({task!r})"
        s, a, g = _check_arrays(states, actions, gripper_close, int(self.meta.state_dim), where)
        entry = _check_entry(
            {
                "task": task,
                "kind": kind,
                "text": text,
                "split": split,
                "alpha": alpha,
                "seed": seed,
                "params": dict(params or {}),
            },
            where,
        )
        rel = f"{DEMO_DIR}/{n:05d}.npz"
        np.savez(self.root / rel, states=s, actions=a, gripper_close=g)
        self.entries.append({"file": rel, **entry, "steps": int(s.shape[0])})
        return rel

    def close(self) -> Path:
        """Writes ``index.json`` (meta + one entry per demo); returns its path."""
        path = self.root / INDEX_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"meta": self.meta_json, "demos": self.entries}, indent=1))
        os.replace(tmp, path)
        self.closed = True
        return path

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            self.close()


def _check_entry(e: Mapping[str, Any], where: str) -> dict[str, Any]:
    try:
        out = {
            "task": str(e["task"]),
            "kind": str(e["kind"]),
            "text": str(e["text"]),
            "split": str(e["split"]),
            "alpha": float(e["alpha"]),
            "seed": int(e["seed"]),
            "params": dict(e.get("params") or {}),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{where}: missing or bad field ({type(exc).__name__}: {exc})") from exc
    if out["kind"] not in ("task", "correction"):
        raise DatasetError(f"{where}: 'kind' must be 'task' or 'correction', got {out['kind']!r}")
    if out["split"] not in ("train", "heldout"):
        raise DatasetError(f"{where}: 'split' must be 'train' or 'heldout', got {out['split']!r}")
    if not out["text"].strip():
        raise DatasetError(f"{where}: 'text' is empty")
    if not (0.0 <= out["alpha"] <= 1.0):
        raise DatasetError(f"{where}: 'alpha' {out['alpha']} outside [0, 1]")
    try:
        json.dumps(out["params"])
    except TypeError as exc:
        raise DatasetError(f"{where}: 'params' is not JSON-serializable ({exc})") from exc
    return out


@lru_cache(maxsize=4096)
def label_alpha(text: str, kind: str = "correction") -> float:
    """LILAC's alpha for ``text``: 1 for task instructions; for corrections 0 when the parser
    calls it context-free ("left", "tilt up"), else 1 ("towards the bowl")."""
    if kind == "task":
        return 1.0
    from ifagent_ros.core.language.parser import CorrectionParser

    return 0.0 if CorrectionParser().parse(text, objects=[]).context_free else 1.0


@dataclass
class Demo:
    index: int
    file: str
    task: str
    kind: str
    text: str
    split: str
    alpha: float
    seed: int
    params: dict[str, Any]
    states: np.ndarray
    actions: np.ndarray
    gripper_close: np.ndarray


@dataclass
class Samples:
    """Step-level arrays; ``text_ids`` index ``texts``; ``demo_ids`` index ``Dataset.demos``."""

    states: np.ndarray
    actions: np.ndarray
    gripper_close: np.ndarray
    alpha: np.ndarray
    text_ids: np.ndarray
    demo_ids: np.ndarray
    texts: list[str]

    def __len__(self) -> int:
        return int(self.states.shape[0])


@dataclass
class Dataset:
    root: Path
    meta: DatasetMeta
    demos: list[Demo]
    heldout_seed_fraction: float = 0.1

    @property
    def heldout_seeds(self) -> frozenset[int]:
        seeds = sorted({d.seed for d in self.demos})
        k = math.ceil(self.heldout_seed_fraction * len(seeds)) if len(seeds) > 1 else 0
        return frozenset(seeds[len(seeds) - k :]) if k else frozenset()

    def is_heldout(self, demo: Demo) -> bool:
        return demo.split == "heldout" or demo.seed in self.heldout_seeds

    def split_demos(self, split: DemoSplit) -> list[Demo]:
        held = self.heldout_seeds
        return [
            d
            for d in self.demos
            if (d.split == "heldout" or d.seed in held) == (split == "heldout")
        ]

    def phrasings_for(self, demo: Demo) -> list[str]:
        """The demo's own text plus every train phrasing of its family filled with its params
        (only the own text for a held-out demo or a family without phrasings)."""
        texts = [demo.text]
        if self.is_heldout(demo):
            return texts
        for template in (self.meta.phrasings.get(demo.task) or {}).get("train", []):
            t = fill_phrasing(template, demo.params, f"{self.root / demo.file}")
            if t not in texts:
                texts.append(t)
        return texts

    def all_texts(self) -> list[str]:
        """Every text any sample can be paired with (sorted, for embedding once)."""
        texts = {d.text for d in self.demos}
        for d in self.demos:
            texts.update(self.phrasings_for(d))
        return sorted(texts)

    def samples(self, split: DemoSplit, texts: list[str] | None = None) -> Samples:
        """Steps of the ``split`` demos, each paired with its demo's own text."""
        demos = self.split_demos(split)
        if not demos:
            raise DatasetError(f"{self.root}: no {split} demos")
        texts = texts if texts is not None else self.all_texts()
        tid = {t: i for i, t in enumerate(texts)}
        lens = [d.states.shape[0] for d in demos]
        return Samples(
            states=np.concatenate([d.states for d in demos]),
            actions=np.concatenate([d.actions for d in demos]),
            gripper_close=np.concatenate([d.gripper_close for d in demos]),
            alpha=np.repeat([label_alpha(d.text, d.kind) for d in demos], lens).astype(np.float32),
            text_ids=np.repeat([tid[d.text] for d in demos], lens).astype(np.int64),
            demo_ids=np.repeat([d.index for d in demos], lens).astype(np.int64),
            texts=texts,
        )

    def summary(self) -> dict[str, Any]:
        train, held = self.split_demos("train"), self.split_demos("heldout")
        return {
            "path": str(self.root),
            "demos": len(self.demos),
            "train_demos": len(train),
            "heldout_demos": len(held),
            "steps": int(sum(d.states.shape[0] for d in self.demos)),
            "tasks": sorted({d.task for d in self.demos if d.kind == "task"}),
            "corrections": sorted({d.task for d in self.demos if d.kind == "correction"}),
            "heldout_phrasings": {
                f: list(p.get("heldout", [])) for f, p in self.meta.phrasings.items()
            },
            "heldout_seeds": sorted(self.heldout_seeds),
        }


def load_dataset(root: str | Path, heldout_seed_fraction: float = 0.1) -> Dataset:
    """Reads and validates a dataset; :class:`DatasetError` names the file and field at fault."""
    root = Path(root)
    index = root / INDEX_FILE
    if not index.is_file():
        raise DatasetError(f"{index}: missing (no dataset here; run `ifagent collect` first)")
    try:
        doc = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{index}: unreadable ({exc})") from exc
    if not isinstance(doc, dict) or "meta" not in doc or not isinstance(doc.get("demos"), list):
        raise DatasetError(f"{index}: expected an object with 'meta' and a 'demos' list")
    meta = DatasetMeta.from_json(doc["meta"], str(index))
    expected_dim = ROBOT_STATE_DIM + 3 * len(meta.object_ids)
    if meta.state_dim != expected_dim:
        raise DatasetError(
            f"{index}: meta.state_dim {meta.state_dim} does not match "
            f"{len(meta.object_ids)} object ids (expected {expected_dim})"
        )
    if not doc["demos"]:
        raise DatasetError(f"{index}: 'demos' is empty")
    demos: list[Demo] = []
    for i, raw in enumerate(doc["demos"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("file"), str):
            raise DatasetError(f"{index}: demos[{i}] has no 'file'")
        path = root / raw["file"]
        entry = _check_entry(raw, f"{index}: demos[{i}]")
        try:
            with np.load(path, allow_pickle=False) as z:
                absent = [k for k in ("states", "actions", "gripper_close") if k not in z.files]
                if absent:
                    raise DatasetError(f"{path}: missing array(s) {', '.join(absent)}")
                arrays = {k: z[k] for k in ("states", "actions", "gripper_close")}
        except FileNotFoundError as exc:
            raise DatasetError(f"{path}: missing (listed as demos[{i}] in {index})") from exc
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise DatasetError(f"{path}: unreadable ({exc})") from exc
        s, a, g = _check_arrays(
            arrays["states"], arrays["actions"], arrays["gripper_close"], meta.state_dim, str(path)
        )
        demos.append(Demo(index=i, file=raw["file"], states=s, actions=a, gripper_close=g, **entry))
    ds = Dataset(root=root, meta=meta, demos=demos, heldout_seed_fraction=heldout_seed_fraction)
    for d in demos:
        ds.phrasings_for(d)  # every template must fill from the demo's params
    return ds


__all__ = [
    "ACTION_DIM",
    "DATASET_VERSION",
    "Dataset",
    "DatasetError",
    "DatasetMeta",
    "DatasetWriter",
    "Demo",
    "Samples",
    "fill_phrasing",
    "label_alpha",
    "load_dataset",
]
