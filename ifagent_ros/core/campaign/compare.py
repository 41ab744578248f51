"""Two runs side by side. :func:`compare`: run B against run A (a regression check: which metric
got significantly worse, per condition); :func:`gap`: a real-robot run against the simulated one
(the sim-to-real gap with its 95% interval). Both return JSON-ready dicts; ``format_*`` print
them as aligned text tables.

Tests: success by Fisher's exact test and a Newcombe interval of the difference; continuous
metrics (means of ``ok`` episodes) by Mann-Whitney U and a seeded bootstrap interval of the
difference of means. p-values are per row, not corrected for the many rows: read a lone
p = 0.04 among thirty rows as a hint, not a finding.
"""

from __future__ import annotations

from typing import Any

from ifagent_ros.core.campaign.report import (
    METRIC_DIRECTIONS,
    RunData,
    metric_values,
    success_counts,
)
from ifagent_ros.core.campaign.run_folder import CampaignError
from ifagent_ros.core.campaign.stats import (
    bootstrap_mean_diff,
    fisher_exact_p,
    mann_whitney_p,
    newcombe_diff,
)

__all__ = ["compare", "format_compare", "format_gap", "gap"]

SUCCESS = "success_rate"


def _common_conditions(a: RunData, b: RunData, what: str) -> tuple[list[str], list[str],
                                                                     list[str]]:
    common = [c for c in a.conditions if c in b.conditions]
    if not common:
        raise CampaignError(f"{what}: no condition in common ({a.path} has "
                            f"{', '.join(a.conditions) or 'none'}; {b.path} has "
                            f"{', '.join(b.conditions) or 'none'})")
    return (common, [c for c in a.conditions if c not in common],
            [c for c in b.conditions if c not in common])


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _flag(delta: float | None, p: float | None, direction: int, alpha: float) -> str:
    if delta is None or p is None or p >= alpha or direction == 0 or delta == 0:
        return ""
    return "improvement" if delta * direction > 0 else "regression"


def _better(direction: int) -> str:
    return {1: "higher", -1: "lower"}.get(direction, "")


def compare(run_a: RunData, run_b: RunData, *, alpha: float = 0.05) -> dict[str, Any]:
    """Rows per metric per common condition: a, b, delta (b - a), p, flag."""
    if not 0.0 < alpha < 1.0:
        raise CampaignError(f"alpha {alpha}: use a value in (0, 1), e.g. 0.05")
    common, only_a, only_b = _common_conditions(run_a, run_b, "compare")
    rows: list[dict[str, Any]] = []
    for cond in common:
        ok_a, ok_b = run_a.ok(cond), run_b.ok(cond)
        (ka, na), (kb, nb) = success_counts(ok_a), success_counts(ok_b)
        ra, rb = (ka / na if na else None), (kb / nb if nb else None)
        delta = rb - ra if ra is not None and rb is not None else None
        p = fisher_exact_p(ka, na, kb, nb)
        rows.append({"metric": SUCCESS, "condition": cond, "n_a": na, "n_b": nb, "a": ra,
                     "b": rb, "delta": delta, "p_value": p, "test": "fisher_exact",
                     "better": "higher", "flag": _flag(delta, p, 1, alpha)})
        for metric, direction in METRIC_DIRECTIONS.items():
            va, vb = metric_values(ok_a, metric), metric_values(ok_b, metric)
            if not va and not vb:
                continue
            ma, mb = _mean(va), _mean(vb)
            delta = mb - ma if ma is not None and mb is not None else None
            p = mann_whitney_p(va, vb)
            rows.append({"metric": metric, "condition": cond, "n_a": len(va), "n_b": len(vb),
                         "a": ma, "b": mb, "delta": delta, "p_value": p,
                         "test": "mann_whitney_u", "better": _better(direction),
                         "flag": _flag(delta, p, direction, alpha)})
    regressions = [r for r in rows if r["flag"] == "regression"]
    return {"run_a": str(run_a.path), "run_b": str(run_b.path), "alpha": alpha,
            "conditions": common, "only_in_a": only_a, "only_in_b": only_b,
            "value": "success: rate; other metrics: mean over ok episodes; delta = b - a",
            "rows": rows, "regressions": len(regressions),
            "improvements": sum(r["flag"] == "improvement" for r in rows),
            "has_regression": bool(regressions),
            "warnings": [*run_a.warnings, *run_b.warnings]}


def gap(sim_run: RunData, real_run: RunData, *, seed: int = 0,
        n_boot: int = 5000) -> dict[str, Any]:
    """Per metric per common condition: sim, real, gap = real - sim, its 95% interval."""
    common, only_sim, only_real = _common_conditions(sim_run, real_run, "gap")
    notes = []
    if sim_run.index.real:
        notes.append(f"{sim_run.path} is a real-robot run, given as the simulated one")
    if not real_run.index.real:
        notes.append(f"{real_run.path} is a simulated run, given as the real-robot one")
    rows: list[dict[str, Any]] = []
    for cond in common:
        ok_s, ok_r = sim_run.ok(cond), real_run.ok(cond)
        (ks, ns), (kr, nr) = success_counts(ok_s), success_counts(ok_r)
        ci = newcombe_diff(ks, ns, kr, nr)
        s_rate, r_rate = (ks / ns if ns else None), (kr / nr if nr else None)
        rows.append({"metric": SUCCESS, "condition": cond, "n_sim": ns, "n_real": nr,
                     "sim": s_rate, "real": r_rate,
                     "gap": r_rate - s_rate if ci is not None else None,
                     "gap_ci95_low": ci.low if ci else None,
                     "gap_ci95_high": ci.high if ci else None, "interval": "newcombe"})
        for metric in METRIC_DIRECTIONS:
            vs, vr = metric_values(ok_s, metric), metric_values(ok_r, metric)
            if not vs and not vr:
                continue
            ms, mr = _mean(vs), _mean(vr)
            ci = bootstrap_mean_diff(vs, vr, n_boot=n_boot, seed=seed)
            rows.append({"metric": metric, "condition": cond, "n_sim": len(vs),
                         "n_real": len(vr), "sim": ms, "real": mr,
                         "gap": mr - ms if ms is not None and mr is not None else None,
                         "gap_ci95_low": ci.low if ci else None,
                         "gap_ci95_high": ci.high if ci else None, "interval": "bootstrap"})
    return {"sim_run": str(sim_run.path), "real_run": str(real_run.path),
            "conditions": common, "only_in_sim": only_sim, "only_in_real": only_real,
            "value": "success: rate; other metrics: mean over ok episodes; gap = real - sim",
            "bootstrap": {"seed": seed, "resamples": n_boot}, "rows": rows,
            "notes": notes, "warnings": [*sim_run.warnings, *real_run.warnings]}


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _aligned(headers: list[str], rows: list[list[str]], left: int = 2) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def format_compare(result: dict[str, Any]) -> str:
    rows = [[r["metric"], r["condition"], _num(r["n_a"]), _num(r["n_b"]), _num(r["a"]),
             _num(r["b"]), _num(r["delta"]), _num(r["p_value"]), r["better"], r["flag"]]
            for r in result["rows"]]
    out = [f"A: {result['run_a']}", f"B: {result['run_b']}", result["value"],
           f"flag: p < {result['alpha']:g} in the worse / better direction (p not corrected "
           f"for multiple rows)", "",
           _aligned(["metric", "condition", "n_a", "n_b", "a", "b", "delta", "p", "better",
                     "flag"], rows), ""]
    for key, run in (("only_in_a", "A"), ("only_in_b", "B")):
        if result[key]:
            out.append(f"conditions only in {run} (not compared): {', '.join(result[key])}")
    out += [f"warning: {w}" for w in result["warnings"]]
    out.append(f"{result['regressions']} regression(s), {result['improvements']} "
               f"improvement(s)")
    return "\n".join(out)


def format_gap(result: dict[str, Any]) -> str:
    rows = [[r["metric"], r["condition"], _num(r["n_sim"]), _num(r["n_real"]), _num(r["sim"]),
             _num(r["real"]), _num(r["gap"]),
             f"[{_num(r['gap_ci95_low'])}, {_num(r['gap_ci95_high'])}]", r["interval"]]
            for r in result["rows"]]
    out = [f"sim:  {result['sim_run']}", f"real: {result['real_run']}", result["value"], "",
           _aligned(["metric", "condition", "n_sim", "n_real", "sim", "real", "gap",
                     "gap 95% interval", "interval"], rows), ""]
    for key, run in (("only_in_sim", "the sim run"), ("only_in_real", "the real run")):
        if result[key]:
            out.append(f"conditions only in {run} (no gap): {', '.join(result[key])}")
    out += [f"note: {n}" for n in result["notes"]]
    out += [f"warning: {w}" for w in result["warnings"]]
    return "\n".join(out).rstrip()
