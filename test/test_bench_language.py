"""`ifagent bench language`: the parser half, and the speech half on a tiny spoken corpus."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


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


def test_bench_language_speech_json(tmp_path):
    """A tiny spoken corpus through Whisper, the refusal and the stop detector: the JSON holds
    every figure the issue asks for, in range (no timing goals asserted here)."""
    pytest.importorskip("faster_whisper")
    out = subprocess.run(
        [sys.executable, "-m", "ifagent_ros.cli", "bench", "language", "--no-baseline",
         "--backend", "whisper", "--limit", "9", "--latency-n", "1",
         "--corpus-dir", str(tmp_path / "corpus"), "--json"],
        capture_output=True, text=True, timeout=240, check=True)
    lines = out.stdout.strip().splitlines()
    fig = json.loads(lines[-1])
    assert fig["parser_accuracy_all"] >= 0.95  # the parser half is still there
    assert fig["n_utterances"] == 9
    assert min(fig["n_kind_command"], fig["n_kind_stop"], fig["n_kind_unrelated"]) >= 1
    for key in ("whisper_correction_accuracy_all", "whisper_stop_recall_ptt",
                "whisper_stop_recall_transcript", "stop_recall_no_ptt",
                "whisper_unrelated_to_command_rate", "whisper_release_correction_accuracy",
                "reference_correction_accuracy"):
        assert 0.0 <= fig[key] <= 1.0, key
    assert 0 <= fig["whisper_unrelated_to_command_count"] <= fig["n_kind_unrelated"]
    assert 0.0 <= fig["false_stops_per_100_unrelated"] <= 100.0
    assert 0.0 <= fig["whisper_false_stops_per_100_unrelated"] <= 100.0
    assert 0.0 <= fig["whisper_wer_commands"] <= 3.0
    assert fig["whisper_rtf"] > 0.0 and fig["stop_detector_rtf"] > 0.0
    assert fig["whisper_release_to_correction_n"] == 1
    assert fig["whisper_release_to_correction_p50_ms"] > 0.0
    assert "stop_to_estop_p95_ms" in fig and "whisper_decode_p50_ms" in fig
    assert any("exact corrections" in line for line in lines)
    assert (tmp_path / "corpus" / "index.json").exists()
