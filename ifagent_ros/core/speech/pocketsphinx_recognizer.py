"""pocketsphinx: the small-machine fallback recogniser (grammar decoding with rejection).

:class:`PocketsphinxRecognizer` decodes against the correction grammar (:mod:`.grammar`) rebuilt
whenever :meth:`set_vocabulary` changes the scene words. A grammar decoder force-fits *any* speech
to some command, and its posterior does not tell chit-chat from a command, so the grammar result is
checked before it is accepted:

* ``rejection="duration"`` (default, no second decode): a forced fit has to stretch a short
  command over a long utterance (or cram a long one into a short), so the speaking rate of the
  hypothesis -- dictionary phones per second of non-silence it was aligned to -- must lie in
  ``[min_phone_rate, max_phone_rate]``, and no word may last longer than
  ``max_frames_per_phone`` frames per phone.
* ``rejection="phone-loop"``: the duration test, and also decode the same audio with
  an unconstrained phone loop (allphone search, ~0.1 s); accept only when the grammar path's
  score per frame is within ``max_phone_loop_gap`` of the phone loop's. Speech the grammar
  cannot explain scores far below the free phone sequence. On the espeak-ng corpus (clean) the
  median gap is 0.7 for correctly decoded commands and 6.2 for chit-chat, but a fixed threshold
  of 3.0 also rejected a clean "stop" and commands padded with silence, so it is not the default.

A grammar hypothesis holding a stop word is never rejected.
* ``rejection="free-form"``: also decode with the free-form language model and accept only when
  enough of the grammar hypothesis's content words occur in the free transcript. Measured on
  the espeak-ng corpus (clean) it rejects all chit-chat but also 97% of the commands: the
  general language model cannot transcribe two-word commands, so it is not the default.
* ``rejection="none"``: trust the grammar (for measurements only).

A rejected utterance comes back with ``in_grammar=False``, confidence at most 0.2, and the
free-form transcript as its text, so it can never become a command.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ifagent_ros.core.language.stop_words import is_stop
from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import FRAMES_PER_S, AsrConfig, speech_frames
from ifagent_ros.core.speech.audio import truncate_utterance, validate_audio
from ifagent_ros.core.speech.grammar import build_jsgf

_log = logging.getLogger(__name__)

_FUNCTION_WORDS = frozenset("a the please and to it that this one go move".split())


@dataclass(frozen=True)
class GrammarCheck:
    """Why a grammar hypothesis was accepted or rejected (for logs and the benchmark)."""

    accepted: bool
    phone_rate: float  # phones per second of aligned speech
    longest_frames_per_phone: float
    reason: str


def _content_words(text: str) -> list[str]:
    return [w for w in text.split() if w not in _FUNCTION_WORDS]


def model_paths() -> dict[str, str]:
    """The US English model files inside the pocketsphinx package: acoustic model (``hmm``),
    pronunciation dictionary (``dict``), language model (``lm``), phone language model
    (``phone_lm``)."""
    from pocketsphinx import get_model_path

    model = os.path.join(get_model_path(), "en-us")
    return {
        "hmm": os.path.join(model, "en-us"),
        "dict": os.path.join(model, "cmudict-en-us.dict"),
        "lm": os.path.join(model, "en-us.lm.bin"),
        "phone_lm": os.path.join(model, "en-us-phone.lm.bin"),
    }


class PocketsphinxRecognizer:
    """Grammar decoding with out-of-grammar rejection; free-form decoding on request."""

    def __init__(self, config: AsrConfig | None = None) -> None:
        from pocketsphinx import Decoder

        self.config = config or AsrConfig()
        self._paths = model_paths()
        self._decoder = Decoder(
            hmm=self._paths["hmm"], dict=self._paths["dict"], lm=None, loglevel="FATAL"
        )
        self._phone: Any = None  # own decoder: adding the search to the grammar one changes it
        self._initial_cmn: dict[int, str] = {}
        self._free: Any = None  # built on first use: loading the LM takes ~0.3 s
        self._Decoder = Decoder
        self.jsgf = ""
        self.last_check: GrammarCheck | None = None
        self.set_vocabulary(self.config.vocabulary)

    def known_word(self, word: str) -> bool:
        """True when the pronunciation dictionary has ``word``."""
        return self._decoder.lookup_word(word) is not None

    def set_vocabulary(self, words: Sequence[str]) -> None:
        """Rebuild the grammar with these scene words (labels and colours); unknown ones dropped."""
        jsgf = build_jsgf(words, known_words=self.known_word)
        if jsgf == self.jsgf:
            return
        self._decoder.add_jsgf_string("grammar", jsgf)
        self._decoder.activate_search("grammar")
        self.jsgf = jsgf

    def _with_noise_floor(self, audio: np.ndarray) -> np.ndarray:
        """``audio`` plus a fixed-seed white noise floor. Digital silence and the empty spectral
        bands of synthetic speech give the recogniser's log-mel features extreme values: on the
        espeak-ng corpus a -50 dBFS floor (std 100 LSB) lifts clean sentence accuracy from 23% to
        62%; a real microphone's own floor is usually near this already."""
        if self.config.noise_floor <= 0:
            return audio
        noise = np.random.default_rng(0).normal(0.0, self.config.noise_floor, audio.shape)
        return np.clip(audio + noise, -32768, 32767).astype(np.int16)

    def _decode(
        self, decoder: Any, audio: np.ndarray, search: str | None = None
    ) -> tuple[str, list[tuple[str, int, int]]]:
        text, segs, _ = self._decode_scored(decoder, audio, search)
        return text, segs

    def _decode_scored(
        self, decoder: Any, audio: np.ndarray, search: str | None = None
    ) -> tuple[str, list[tuple[str, int, int]], float | None]:
        """(text, word segments, score per frame) of one decode with ``search`` active."""
        audio = self._with_noise_floor(audio)
        if search is not None:
            decoder.activate_search(search)
        # each utterance starts from the model's initial cepstral mean: otherwise the result
        # depends on what was decoded before (measured: the same audio gave three transcripts)
        initial = self._initial_cmn.setdefault(id(decoder), decoder.get_cmn())
        decoder.set_cmn(initial)
        decoder.start_utt()
        decoder.process_raw(audio.tobytes(), full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return "", [], None
        segs = [(s.word, s.start_frame, s.end_frame) for s in decoder.seg() or ()]
        score = decoder.get_logmath().log(hyp.score) / max(decoder.n_frames(), 1)
        return hyp.hypstr.strip(), segs, score

    def _phone_decoder(self) -> Any:
        if self._phone is None:
            self._phone = self._Decoder(
                hmm=self._paths["hmm"], dict=self._paths["dict"], lm=None, loglevel="FATAL",
                allphone=self._paths["phone_lm"],
            )
        return self._phone

    def decode_free(self, audio: np.ndarray) -> str:
        """The free-form (language model) transcript of ``audio``."""
        if self._free is None:
            self._free = self._Decoder(
                hmm=self._paths["hmm"], dict=self._paths["dict"], lm=self._paths["lm"],
                loglevel="FATAL", beam=1e-30, wbeam=1e-20, maxhmmpf=1500, maxwpf=5,
            )  # pruned: the full search takes ~1 s per utterance on one core
        text, _ = self._decode(self._free, validate_audio(audio))
        return text

    def check(
        self, text: str, segs: Sequence[tuple[str, int, int]], audio: np.ndarray
    ) -> GrammarCheck:
        """The duration test of a grammar hypothesis, its word alignment and the audio."""
        speech = speech_frames(audio)
        in_words = np.zeros_like(speech)
        phones, worst = 0, 0.0
        for word, first, last in segs:
            if word.startswith(("<", "[", "(")) or word == "<sil>":
                continue
            pron = self._decoder.lookup_word(word.split("(")[0]) or ""
            n = max(len(pron.split()), 1)
            length = last - first + 1
            in_words[first : last + 1] = True
            phones, worst = phones + n, max(worst, length / n)
        n_speech = int(speech.sum())
        rate = phones / (n_speech / FRAMES_PER_S) if n_speech else 0.0
        coverage = float((speech & in_words).sum() / n_speech) if n_speech else 0.0
        cfg = self.config
        if not text:
            return GrammarCheck(False, rate, worst, "no hypothesis")
        if coverage < cfg.min_coverage:
            return GrammarCheck(False, rate, worst, f"words cover {coverage:.0%} of the speech")
        if rate < cfg.min_phone_rate:
            return GrammarCheck(False, rate, worst, f"too slow for the words ({rate:.1f} ph/s)")
        if rate > cfg.max_phone_rate:
            return GrammarCheck(False, rate, worst, f"too fast for the words ({rate:.1f} ph/s)")
        if worst > cfg.max_frames_per_phone:
            return GrammarCheck(False, rate, worst, f"a word stretched ({worst:.0f} frames/phone)")
        return GrammarCheck(True, rate, worst, "ok")

    def transcribe(self, audio: np.ndarray, start: float, end: float) -> SpeechText:
        """Decode one utterance against the grammar; reject what does not fit (see module doc)."""
        audio = truncate_utterance(validate_audio(audio, self.config.sample_rate),
                                   self.config.max_utterance_s)
        text, segs, score = self._decode_scored(self._decoder, audio)
        check = self.check(text, segs, audio)
        if check.accepted and self.config.rejection == "phone-loop" and score is not None:
            _, _, loop = self._decode_scored(self._phone_decoder(), audio)
            gap = (loop - score) if loop is not None else 0.0
            if gap > self.config.max_phone_loop_gap:
                reason = f"phone loop scores {gap:.1f}/frame better than the grammar"
                check = replace(check, accepted=False, reason=reason)
        free = None
        if check.accepted and self.config.rejection == "free-form":
            free = self.decode_free(audio)
            wanted = _content_words(text)
            found = sum(w in free.split() for w in wanted) / max(len(wanted), 1)
            if found < self.config.min_word_overlap:
                reason = f"free-form transcript disagrees ({found:.0%} words)"
                check = replace(check, accepted=False, reason=reason)
        if self.config.rejection == "none" and text:
            check = replace(check, accepted=True, reason="rejection off")
        if not check.accepted and text and is_stop(text):
            # Never reject a heard stop: a false stop costs a second, a missed one a collision.
            check = replace(check, accepted=True, reason=f"stop words are never rejected "
                                                         f"({check.reason})")
        self.last_check = check
        if check.accepted:
            confidence = _confidence(check, self.config)
            return SpeechText(
                text=text, confidence=confidence, backend="pocketsphinx",
                start=start, end=end, in_grammar=True,
            )
        if free is None and self.config.free_form_on_reject and text:
            free = self.decode_free(audio)
        return SpeechText(
            text=free or "", confidence=0.2 if text else 0.0, backend="pocketsphinx-free",
            start=start, end=end, in_grammar=False,
        )


def _confidence(check: GrammarCheck, cfg: AsrConfig) -> float:
    """0.5..1: how far inside the accepted speaking-rate band the hypothesis lies."""
    lo, hi = cfg.min_phone_rate, cfg.max_phone_rate
    margin = min(check.phone_rate - lo, hi - check.phone_rate) / ((hi - lo) / 2)
    return float(np.clip(0.5 + 0.5 * margin, 0.5, 1.0))


__all__ = ["GrammarCheck", "PocketsphinxRecognizer"]
