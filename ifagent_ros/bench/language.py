"""`ifagent bench language` (parser half): the rule parser vs LILAC's nearest-sentence baseline
on the held-out half of ``core/language/data/corrections.yaml``, per field group, and the
parser's latency. See :mod:`ifagent_ros.core.language.evaluate` for what each figure means."""

from __future__ import annotations

from typing import Any

from ifagent_ros.core.language.evaluate import GROUPS, evaluate_parser


def parser_bench(split: str = "test", baseline: bool = True) -> dict[str, Any]:
    """Flat figures (accuracies in [0, 1], latencies in ms); ``parser_errors`` lists misparses."""
    return evaluate_parser(split, baseline=baseline)  # type: ignore[arg-type]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100.0 * value:5.1f} %"


def format_parser_table(fig: dict[str, Any]) -> str:
    """A plain-text table of ``parser_bench`` figures."""
    n = fig.get("n_test", fig.get("n_dev", "?"))
    lines = [f"Correction parser, held-out utterances: {n}",
             f"{'field group':<14} {'rule parser':>12} {'NN baseline':>12}"]  # fmt: skip
    for g in GROUPS:
        lines.append(f"{g:<14} {_pct(fig.get(f'parser_accuracy_{g}')):>12} "
                     f"{_pct(fig.get(f'baseline_accuracy_{g}')):>12}")  # fmt: skip
    p50, p99 = fig.get("parse_p50_ms"), fig.get("parse_p99_ms")
    if p50 is not None and p99 is not None:
        lines.append(f"parse latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    for err in fig.get("parser_errors", [])[:10]:
        lines.append(f"  misparsed: {err['text']!r} (wrong: {', '.join(err['wrong'])})")
    return "\n".join(lines)


__all__ = ["format_parser_table", "parser_bench"]
