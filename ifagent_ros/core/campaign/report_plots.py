"""Plots of the campaign report, each returned as a ``data:image/png;base64,...`` URI so the page
needs no other file. Uses matplotlib's Agg canvas directly (no pyplot: no global backend state,
no display needed, safe in any process)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["factor_plot", "interventions_plot", "png_data_uri", "snapshot_thumbnail",
           "success_plot", "time_to_success_plot", "trajectory_plot"]

DPI = 80
SNAPSHOT_MAX_PX = 480
SNAPSHOT_MAX_BYTES = 20_000_000   # refuse to decode anything bigger (a broken camera dump)
COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#8C8C8C", "#CCB974", "#64B5CD"]


def _label(text: str) -> str:
    """Names from files as literal matplotlib text: '$' would start mathtext (and can raise)."""
    return str(text).replace("$", r"\$")


def png_data_uri(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def _width(n: int) -> float:
    return min(12.0, 2.5 + 0.9 * n)


def success_plot(success: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Bar per condition: success rate with its Wilson 95% interval."""
    conds = [c for c, s in success.items() if s["rate"] is not None]
    if not conds:
        return None
    fig, ax = _figure(_width(len(conds)), 3.2)
    rate = np.array([success[c]["rate"] for c in conds])
    low = rate - np.array([success[c]["ci95_low"] for c in conds])
    high = np.array([success[c]["ci95_high"] for c in conds]) - rate
    x = np.arange(len(conds))
    ax.bar(x, rate, color=[COLOURS[i % len(COLOURS)] for i in range(len(conds))])
    ax.errorbar(x, rate, yerr=[low, high], fmt="none", ecolor="black", capsize=5)
    for xi, c in zip(x, conds, strict=True):
        s = success[c]
        ax.text(xi, 0.02, f"{s['successes']}/{s['n']}", ha="center", va="bottom", color="white")
    ax.set_xticks(x, [_label(c) for c in conds], rotation=20 if len(conds) > 4 else 0)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (Wilson 95%)")
    return png_data_uri(fig)


def time_to_success_plot(values: Mapping[str, Sequence[float]]) -> str | None:
    """Box plot of time to success per condition with every episode as a jittered dot."""
    conds = [c for c, v in values.items() if len(v)]
    if not conds:
        return None
    fig, ax = _figure(_width(len(conds)), 3.2)
    data = [np.asarray(values[c], dtype=float) for c in conds]
    ax.boxplot(data, positions=np.arange(len(conds)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # fixed jitter: the same report twice is the same file
    for i, d in enumerate(data):
        ax.scatter(i + rng.uniform(-0.15, 0.15, d.size), d, s=12, alpha=0.7,
                   color=COLOURS[i % len(COLOURS)], zorder=3)
    ax.set_xticks(np.arange(len(conds)), [_label(c) for c in conds])
    ax.set_ylabel("time to success (s)")
    return png_data_uri(fig)


def factor_plot(factor: Mapping[str, Any]) -> str | None:
    """Success rate in the tertile bins of one factor, with Wilson intervals."""
    bins = factor["tertiles"]
    if not bins:
        return None
    fig, ax = _figure(4.2, 2.8)
    x = np.arange(len(bins))
    rate = np.array([b["rate"] for b in bins])
    ax.bar(x, rate, color="#4C72B0")
    ax.errorbar(x, rate, yerr=[rate - np.array([b["ci95_low"] for b in bins]),
                               np.array([b["ci95_high"] for b in bins]) - rate],
                fmt="none", ecolor="black", capsize=4)
    ax.set_xticks(x, [f"{b['low']:.3g}..{b['high']:.3g}\n(n={b['n']})" for b in bins],
                  fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate")
    ax.set_title(_label(factor["factor"]), fontsize=10)
    return png_data_uri(fig)


def interventions_plot(per_condition: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Mean limit interventions per episode, stacked by limit, per condition."""
    conds = [c for c, v in per_condition.items() if v["n"]]
    if not conds:
        return None
    limits = sorted({k for c in conds for k in per_condition[c]["by_limit"]})
    fig, ax = _figure(_width(len(conds)), 3.2)
    x = np.arange(len(conds))
    if limits:
        bottom = np.zeros(len(conds))
        for i, limit in enumerate(limits):
            h = np.array([per_condition[c]["by_limit"].get(limit, 0) / per_condition[c]["n"]
                          for c in conds])
            ax.bar(x, h, bottom=bottom, label=_label(limit), color=COLOURS[i % len(COLOURS)])
            bottom += h
        ax.legend(fontsize=8)
    else:
        ax.bar(x, [per_condition[c]["mean_per_episode"] or 0.0 for c in conds], color="#4C72B0")
    ax.set_xticks(x, [_label(c) for c in conds])
    ax.set_ylabel("limit interventions / episode")
    return png_data_uri(fig)


def trajectory_plot(trajectory: Mapping[str, Sequence[Sequence[float]]]) -> str:
    """Top view (x, y) of the end effector or the base; start green, end red."""
    key = "ee_xyz" if "ee_xyz" in trajectory else "base_xy"
    pts = np.asarray(trajectory[key], dtype=float)
    fig, ax = _figure(2.6, 2.6)
    ax.plot(pts[:, 1], pts[:, 2], color="#4C72B0", lw=1.2)
    ax.scatter(pts[:1, 1], pts[:1, 2], color="green", s=25, zorder=3, label="start")
    ax.scatter(pts[-1:, 1], pts[-1:, 2], color="red", s=25, zorder=3, label="end")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)", fontsize=8)
    ax.set_ylabel("y (m)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title("end effector" if key == "ee_xyz" else "base", fontsize=9)
    return png_data_uri(fig)


def snapshot_thumbnail(path: Path) -> tuple[str | None, str | None]:
    """(data URI of a PNG thumbnail, None) or (None, why not). Decoding the image here means a
    truncated or non-image snapshot.png becomes a note, never a broken image on the page."""
    from PIL import Image, UnidentifiedImageError

    try:
        if path.stat().st_size > SNAPSHOT_MAX_BYTES:
            return None, f"snapshot.png is over {SNAPSHOT_MAX_BYTES // 1_000_000} MB"
        with Image.open(path) as img:
            img.load()
            thumb = img.convert("RGB")
    except FileNotFoundError:
        return None, "no snapshot.png"
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        return None, f"snapshot.png unreadable ({type(exc).__name__})"
    if thumb.width == 0 or thumb.height == 0:
        return None, "snapshot.png is empty"
    thumb.thumbnail((SNAPSHOT_MAX_PX, SNAPSHOT_MAX_PX))
    buf = io.BytesIO()
    thumb.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), None
