"""`ifagent campaign report RUN_DIR [--html FILE] [--summary FILE] [--json]`: report.html and
summary.json of a run folder, the success rates printed."""

from __future__ import annotations

import argparse

from ifagent_ros.cli.campaign.common import add_json_flag, emit, fail, warn
from ifagent_ros.core.campaign.run_folder import CampaignError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder (runs/NAME)")
    parser.add_argument("--html", default=None, metavar="FILE",
                        help="where to write the page (default RUN_DIR/report.html)")
    parser.add_argument("--summary", default=None, metavar="FILE",
                        help="where to write the figures (default RUN_DIR/summary.json)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ifagent_ros.core.campaign.report import write_report

    try:
        result = write_report(args.run_dir, args.html, args.summary)
    except CampaignError as exc:
        return fail("report", exc, args)
    warn("report", result.warnings)
    s = result.summary
    lines = [f"campaign {s['campaign']}: {s['counts']['finished']} finished, "
             f"{s['counts']['failed']} failed, {s['counts']['invalid']} invalid, "
             f"{s['counts']['pending']} pending"]
    for cond, v in s["success"].items():
        rate = "-" if v["rate"] is None else (
            f"{v['rate']:.0%} [{v['ci95_low']:.0%}, {v['ci95_high']:.0%}]")
        lines.append(f"  {cond}: success {v['successes']}/{v['n']} {rate}")
    lines += [f"wrote {result.html_path}", f"wrote {result.summary_path}"]
    emit(args, "\n".join(lines), {"html": str(result.html_path),
                                  "summary_file": str(result.summary_path), **s})
    return 0
