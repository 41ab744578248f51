"""The page of the campaign report: one HTML file, plots inlined as PNG data URIs, no scripts,
no external resources (a Content-Security-Policy meta forbids any), every text from the run
folder HTML-escaped. The figures are the ones of ``summary.json`` (``report.summarize``)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ifagent_ros.core.campaign import report_plots as plots
from ifagent_ros.core.campaign.report import (
    RunData,
    load_trajectory,
    metric_values,
)

__all__ = ["CSP", "render_html"]

# What the page may load: images from data: URIs and its own inline style; nothing else.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;
max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.t,th.t{text-align:left}
.note{color:#555;font-size:.9em}.warn{color:#a40}.bad{color:#b00;font-weight:bold}
.good{color:#070}.plots{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.card{border:1px solid #ccc;border-radius:4px;padding:.5em;width:520px;font-size:.85em}
.card img{max-width:250px;vertical-align:top}
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: None as an en dash, floats to ``digits`` significant figures."""
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return esc(f"{value:.{digits}g}")
    return esc(value)


def _pct(value: float | None) -> str:
    return "&ndash;" if value is None else f"{100 * value:.1f}%"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], text_cols: int = 1) -> str:
    """``rows`` hold already-escaped cells; the first ``text_cols`` columns align left."""
    def cls(i: int) -> str:
        return ' class="t"' if i < text_cols else ""
    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row))
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(uri: str | None, alt: str) -> str:
    if uri is None:
        return f'<p class="note">{esc(alt)}: nothing to plot.</p>'
    return f'<img class="plot" src="{uri}" alt="{esc(alt)}">'


def _section_success(s: dict[str, Any]) -> str:
    rows = [(esc(c), fmt(v["n"]), fmt(v["successes"]), _pct(v["rate"]),
             f"{_pct(v['ci95_low'])} &ndash; {_pct(v['ci95_high'])}")
            for c, v in s["success"].items()]
    return ("<h2>Success per condition</h2><p class=\"note\">Among <b>ok</b> episodes; failed "
            "and invalid episodes are counted below. Interval: Wilson 95%.</p>"
            + _table(["condition", "ok episodes", "successes", "success rate", "95% interval"],
                     rows) + _img(plots.success_plot(s["success"]), "success per condition"))


def _status_section(title: str, block: dict[str, Any], what: str) -> str:
    out = f"<h3>{esc(title)}: {block['count']}</h3>"
    if not block["count"]:
        return out + f'<p class="note">No {esc(what)} episodes.</p>'
    out += _table(["reason", "episodes"], [(esc(r), fmt(n)) for r, n in block["by_reason"].items()])
    out += _table(["episode", "condition", "reason"],
                  [(esc(e["episode_id"]), esc(e["condition"]), esc(e["reason"]))
                   for e in block["episodes"]], text_cols=3)
    return out


def _section_status(s: dict[str, Any]) -> str:
    c = s["counts"]
    lines = (f"<p>{c['finished']} finished ({c['ok']} ok, {c['failed']} failed, {c['invalid']} "
             f"invalid), {c['pending']} pending, {c['unreadable']} unreadable.</p>")
    return ("<h2>Failed and invalid episodes</h2>" + lines
            + _status_section("Failed (crashed, hung or unmeasurable)", s["failed"], "failed")
            + _status_section("Invalid (voided by the operator)", s["invalid"], "invalid"))


def _section_times(run: RunData, s: dict[str, Any]) -> str:
    rows = [(esc(c), fmt(v["n"]), fmt(v["median"]), fmt(v["p25"]), fmt(v["p75"]), fmt(v["max"]))
            for c, v in s["time_to_success_s"].items()]
    values = {c: metric_values(run.ok(c), "time_to_success_s") for c in s["conditions"]}
    out = ("<h2>Time to success</h2>"
           + _table(["condition", "n", "median (s)", "p25 (s)", "p75 (s)", "max (s)"], rows)
           + _img(plots.time_to_success_plot(values), "time to success"))
    metric_rows = []
    for c, metrics in s["metrics"].items():
        for m, v in metrics.items():
            if v["n"] and m != "time_to_success_s":
                metric_rows.append((esc(c), esc(m), fmt(v["n"]), fmt(v["mean"]), fmt(v["median"]),
                                    fmt(v["min"]), fmt(v["max"])))
    if metric_rows:
        out += ("<h3>Other metrics (ok episodes)</h3>"
                + _table(["condition", "metric", "n", "mean", "median", "min", "max"],
                         metric_rows, text_cols=2))
    return out


def _section_drivers(s: dict[str, Any]) -> str:
    d = s["failure_drivers"]
    out = ("<h2>What drives failures</h2><p class=\"note\">Success (ok episodes, all conditions "
           "pooled) against each randomization factor, ranked by the point-biserial p-value; "
           "logistic slope: change of log-odds of success per unit of the factor (&ndash; when "
           "the factor separates successes from failures completely or has no variance).</p>")
    if d["factors"]:
        rows = []
        for f in d["factors"]:
            bins = " | ".join(f"{b['low']:.3g}..{b['high']:.3g}: {_pct(b['rate'])} (n={b['n']})"
                              for b in f["tertiles"])
            rows.append((esc(f["factor"]), fmt(f["n"]), fmt(f["point_biserial_r"]),
                         fmt(f["point_biserial_p"]), fmt(f["logistic_slope_per_unit"]),
                         fmt(f["logistic_p"]), esc(bins)))
        out += _table(["factor", "n", "point-biserial r", "p", "logistic slope / unit",
                       "logistic p", "success by tertile"], rows)
        out += '<div class="plots">' + "".join(
            _img(plots.factor_plot(f), f"success by {f['factor']}") for f in d["factors"]) \
            + "</div>"
    else:
        out += '<p class="note">No numeric randomization factors in this run.</p>'
    for name, why in d["factors_skipped"].items():
        out += f'<p class="warn">Factor {esc(name)} partly skipped: {esc(why)}.</p>'
    if d["faults"]:
        rows = [(esc(f["fault"]), f"{f['with']['successes']}/{f['with']['n']}",
                 _pct(f["with"]["rate"]), f"{f['without']['successes']}/{f['without']['n']}",
                 _pct(f["without"]["rate"]), fmt(f["fired"]), fmt(f["fisher_p"]))
                for f in d["faults"]]
        out += ("<h3>Faults</h3>" + _table(["fault", "with: successes", "with: rate",
                                            "without: successes", "without: rate",
                                            "fired (bag)", "Fisher p"], rows))
    else:
        out += '<p class="note">No faults were injected in this run.</p>'
    return out


def _section_gallery(run: RunData, s: dict[str, Any]) -> str:
    g = s["gallery"]
    out = (f"<h2>Failed episodes</h2><p class=\"note\">{g['shown']} of {g['failed_total']} "
           "unsuccessful or failed episodes shown.</p>")
    cards = []
    for e in g["episodes"]:
        folder = run.folder(e["episode_id"])
        snap_uri, snap_why = plots.snapshot_thumbnail(folder / "snapshot.png")
        traj, traj_why = load_trajectory(folder)
        snap = _img(snap_uri, "snapshot") if snap_uri else \
            f'<p class="note">Snapshot: {esc(snap_why)}.</p>'
        path = _img(plots.trajectory_plot(traj), "path") if traj else \
            f'<p class="note">Path: {esc(traj_why)}.</p>'
        cards.append(f'<div class="card"><b>{esc(e["episode_id"])}</b> ({esc(e["condition"])}, '
                     f'{esc(e["status"])})<br>{esc(e["reason"])}<br>{snap}{path}</div>')
    return out + '<div class="plots">' + "".join(cards) + "</div>"


def _section_interventions(s: dict[str, Any]) -> str:
    per = s["limit_interventions"]
    rows = [(esc(c), fmt(v["n"]), fmt(v["total"]), fmt(v["mean_per_episode"]),
             fmt(v["episodes_with_any"]),
             esc(", ".join(f"{k}: {n}" for k, n in v["by_limit"].items()) or "-"))
            for c, v in per.items()]
    return ("<h2>Limit interventions</h2><p class=\"note\">Commands the safety executor clipped "
            "(velocity, acceleration, position, workspace limits).</p>"
            + _table(["condition", "episodes", "total", "per episode", "episodes with any",
                      "by limit"], rows)
            + _img(plots.interventions_plot(per), "limit interventions"))


def _section_safety(s: dict[str, Any]) -> str:
    rows = []
    for c, v in s["safety"].items():
        meets = v["watchdog_meets_goal"]
        goal = "&ndash;" if meets is None else (
            '<span class="good">met</span>' if meets else '<span class="bad">missed</span>')
        rows.append((esc("all conditions" if c == "all" else c),
                     fmt(v["command_speed_peak_ratio_max"]), fmt(v["command_acc_peak_ratio_max"]),
                     fmt(v["joint_speed_peak_ratio_max"]), fmt(v["joint_acc_peak_ratio_max"]),
                     fmt(v["joint_limit_violations_total"]), fmt(v["watchdog_reaction_ms_p50"]),
                     fmt(v["watchdog_reaction_ms_max"]), goal, fmt(v["estop_reaction_ms_max"]),
                     fmt(v["brake_from_kill_ms_max"]), fmt(v["nodes_crashed_total"])))
    goal_ms = s["safety"]["all"]["watchdog_reaction_ms_goal"]
    return (f"<h2>Safety</h2><p class=\"note\">Speed and acceleration ratios are peak / limit "
            f"(above 1: over the limit): commanded (what the executor sent) and measured (the "
            f"joint states, which also show jolts the arm took, e.g. simulated contacts). "
            f"Watchdog goal: the arm still within {goal_ms:g} ms of its command stream going "
            f"silent.</p>"
            + _table(["condition", "commanded speed peak ratio", "commanded acc peak ratio",
                      "measured speed peak ratio", "measured acc peak ratio",
                      "joint limit violations", "watchdog p50 (ms)", "watchdog max (ms)",
                      f"watchdog {goal_ms:g} ms goal", "e-stop max (ms)",
                      "brake from kill max (ms)", "nodes crashed"], rows))


def _section_faults(s: dict[str, Any]) -> str:
    f = s["faults"]
    if not f["episodes"]:
        return ""

    def verdict(safe: Any) -> str:
        return ("&ndash;" if safe is None else
                '<span class="good">safe</span>' if safe else '<span class="bad">unsafe</span>')

    kinds = [(esc(k), fmt(v["fired"]), fmt(v["safe"]), fmt(v["unsafe"]), fmt(v["unknown"]),
              fmt(v["arm_speed_peak_ratio_max"]), fmt(v["commands_rejected_total"]),
              fmt(v["brake_ms_p50"]), fmt(v["brake_ms_max"])) for k, v in f["by_kind"].items()]
    rows = [(esc(o["episode_id"]), esc(o["kind"]), esc(o.get("target") or "-"),
             fmt(o.get("at_s")), fmt(o.get("duration_s")), fmt(o.get("arm_speed_peak_ratio")),
             fmt(o.get("limit_violations")), esc(", ".join(o.get("executor_modes") or []) or "-"),
             fmt(o.get("commands_rejected")), fmt(o.get("brake_ms")),
             esc(", ".join(o.get("nav_modes") or []) or "-"), verdict(o.get("safe")))
            for o in f["episodes"]]
    return ("<h2>Faults</h2><p class=\"note\">Each injected fault's window runs from the fault "
            "to 1 s after it ends. Safe: no arm sample in the window over a limit, and after a "
            "kill the arm came to rest (brake: the kill to every joint below 0.02 rad/s).</p>"
            + _table(["fault", "fired", "safe", "unsafe", "unknown", "arm speed peak ratio max",
                      "commands rejected", "brake p50 (ms)", "brake max (ms)"], kinds)
            + _table(["episode", "fault", "target", "at (s)", "duration (s)", "arm speed / limit",
                      "violations", "executor modes", "rejected", "brake (ms)", "nav modes",
                      "outcome"], rows, text_cols=3))


def _section_runtime(s: dict[str, Any]) -> str:
    r = s["runtime"]
    rows = [("episodes finished", fmt(r["episodes"])), ("episodes pending",
                                                         fmt(r["episodes_pending"])),
            ("wall time total (s)", fmt(r["wall_s_total"], 5)),
            ("wall time per episode, median (s)", fmt(r["wall_s_median"])),
            ("startup, median (s)", fmt(r["startup_s_median"])),
            ("real-time factor, median", fmt(r["real_time_factor_median"])),
            ("real-time factor, min", fmt(r["real_time_factor_min"])),
            ("CPU seconds per episode second, median", fmt(r["cpu_s_per_episode_s_median"])),
            ("bag MB per episode second, median", fmt(r["bag_mb_per_episode_s_median"])),
            ("created", fmt(r["created_at"])), ("updated", fmt(r["updated_at"]))]
    rows += [(esc(f"runner: {k}"), fmt(v)) for k, v in r["runner"].items()]
    return "<h2>Runtime</h2>" + _table(["", "value"], rows)


def render_html(run: RunData, summary: dict[str, Any]) -> str:
    s = summary
    title = f"Campaign report: {s['campaign']}"
    warnings = "".join(f'<p class="warn">Warning: {esc(w)}</p>' for w in s["warnings"])
    head = (f"<h1>{esc(title)}</h1><p>Run folder <code>{esc(s['run_dir'])}</code>, "
            f"{'real robot' if s['real'] else 'simulation'}, scenario "
            f"<code>{esc(s['scenario_file'])}</code> (sha256 {esc(s['scenario_sha256'][:12])}), "
            f"generated {esc(s['generated_at'])}.</p>{warnings}")
    body = "".join([head, _section_success(s), _section_status(s), _section_times(run, s),
                    _section_drivers(s), _section_gallery(run, s), _section_interventions(s),
                    _section_safety(s), _section_faults(s), _section_runtime(s)])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
