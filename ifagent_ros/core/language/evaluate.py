"""Accuracy of the rule parser and of LILAC's nearest-sentence baseline on the labelled corpus.

``evaluate_parser(split="test")`` returns flat figures: ``parser_accuracy_<group>`` and
``baseline_accuracy_<group>`` for every field group (type, direction, rotation, magnitude,
target, speed, gripper, context_free, all), ``parse_p50_ms`` / ``parse_p99_ms`` (rule parser,
per utterance, wall time), ``n_test`` / ``n_dev`` and ``parser_errors`` (the misparsed texts).
The baseline indexes the dev half and is scored on ``split``; it needs sentence-transformers
(``baseline_*`` figures are None when it is not installed).
"""

from __future__ import annotations

import time
from typing import Any

from ifagent_ros.core.language.corpus import FIELD_GROUPS, Split, field_matches, load_corpus
from ifagent_ros.core.language.parser import CorrectionParser
from ifagent_ros.core.stats import percentiles_ms

GROUPS = (*FIELD_GROUPS, "all")


def _accuracy(rows: list[dict[str, bool]], prefix: str) -> dict[str, float | None]:
    n = len(rows)
    return {f"{prefix}_accuracy_{g}": (sum(r[g] for r in rows) / n if n else None)
            for g in GROUPS}


def evaluate_parser(split: Split = "test", baseline: bool = True,
                    repeats: int = 5) -> dict[str, Any]:
    """Figures for ``split`` (see the module docstring); latency over ``repeats`` passes."""
    utterances = load_corpus(split)
    parser = CorrectionParser()
    rows, errors, samples = [], [], []
    for u in utterances:
        predicted = parser.parse(u.text).model_dump()
        match = field_matches(predicted, u.expected)
        rows.append(match)
        if not match["all"]:
            wrong = [g for g in FIELD_GROUPS if not match[g]]
            errors.append({"text": u.text, "wrong": wrong,
                           "got": {g: predicted.get(g) for g in ("type", "direction", "rotation",
                                   "magnitude", "target", "speed_factor", "gripper")}})
    for _ in range(repeats):
        for u in utterances:
            t0 = time.perf_counter()
            parser.parse(u.text)
            samples.append(time.perf_counter() - t0)
    lat = percentiles_ms(samples, prefix="parse_")
    fig: dict[str, Any] = {f"n_{split}": len(utterances), **_accuracy(rows, "parser"),
                           "parse_p50_ms": lat["parse_p50_ms"],
                           "parse_p99_ms": lat["parse_p99_ms"],
                           "parse_max_ms": lat["parse_max_ms"]}
    fig.update(_baseline(split, utterances) if baseline else _accuracy([], "baseline"))
    fig["parser_errors"] = errors
    return fig


def _baseline(split: Split, utterances: list[Any]) -> dict[str, Any]:
    try:
        from ifagent_ros.core.language.nn_baseline import NearestSentenceBaseline

        model = NearestSentenceBaseline.from_corpus("dev")
    except ImportError:
        out: dict[str, Any] = _accuracy([], "baseline")
        out["baseline_available"] = False
        return out
    predictions = model.predict_many([u.text for u in utterances])
    rows = [field_matches(p, u.expected) for p, u in zip(predictions, utterances, strict=True)]
    out = _accuracy(rows, "baseline")
    out["baseline_available"] = True
    out["baseline_index_size"] = len(model.texts)
    return out


__all__ = ["GROUPS", "evaluate_parser"]
