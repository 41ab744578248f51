"""Always-on stop-word spotting on the live audio: stop, halt, freeze, e-stop, abort, "hold on".

:class:`StopDetector` runs pocketsphinx keyphrase spotting (the ``kws`` search) on every chunk
pushed to it (int16 16 kHz mono, any length), in one long running utterance. pocketsphinx keeps,
per keyphrase, the best-scoring detection of each overlapping region, scored as the keyphrase
path's log score minus the free phone loop's (logmath units, higher is more certain). The
decoder's own threshold is a permissive floor (``kws_floor``); the per-phrase thresholds of
:attr:`StopDetectorConfig.thresholds` are applied here, on every chunk, to the detections
pocketsphinx has reported so far. The first one at or over its threshold fires a
:class:`StopEvent` and restarts the utterance, so one spoken stop gives one event. The utterance
is also restarted every ``restart_s`` seconds of audio (at a quiet 10 ms frame when there is
one, at ``max_utterance_s`` whatever the audio) so the detection list and the scores stay bounded.

Why this method and these numbers: see ``ifagent_ros/bench/stop.py`` (the benchmark that
compares it with a VAD-segment grammar decode and tunes the thresholds on the tuning voices only).
Measured on the espeak-ng stop corpus (100 ms chunks, 2 shared and busy CPU cores), compared on
the same 150 stops and 288 unrelated sentences (4 tuning voices + en-us-nyc, clean
and 10 dB): kws with the default thresholds heard 41 % of the stops, all within 250 ms, with 8.0
false stops per 100 unrelated; silero-vad (100 ms closing silence) + the grammar decode heard
28 %, 1 % within 250 ms (latency p50 556 ms), with 4.5 false stops per 100.

Whole corpus, default thresholds: tuning voices 53 % of 540 stops heard (clean 71 %, 20 dB 57 %,
10 dB 30 %) with 12 false stops per 100 unrelated sentences; held-out voices 31 % of 135 (clean
44 %, 10 dB 18 %) with 5.3 per 100. Latency (end of the stop word -> event) p50 35 ms,
p95 164 ms, max 566 ms; real-time factor 0.07, chunk p99 20 ms. Two more processes spinning on
both cores, audio pushed at real time: p95 150 ms, chunk p99 39 ms.

So it is fast and never waits, but far from the goals (100 % recall, <= 1 false stop per 100):
pocketsphinx's acoustic model separates these short words from its phone loop poorly on synthetic
voices, in noise worst of all. It is a fast first line, not a guarantee; the released
utterance's transcript (``is_stop``) stays the second.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ifagent_ros.core.speech.audio import SAMPLE_RATE

FRAME = SAMPLE_RATE // 100  # pocketsphinx's 10 ms frame
STOP_PHRASES: tuple[str, ...] = ("stop", "halt", "freeze", "e stop", "abort", "hold on")

# Per-phrase thresholds on the detection score (keyphrase minus phone loop, logmath units, with
# kws_plp 1e-10), tuned on the tuning voices only (bench/stop.py `tune`: greedy, lowering the
# threshold that adds the most heard stops per added false stop). Lower fires more easily.
# Tuning figures (540 stop utterances, 1230 negatives, clean/20 dB/10 dB):
#   RECALL_THRESHOLDS (default): 53 % of stops heard, 9.6 false stops per 100 negatives;
#   PRECISE_THRESHOLDS:          21 % of stops heard, 0.8 false stops per 100 negatives.
RECALL_THRESHOLDS: dict[str, float] = {
    "stop": -996.0, "halt": -1010.0, "freeze": -977.0, "e stop": -1076.0, "abort": -1061.0,
    "hold on": -1131.0,
}
PRECISE_THRESHOLDS: dict[str, float] = {
    "stop": -996.0, "halt": -488.0, "freeze": -577.0, "e stop": -969.0, "abort": -488.0,
    "hold on": 1e9,
}
DEFAULT_THRESHOLDS = RECALL_THRESHOLDS
DEFAULT_PHONE_LOOP: dict[str, float] = {p: 1e-10 for p in STOP_PHRASES}


@dataclass
class StopDetectorConfig:
    """Stop-word spotting settings (``speech.stop_*`` parameters)."""

    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # phone-loop probability per phrase (pocketsphinx kws_plp): a lower one weakens the free
    # phone loop the phrase competes with; phrases with the same value share one decoder
    phone_loop: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PHONE_LOOP))
    kws_floor: float = 1e-50  # pocketsphinx's own (linear) threshold: below every tuned one
    kws_delay: int = 2  # frames pocketsphinx waits before reporting a detection (default 10)
    noise_floor: float = 100.0  # std (LSB) of white noise added (digital silence breaks CMN)
    restart_s: float = 10.0  # restart the utterance after this much audio, at a quiet frame
    max_utterance_s: float = 30.0  # ... and after this much, quiet or not
    quiet_db: float = 6.0  # a frame this close to the running noise floor counts as quiet
    refractory_s: float = 0.5  # no second event within this time of one
    sample_rate: int = SAMPLE_RATE


@dataclass(frozen=True)
class StopEvent:
    """One detected stop phrase."""

    phrase: str  # "stop", "halt", "freeze", "e stop", "abort", "hold on"
    sample: int  # samples pushed when it fired (index in the stream of the firing frame)
    score: float  # detection score (keyphrase minus phone loop, logmath units)
    start_sample: int = 0  # where pocketsphinx aligned the phrase in the stream
    end_sample: int = 0


class StopDetector:
    """``push(chunk) -> [StopEvent, ...]`` over a stream of int16 mono 16 kHz audio."""

    def __init__(self, config: StopDetectorConfig | None = None) -> None:
        from pocketsphinx import Decoder

        from ifagent_ros.core.speech.pocketsphinx_recognizer import model_paths

        self.config = config or StopDetectorConfig()
        cfg = self.config
        if cfg.sample_rate != SAMPLE_RATE:
            raise ValueError(f"the stop detector needs {SAMPLE_RATE} Hz audio, "
                             f"not {cfg.sample_rate} Hz (resample first)")
        unknown = set(cfg.thresholds) - set(STOP_PHRASES)
        if unknown:
            raise ValueError(f"unknown stop phrases {sorted(unknown)}; known: {STOP_PHRASES}")
        paths = model_paths()
        groups: dict[float, list[str]] = {}
        for phrase in cfg.thresholds:
            groups.setdefault(cfg.phone_loop.get(phrase, 1e-1), []).append(phrase)
        self._decoders: list[Any] = []
        for plp, phrases in sorted(groups.items()):
            with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
                f.writelines(f"{phrase} /{cfg.kws_floor:g}/\n" for phrase in phrases)
                keyfile = f.name
            try:
                self._decoders.append(Decoder(
                    hmm=paths["hmm"], kws=keyfile, kws_plp=plp, dict=paths["dict"],
                    kws_delay=cfg.kws_delay,
                    loglevel="FATAL",
                ))
            finally:
                os.unlink(keyfile)
        self._logmath = self._decoders[0].get_logmath()
        # reset() goes back to these: pocketsphinx carries the cepstral mean across utterances,
        # so without it a detection would depend on what the detector heard before the reset
        self._initial_cmn = [decoder.get_cmn() for decoder in self._decoders]
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next push starts at sample 0, from the model's initial
        cepstral mean (the same audio after a reset gives the same events)."""
        for decoder, cmn in zip(self._decoders, self._initial_cmn, strict=True):
            if getattr(self, "_in_utt", False):
                decoder.end_utt()
            decoder.set_cmn(cmn)
            decoder.start_utt()
        self._rng = np.random.default_rng(0)
        self._in_utt = True
        self._pushed = 0  # samples pushed since reset
        self._utt_start = 0  # stream sample where the running utterance started
        self._last_event = -(10**12)
        self._floor_db: float | None = None
        self._quiet_at = -1  # stream sample at the end of the latest quiet frame
        self.restarts = 0

    @property
    def samples_pushed(self) -> int:
        return self._pushed

    def _restart(self) -> None:
        for decoder in self._decoders:
            decoder.end_utt()
            decoder.start_utt()
        self._utt_start = self._pushed
        self.restarts += 1

    def candidates(self) -> list[tuple[str, int, int, float]]:
        """The detections of the running utterance so far: (phrase, start sample, end sample,
        score), before the per-phrase thresholds (for tuning)."""
        out = []
        segs = [seg for decoder in self._decoders for seg in decoder.seg() or ()]
        for seg in segs:
            score = float(self._logmath.log(seg.prob)) if seg.prob > 0 else -1e9
            out.append((seg.word.strip(), self._utt_start + seg.start_frame * FRAME,
                        self._utt_start + (seg.end_frame + 1) * FRAME, score))
        return out

    def _track_quiet(self, audio: np.ndarray) -> None:
        """Update the running noise floor (dB) and the latest quiet 10 ms frame."""
        n = audio.shape[0] // FRAME
        if n == 0:
            return
        frames = audio[: n * FRAME].astype(np.float32).reshape(n, FRAME)
        db = 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1.0)
        low = float(db.min())
        floor = low if self._floor_db is None else min(low, self._floor_db + 0.05 * n)
        self._floor_db = floor
        quiet = np.flatnonzero(db <= floor + self.config.quiet_db)
        if quiet.size:
            self._quiet_at = self._pushed - audio.shape[0] + int(quiet[-1] + 1) * FRAME

    def push(self, chunk: np.ndarray) -> list[StopEvent]:
        """Feed int16 samples (any length); the stop phrases that fired within them."""
        if not isinstance(chunk, np.ndarray):
            raise TypeError(f"the stop detector needs a numpy int16 array, got {type(chunk)}")
        if chunk.dtype != np.int16:
            raise ValueError(f"the stop detector needs int16 audio, got {chunk.dtype} "
                             "(convert float audio with (x * 32767).astype(np.int16))")
        if chunk.ndim == 2 and chunk.shape[1] == 1:
            chunk = chunk[:, 0]
        if chunk.ndim != 1:
            raise ValueError(f"the stop detector needs mono audio of shape (n,), got {chunk.shape}")
        if chunk.shape[0] == 0:
            return []
        cfg = self.config
        audio = chunk
        if cfg.noise_floor > 0:
            noise = self._rng.normal(0.0, cfg.noise_floor, chunk.shape[0])
            audio = np.clip(chunk + noise, -32768, 32767).astype(np.int16)
        data = np.ascontiguousarray(audio).tobytes()
        for decoder in self._decoders:
            decoder.process_raw(data, False, False)
        self._pushed += chunk.shape[0]
        self._track_quiet(audio)
        events = self._fire()
        if not events:
            length = self._pushed - self._utt_start
            quiet_restart = (length >= cfg.restart_s * SAMPLE_RATE
                             and self._quiet_at >= self._pushed - FRAME * 5)
            if quiet_restart or length >= cfg.max_utterance_s * SAMPLE_RATE:
                self._restart()
        return events

    def _fire(self) -> list[StopEvent]:
        best: StopEvent | None = None
        for phrase, start, end, score in self.candidates():
            threshold = self.config.thresholds.get(phrase)
            if threshold is None or score < threshold or end <= self._last_event:
                continue
            margin = score - threshold
            if best is None or margin > best.score - self.config.thresholds[best.phrase]:
                best = StopEvent(phrase, self._pushed, score, start, end)
        if best is None:
            return []
        refractory = self.config.refractory_s * SAMPLE_RATE
        self._restart()
        if best.sample - self._last_event < refractory:
            return []
        self._last_event = best.sample
        return [best]


__all__ = [
    "DEFAULT_THRESHOLDS",
    "PRECISE_THRESHOLDS",
    "RECALL_THRESHOLDS",
    "STOP_PHRASES",
    "StopDetector",
    "StopDetectorConfig",
    "StopEvent",
]
