"""The labelled correction corpus (``data/corrections.yaml``) and how a parse is scored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from ifagent_ros.core.schemas import Correction

CORPUS_PATH = Path(__file__).parent / "data" / "corrections.yaml"
UNRELATED_PATH = Path(__file__).parent / "data" / "unrelated.yaml"
FIELD_GROUPS = ("type", "direction", "rotation", "magnitude", "target", "speed", "gripper",
                "context_free")
VECTOR_TOL = 1e-3
Split = Literal["dev", "test", "all"]


@dataclass(frozen=True)
class Utterance:
    """One labelled utterance: ``expected`` holds the Correction fields it should parse to."""

    text: str
    split: str
    expected: dict[str, Any]


def load_corpus(split: Split = "all", path: Path = CORPUS_PATH) -> list[Utterance]:
    """The utterances of ``split``; every label is validated against the Correction schema."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for row in data["utterances"]:
        fields = {k: v for k, v in row.items() if k not in ("text", "split")}
        Correction.model_validate({"text": row["text"], **fields})
        if split in ("all", row["split"]):
            out.append(Utterance(row["text"], row["split"], fields))
    return out


def load_unrelated(split: Split = "all", path: Path = UNRELATED_PATH,
                   kinds: tuple[str, ...] = ("question", "chitchat", "remark")) -> list[str]:
    """Sentences that are not corrections (questions, chit-chat, remarks about the table):
    none may become a command or a stop. ``data/unrelated.yaml``: ``sentences`` rows of
    ``{text, split: dev|test, kind: question|chitchat|remark}``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [r["text"] for r in data["sentences"]
            if split in ("all", r["split"]) and r["kind"] in kinds]


def _same_vec(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return all(abs(float(x) - float(y)) <= VECTOR_TOL for x, y in zip(a, b, strict=True))


def _norm_target(t: str | None) -> str | None:
    return " ".join(t.lower().split()) if isinstance(t, str) else None


def field_matches(predicted: dict[str, Any], expected: dict[str, Any]) -> dict[str, bool]:
    """Exact match per field group (vectors within ``VECTOR_TOL``); ``all`` is their and."""
    got = {
        "type": predicted.get("type") == expected["type"],
        "direction": _same_vec(predicted.get("direction"), expected["direction"]),
        "rotation": _same_vec(predicted.get("rotation"), expected["rotation"]),
        "magnitude": predicted.get("magnitude") == expected["magnitude"],
        "target": _norm_target(predicted.get("target")) == _norm_target(expected["target"]),
        "speed": (predicted.get("speed_factor") is None) == (expected["speed_factor"] is None)
        and (expected["speed_factor"] is None
             or abs(predicted["speed_factor"] - expected["speed_factor"]) < 1e-6),
        "gripper": predicted.get("gripper") == expected["gripper"],
        "context_free": predicted.get("context_free") == expected["context_free"],
    }
    got["all"] = all(got.values())
    return got


__all__ = ["CORPUS_PATH", "FIELD_GROUPS", "UNRELATED_PATH", "Utterance", "field_matches",
           "load_corpus", "load_unrelated"]
