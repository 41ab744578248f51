"""`ifagent bench language` (parser half): runs, prints a table and one JSON object last."""

from __future__ import annotations

import json
import subprocess
import sys


def test_bench_language_parser_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "bench", "language", "--no-asr",
         "--no-baseline", "--json"], capture_output=True, text=True, timeout=120, check=True)
    lines = out.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert figures["n_test"] >= 150
    assert figures["parser_accuracy_all"] >= 0.95
    assert {"parse_p50_ms", "parse_p99_ms", "parser_accuracy_type"} <= set(figures)
    assert any("rule parser" in line for line in lines)
