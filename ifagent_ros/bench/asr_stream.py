"""Streamed figures of `ifagent bench language`: the always-on stop detector and push-to-talk.

Stop detector (no push-to-talk, backend independent): each utterance is pushed into the two stop
paths speech_node runs (keyphrase spotting, :class:`~ifagent_ros.core.speech.stop_detector.
StopDetector`, and Whisper on short segments, :class:`~ifagent_ros.core.speech.stop_segments.
SegmentStopSpotter`), each reset first, in ``CHUNK`` = 1024-sample chunks (64
ms, what audio_capture_node publishes), followed by 1 s of silence with a little noise (the
microphone keeps streaming after the word). The e-stop of a detection is latched when the chunk
that fired has arrived and ``push`` has returned: its latency is the end of that chunk minus the
end of the stop word (``Utterance.stop_end_s``: the end of the loud frames of the stop word or
phrase synthesized alone, e.g. "please stop" of "please stop now") plus the push's compute time.
Measured as fast as the CPU allows, not paced; the detector keeps up in real time when its
real-time factor (``stop_detector_rtf``) is well under 1.

Release -> correction (push-to-talk): a command is fed to A's
:class:`~ifagent_ros.core.speech.partial_decoding.PushToTalkDecoder` at real-time pace, pressed
at the start of the file (0.3 s before the speech) and released 0.3 s after the end of the
speech (the operator lets go of the button a moment after speaking); the figure is the wall time
of ``release()`` plus the refusal; ``<b>_release_correction_accuracy``: exact corrections from
what release returned, ``<b>_release_reused_partial_rate``: releases answered by a partial.
Without ``partial_decoding`` (not there yet), release decodes
the whole buffer once (``<b>_release_partials`` = 0).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE, read_wav
from ifagent_ros.core.speech.corpus import (
    Utterance,
    expected_correction,
    scene_objects,
    scene_words,
)
from ifagent_ros.core.speech.corpus_sentences import STOPISH
from ifagent_ros.core.stats import percentiles_ms

CHUNK = 1024  # samples per /audio message (audio_capture_node's chunk_size)
TAIL_S = 1.0  # silence streamed after each utterance
RELEASE_AFTER_S = 0.3  # the button is released this long after the end of the speech


def _chunks(audio: np.ndarray, size: int = CHUNK) -> list[np.ndarray]:
    return [audio[i : i + size] for i in range(0, audio.shape[0], size)]


def _with_tail(audio: np.ndarray, seed: int) -> np.ndarray:
    hiss = np.random.default_rng(seed).normal(0.0, 20.0, int(TAIL_S * SAMPLE_RATE))
    return np.concatenate([audio, hiss.astype(np.int16)])


def default_detectors() -> dict[str, Any]:
    """The two stop paths speech_node runs side by side (each in its own thread there)."""
    from ifagent_ros.core.speech.stop_detector import StopDetector

    detectors: dict[str, Any] = {"keyphrase": StopDetector()}
    try:
        from ifagent_ros.core.speech.stop_segments import SegmentStopSpotter

        detectors["segments"] = SegmentStopSpotter()
    except Exception:  # noqa: BLE001 - Whisper missing: the keyphrase path alone, as in the node
        pass
    return detectors


def stream_detector(utterances: Sequence[Utterance], root: Path, detector: Any | None = None,
                    ) -> tuple[dict[str, bool], dict[str, Any]]:
    """Push every utterance through the stop paths: (fired per file, figures).

    ``detector``: one detector, or None for both of speech_node's paths. A path's hit time is
    the end of the chunk that fired plus that path's own push time (the node runs each path in
    its own thread); the e-stop is the earlier of the paths'. The figures without a prefix are
    the union (what the node does); ``<path>_stop_recall_no_ptt`` etc. are each path alone."""
    detectors = {"stop": detector} if detector is not None else default_detectors()
    fired: dict[str, bool] = {}
    per_path: dict[str, dict[str, bool]] = {name: {} for name in detectors}
    latencies: list[float] = []
    path_latencies: dict[str, list[float]] = {name: [] for name in detectors}
    busy = {name: 0.0 for name in detectors}
    audio_s = 0.0
    for k, u in enumerate(utterances):
        audio = _with_tail(read_wav(root / u.path).samples, k)
        hits: dict[str, float] = {}
        for name, det in detectors.items():
            det.reset()
            pushed = 0
            for chunk in _chunks(audio):
                t0 = time.perf_counter()
                events = det.push(chunk)
                spent = time.perf_counter() - t0
                busy[name] += spent
                pushed += chunk.shape[0]
                if events and name not in hits:
                    hits[name] = pushed / SAMPLE_RATE + spent
            per_path[name][u.path] = name in hits
            if name in hits and u.kind == "stop":
                path_latencies[name].append(hits[name] - u.stop_end_s)
        audio_s += audio.shape[0] / SAMPLE_RATE
        fired[u.path] = bool(hits)
        if hits and u.kind == "stop":
            latencies.append(min(hits.values()) - u.stop_end_s)  # < 0: fired during the word
    fig = _detector_figures(utterances, fired, latencies)
    fig["stop_detector_rtf"] = sum(busy.values()) / max(audio_s, 1e-9)
    if detector is None:
        for name in detectors:
            alone = _detector_figures(utterances, per_path[name], path_latencies[name])
            fig.update({f"{name}_{k}": v for k, v in alone.items()
                        if not isinstance(v, list)})
            fig[f"{name}_stop_detector_rtf"] = busy[name] / max(audio_s, 1e-9)
    return fired, fig


def _detector_figures(utterances: Sequence[Utterance], fired: dict[str, bool],
                      latencies: list[float]) -> dict[str, Any]:
    fig: dict[str, Any] = {}
    stops = [u for u in utterances if u.kind == "stop"]
    unrel = [u for u in utterances if u.kind == "unrelated"]
    cmds = [u for u in utterances if u.kind == "command"]
    if stops:
        fig["stop_recall_no_ptt"] = float(np.mean([fired[u.path] for u in stops]))
        for split in ("heldout", "tuning"):
            sel = [fired[u.path] for u in stops if u.split == split]
            if sel:
                fig[f"stop_recall_no_ptt_{split}"] = float(np.mean(sel))
        fig["stops_missed_no_ptt"] = sorted(f"{u.text} ({u.voice} {u.speed} {u.noise})"
                                            for u in stops if not fired[u.path])
        lat = percentiles_ms(latencies)
        fig["stop_to_estop_p50_ms"] = lat["p50_ms"]
        fig["stop_to_estop_p95_ms"] = (float(np.percentile(np.array(latencies) * 1e3, 95))
                                       if latencies else None)
        fig["stop_to_estop_max_ms"] = lat["max_ms"]
    if unrel:
        fig["false_stops_per_100_unrelated"] = 100.0 * float(np.mean([fired[u.path]
                                                                      for u in unrel]))
        plain = [fired[u.path] for u in unrel if not STOPISH.search(u.text)]
        if plain:
            fig["false_stops_per_100_unrelated_not_stopish"] = 100.0 * float(np.mean(plain))
        fig["false_stops_unrelated"] = sorted(u.text for u in unrel if fired[u.path])
    if cmds:
        fig["false_stops_per_100_commands"] = 100.0 * float(np.mean([fired[u.path]
                                                                     for u in cmds]))
    return fig


def release_latency(b: str, recognizer: Any, utterances: Sequence[Utterance], root: Path,
                    act: Callable[..., tuple[str, dict[str, Any]]],
                    pace: bool = True) -> dict[str, Any]:
    """Release -> correction latency over ``utterances`` (commands), fed at real-time pace."""
    try:
        from ifagent_ros.core.speech.partial_decoding import PushToTalkDecoder
    except ImportError:
        PushToTalkDecoder = None
    from ifagent_ros.bench.asr import same_correction
    from ifagent_ros.core.language.parser import CorrectionParser

    parser = CorrectionParser()
    samples: list[float] = []
    exact: list[bool] = []
    reused: list[bool] = []
    for u in utterances:
        objects = scene_objects(u.scene_seed)
        words = scene_words(objects)
        recognizer.set_vocabulary(words)
        audio = read_wav(root / u.path).samples
        release_s = min(u.speech_end_s + RELEASE_AFTER_S, audio.shape[0] / SAMPLE_RATE)
        audio = audio[: int(release_s * SAMPLE_RATE)]
        decoder = PushToTalkDecoder(recognizer) if PushToTalkDecoder is not None else None
        if decoder is not None:
            decoder.press(0.0)
        t_start = time.perf_counter()
        fed = 0
        for chunk in _chunks(audio):
            if pace:  # the chunk exists only once it has been spoken
                due = t_start + (fed + chunk.shape[0]) / SAMPLE_RATE
                time.sleep(max(0.0, due - time.perf_counter()))
            fed += chunk.shape[0]
            if decoder is not None:
                decoder.feed(chunk)
        t0 = time.perf_counter()
        if decoder is not None:
            speech = decoder.release(release_s)
        else:
            speech = recognizer.transcribe(audio, 0.0, release_s)
        outcome, fields = ("refused", {}) if speech is None else act(
            speech.text, speech.confidence, objects, words)
        samples.append(time.perf_counter() - t0)
        exact.append(outcome == "command" and same_correction(
            fields, expected_correction(u, parser).model_dump()))
        if decoder is not None:
            report = getattr(decoder, "last_release", None)
            reused.append(getattr(report, "outcome", "") == "reused")
            decoder.close()
    if not samples:
        return {}
    ms = np.array(samples) * 1e3
    p50, p95 = np.percentile(ms, [50, 95])
    return {f"{b}_release_to_correction_p50_ms": float(p50),
            f"{b}_release_to_correction_p95_ms": float(p95),
            f"{b}_release_to_correction_max_ms": float(ms.max()),
            f"{b}_release_to_correction_n": len(samples),
            f"{b}_release_correction_accuracy": float(np.mean(exact)),
            f"{b}_release_reused_partial_rate": float(np.mean(reused)) if reused else None,
            f"{b}_release_partials": int(PushToTalkDecoder is not None)}


__all__ = ["CHUNK", "RELEASE_AFTER_S", "release_latency", "stream_detector"]
