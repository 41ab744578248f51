"""Whisper through CTranslate2 (faster-whisper's features and tokenizer), offline, English only.

One utterance -> log-Mel features -> ``ctranslate2.models.Whisper.generate`` (greedy) with a
prompt that lists the correction vocabulary and the live scene words: Whisper reads it as the
text said just before, so command and scene words become likelier. On the dev set below
(window audio + 1 s) the prompt took exact commands from 13/37 to 24/37; a prompt of the scene
words alone gave 12/37. The transcript is free-form (``in_grammar=False``): the parser decides
what is a command.

Encoder window (``encoder_window_s``, default 10 s): Whisper was trained on 30 s windows, and
faster-whisper always pads to 3000 frames, so a 1.5 s command costs a full 30 s encoder pass.
CTranslate2 also accepts shorter features (zero-padded here as faster-whisper pads). Shorter
windows are faster but make Whisper loop ("move left move left ...") instead of ending, which
costs tokens and sometimes words; 10 s gave the most exact commands at 1/3.5 of the 30 s time
(:data:`WINDOW_MEASUREMENT`). Audio longer than the window gets a window of its own length.

Hallucination guards, cheapest first (each returns empty text):
1. no frame louder than the utterance's quiet frames (:func:`~.asr.speech_frames`): no decode;
2. no voice: fewer than ``min_voice_frames`` 32 ms frames with a silero-vad speech probability
   above ``voice_threshold`` (the ONNX model inside faster-whisper, ~10 ms per second of audio):
   no decode. With the command prompt Whisper turned every one of 12 non-speech clips (noise
   bursts, clicks, hum, tones, a cough, a thump) into command words ("now let's go to the red
   block", "turn right", "slower faster"); silero's highest probability on them was 0.16, while
   every dev-set utterance had at least 7 frames above 0.5;
3. Whisper's own rule: no-speech probability above ``no_speech_threshold`` while the mean token
   log-prob is below ``logprob_threshold``;
4. a transcript that compresses too well (zlib ratio above ``compression_ratio_threshold``): a
   repetition loop. Shorter loops (a word or phrase said three
   times or more in a row) are collapsed to one occurrence, and a transcript that repeats
   itself from its start is cut to its first cycle, before the ratio is taken.
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import FRAMES_PER_S, AsrConfig, speech_frames
from ifagent_ros.core.speech.audio import SAMPLE_RATE, truncate_utterance, validate_audio
from ifagent_ros.core.speech.grammar import split_vocabulary
from ifagent_ros.core.speech.whisper_weights import model_dir

_log = logging.getLogger(__name__)

FULL_WINDOW_FRAMES = 3000  # Whisper's 30 s encoder window (100 frames per second)
MIN_SPEECH_FRAMES = 5  # guard 1: fewer loud 10 ms frames than this is not speech
# What an operator says to the arm; Whisper reads it as the text just before the utterance.
COMMAND_PROMPT = (
    "Move left, right, up, down, forward, back, closer, away, a bit, a little, slightly, a lot. "
    "Twist left, tilt up, open the gripper, close the gripper, let go, grab it. Slower, faster, "
    "undo, start over, no, not that. Stop, halt, freeze, hold on, e-stop, abort."
)
# Dev set: 121 espeak-ng utterances in the tuning voices only (en-us, en-gb-scotland, en-029,
# en-gb-x-rp at 130/170/210 wpm; 93 commands and stops, 28 chit-chat), command prompt + 4 scene
# objects, greedy, CPU int8, 2 threads, each utterance decoded by every window in turn on the
# shared (loaded) 2-core dev VM, so the times compare with each other, not with a quiet machine.
WINDOW_MEASUREMENT = """
window          commands exact  chit-chat exact  hit token limit  mean s  p50 s  p95 s
audio + 1 s     61/93           10/28            83/121           0.41    0.39   0.70
fixed 5 s       63/93           10/28            35/121           0.38    0.34   0.60
fixed 10 s      68/93           10/28            12/121           0.52    0.47   0.83
fixed 15 s      67/93           11/28             4/121           0.72    0.63   1.25
30 s (Whisper)  58/93           10/28             3/121           1.82    1.63   2.93
beam 5 vs greedy at 10 s, same set, interleaved: 70/93 vs 68/93 commands, 2 vs 12 token-limit
hits, mean 0.55 vs 0.50 s: within noise for accuracy, so greedy stays the default (beam_size).
"""
_PUNCT = re.compile(r"[^\w\s']")


@dataclass(frozen=True)
class WhisperDecode:
    """What one :meth:`WhisperRecognizer.transcribe` did (for logs and the benchmark)."""

    text: str  # normalised: lower case, no punctuation ("e-stop" -> "e stop")
    raw_text: str  # Whisper's own text
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    window_frames: int  # encoder input length (3000 = 30 s)
    tokens: int
    ended: bool  # reached end-of-text (False: stopped at the token limit)
    seconds: float  # wall time of features + generate
    rejected: str = ""  # why the text was emptied ("" when kept)


def resolve_device(device: str, compute_type: str, cuda_devices: int) -> tuple[str, str]:
    """(device, compute_type): auto picks CUDA float16 when a GPU is visible, else CPU int8."""
    if device == "auto":
        device = "cuda" if cuda_devices > 0 else "cpu"
    if device not in ("cpu", "cuda"):
        raise ValueError(f"asr.device must be auto, cpu or cuda, not {device!r}")
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


def normalise(text: str) -> str:
    """Lower case, hyphens to spaces, punctuation dropped (apostrophes kept), single spaces."""
    text = _PUNCT.sub(" ", text.lower().replace("-", " "))
    return " ".join(text.split())


def collapse_repeats(words: list[str], min_repeats: int = 3, max_n: int = 4) -> list[str]:
    """An n-gram (n <= ``max_n``) said ``min_repeats`` or more times in a row, kept once."""
    out = list(words)
    for n in range(1, max_n + 1):
        i = 0
        while i + n * min_repeats <= len(out):
            gram, k = out[i : i + n], 1
            while out[i + k * n : i + (k + 1) * n] == gram:
                k += 1
            if k >= min_repeats:
                del out[i + n : i + k * n]
            i += 1
    return out


def first_period(words: list[str], min_repeat: int = 2) -> list[str]:
    """The first cycle of a loop: ``words`` up to where they start repeating themselves until
    the end ("go to the block go to the block go to" -> "go to the block"), unchanged when they
    do not loop. The repeated tail must hold at least ``min_repeat`` words (or a whole cycle);
    its last word may be cut short ("open the gripper open the gri")."""
    n = len(words)
    for p in range(1, n):
        tail = words[p:]
        if len(tail) < min(p, min_repeat):
            break
        ref = words[: len(tail)]
        if tail[:-1] == ref[:-1] and ref[-1].startswith(tail[-1]):
            return words[:p]
    return words


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def scene_prompt(words: Sequence[str]) -> str:
    """The command prompt plus the scene words ("red block" -> "the red block")."""
    labels = [str(w).strip().replace("_", " ") for w in words if str(w).strip()]
    if not labels:
        return COMMAND_PROMPT
    return f"{COMMAND_PROMPT} Go to the {', the '.join(labels)}."


class WhisperRecognizer:
    """Whisper base (or a PATH model) on CTranslate2; see the module docstring."""

    def __init__(self, config: AsrConfig | None = None) -> None:
        import ctranslate2
        import tokenizers
        from faster_whisper.feature_extractor import FeatureExtractor
        from faster_whisper.tokenizer import Tokenizer

        self.config = config or AsrConfig(backend="whisper")
        cfg = self.config
        self.model_path: Path = model_dir(cfg.model, cfg.cache_dir or None)
        self.device, self.compute_type = resolve_device(
            cfg.device, cfg.compute_type, ctranslate2.get_cuda_device_count()
        )
        self.model = ctranslate2.models.Whisper(
            str(self.model_path), device=self.device, compute_type=self.compute_type,
            intra_threads=max(int(cfg.threads), 1), inter_threads=1,
        )
        self._features = FeatureExtractor(feature_size=self.model.n_mels)
        self.tokenizer = Tokenizer(
            tokenizers.Tokenizer.from_file(str(self.model_path / "tokenizer.json")),
            self.model.is_multilingual, task="transcribe", language="en",
        )
        self._vad = None
        if cfg.min_voice_frames > 0:
            from faster_whisper.vad import get_vad_model

            self._vad = get_vad_model()
        self.prompt_text = ""
        self._prompt: list[int] = []
        self.last: WhisperDecode | None = None
        self.set_vocabulary(cfg.vocabulary)

    def set_vocabulary(self, words: Sequence[str]) -> None:
        """Bias decoding towards these scene words (labels and colours) via the prompt."""
        labels = [" ".join(split_vocabulary([w])) for w in words]
        text = scene_prompt([w for w in labels if w])
        if text != self.prompt_text:
            self.set_prompt(text)

    def set_prompt(self, text: str) -> None:
        """Decode as if ``text`` had been said just before ("" : no prompt)."""
        tok = self.tokenizer
        prompt = [tok.sot_prev, *tok.encode(" " + text)][: 223] if text else []  # 448 / 2
        self._prompt = [*prompt, *tok.sot_sequence, tok.no_timestamps]  # one assignment:
        self.prompt_text = text  # a decode in another thread sees the old or the new prompt

    def window_frames(self, content_frames: int) -> int:
        """Encoder input length for ``content_frames`` of audio (even: the encoder strides 2)."""
        cfg = self.config
        if cfg.encoder_window_s > 0:
            n = int(round(cfg.encoder_window_s * FRAMES_PER_S))
        else:
            n = content_frames + int(round(cfg.window_pad_s * FRAMES_PER_S))
        n = min(max(n, content_frames), FULL_WINDOW_FRAMES)
        return n + (n % 2)

    def features(self, audio: np.ndarray) -> tuple[np.ndarray, int]:
        """(log-Mel features padded or cut to the window, content frames)."""
        mel = self._features(audio.astype(np.float32) / 32768.0)
        content = min(mel.shape[-1] - 1, FULL_WINDOW_FRAMES)
        n = self.window_frames(content)
        out = np.zeros((mel.shape[0], n), dtype=np.float32)  # zero padding, as faster-whisper
        out[:, :content] = mel[:, :content]
        return out, content

    def voice_frames(self, audio: np.ndarray) -> int | None:
        """32 ms frames whose silero-vad speech probability exceeds ``voice_threshold`` (None
        when the check is off)."""
        if self._vad is None:
            return None
        x = audio.astype(np.float32) / 32768.0
        x = np.pad(x, (0, (-x.shape[0]) % 512))
        probs = np.asarray(self._vad(x)).reshape(-1)
        return int((probs > self.config.voice_threshold).sum())

    def transcribe(self, audio: np.ndarray, start: float, end: float) -> SpeechText:
        """One utterance -> a free-form :class:`SpeechText` (empty text when no speech)."""
        audio = truncate_utterance(validate_audio(audio, self.config.sample_rate),
                                   self.config.max_utterance_s)
        self.last = decode = self.decode(audio)
        confidence = float(np.clip(np.exp(decode.avg_logprob), 0.0, 1.0)) if decode.text else 0.0
        return SpeechText(text=decode.text, confidence=confidence, backend="whisper",
                          start=start, end=end, in_grammar=False)

    def decode(self, audio: np.ndarray) -> WhisperDecode:
        """Decode validated int16 ``audio`` and apply the hallucination guards."""
        import ctranslate2

        t0 = time.perf_counter()
        if int(speech_frames(audio).sum()) < MIN_SPEECH_FRAMES:
            return WhisperDecode("", "", 0.0, 1.0, 0.0, 0, 0, True, time.perf_counter() - t0,
                                 rejected="no speech energy")
        voice = self.voice_frames(audio)
        if voice is not None and voice < self.config.min_voice_frames:
            return WhisperDecode("", "", 0.0, 1.0, 0.0, 0, 0, True, time.perf_counter() - t0,
                                 rejected=f"no voice ({voice} voiced frames)")
        mel, _ = self.features(audio)
        duration = audio.shape[0] / SAMPLE_RATE
        prompt = self._prompt
        max_new = min(int(self.config.tokens_per_s * duration) + 8, 200)
        result = self.model.generate(
            ctranslate2.StorageView.from_array(mel[None]), [prompt],
            beam_size=max(int(self.config.beam_size), 1), max_length=len(prompt) + max_new,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self.tokenizer.eot]
        raw = self.tokenizer.decode(tokens).strip()
        ended = len(tokens) < max_new  # stopped on end-of-text, not on max_length
        avg_logprob = float(result.scores[0]) if result.scores else -10.0
        seconds = time.perf_counter() - t0
        cfg = self.config
        # a short encoder window often loops ("move left move left", with or without reaching
        # end-of-text): keep one cycle. A command said twice means the same command once.
        words = collapse_repeats(first_period(normalise(raw).split()))
        ratio = compression_ratio(" ".join(words))
        rejected = ""
        if result.no_speech_prob > cfg.no_speech_threshold and avg_logprob < cfg.logprob_threshold:
            rejected = f"no speech (p={result.no_speech_prob:.2f}, logprob={avg_logprob:.2f})"
        elif ratio > cfg.compression_ratio_threshold:
            rejected = f"repetition (compression ratio {ratio:.1f})"
        return WhisperDecode(
            text="" if rejected else " ".join(words), raw_text=raw, avg_logprob=avg_logprob,
            no_speech_prob=float(result.no_speech_prob), compression_ratio=ratio,
            window_frames=mel.shape[-1], tokens=len(tokens), ended=ended, seconds=seconds,
            rejected=rejected,
        )


__all__ = [
    "COMMAND_PROMPT", "FULL_WINDOW_FRAMES", "WhisperDecode", "WhisperRecognizer",
    "collapse_repeats", "compression_ratio", "normalise", "resolve_device", "scene_prompt",
]
