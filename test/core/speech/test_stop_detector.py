"""The always-on stop detector on real espeak-ng speech, streamed in chunks like /audio.

Latency is checked from sample indices (end of the stop word -> the sample at which the event
fired), never from wall time, so the tests do not depend on how busy the machine is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.speech.audio import SAMPLE_RATE

pytest.importorskip("pocketsphinx")
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                reason="needs espeak-ng and sox")

from ifagent_ros.bench.stop_corpus import loud_end  # noqa: E402
from ifagent_ros.core.speech.corpus import synthesize  # noqa: E402
from ifagent_ros.core.speech.stop_detector import StopDetector, StopEvent  # noqa: E402

CHUNK = SAMPLE_RATE // 10
BUDGET = int(0.25 * SAMPLE_RATE)
VOICE, SPEED = "en-us", 170  # a tuning voice


@pytest.fixture(scope="module")
def detector() -> StopDetector:
    return StopDetector()


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("espeak")
    cache: dict[tuple[str, str, int], np.ndarray] = {}

    def _speak(text: str, voice: str = VOICE, speed: int = SPEED) -> np.ndarray:
        key = (text, voice, speed)
        if key not in cache:
            cache[key] = synthesize(text, voice, speed, Path(work))
        return cache[key]

    return _speak


def stream(parts: list[np.ndarray], gap_s: float = 0.8) -> tuple[np.ndarray, list[int]]:
    """The parts with silence between them, and where each part starts."""
    out, starts, pos = [], [], 0
    for part in parts:
        gap = np.zeros(int(gap_s * SAMPLE_RATE), np.int16)
        out += [gap, part]
        starts.append(pos + gap.shape[0])
        pos += gap.shape[0] + part.shape[0]
    out.append(np.zeros(SAMPLE_RATE, np.int16))
    return np.concatenate(out), starts


def push_all(detector: StopDetector, audio: np.ndarray, chunk: int = CHUNK) -> list[StopEvent]:
    detector.reset()
    events = []
    for i in range(0, audio.shape[0], chunk):
        events += detector.push(audio[i : i + chunk])
    return events


def events_in(events: list[StopEvent], start: int, end: int) -> list[StopEvent]:
    return [e for e in events if start <= e.sample < end]


# Measured misses of the default thresholds (bench/stop.py, tuning voices: about half of the
# stops are heard); strict, so the test fails once a better detector hears them.
MISSED = pytest.mark.xfail(
    strict=True, reason="pocketsphinx kws misses it at the default thresholds"
)
FALSE_STOP = pytest.mark.xfail(strict=True, reason="measured false stop of the default thresholds")


@pytest.mark.parametrize(
    "phrase",
    ["stop", "halt", "freeze", "e-stop", "abort",
     pytest.param("hold on", marks=MISSED)],
)
def test_each_stop_phrase_fires_within_250ms_of_its_end(detector, speak, phrase) -> None:
    audio = speak(phrase)
    sig, (start,) = stream([audio])
    events = push_all(detector, sig)
    word_end = start + loud_end(audio)
    assert len(events) == 1, f"{phrase!r}: {events}"
    assert start <= events[0].sample <= word_end + BUDGET, (
        f"{phrase!r} fired {(events[0].sample - word_end) / 16:.0f} ms after the word ended"
    )


def test_stop_words_inside_sentences_fire(detector, speak) -> None:
    texts = ["please stop now", "no no stop", "stop it"]
    sig, starts = stream([speak(t) for t in texts])
    events = push_all(detector, sig)
    bounds = [*starts[1:], sig.shape[0]]
    for text, start, end in zip(texts, starts, bounds, strict=True):
        assert events_in(events, start, end), f"{text!r} did not fire: {events}"


@pytest.mark.parametrize(
    "texts",
    [
        ("the top of the shelf is dusty", "I went to the shop", "the hot pot is on the stove",
         "pass the salt", "the lake froze", "what a nice day it is", "move left", "go to the top"),
        pytest.param(("the bus stopped at the corner",), marks=FALSE_STOP),
        pytest.param(("hold the door please",), marks=FALSE_STOP),
    ],
)
def test_chit_chat_with_stop_like_words_does_not_fire(detector, speak, texts) -> None:
    sig, _ = stream([speak(t) for t in texts])
    assert push_all(detector, sig) == []


def test_any_chunk_length_gives_the_same_detection(detector, speak) -> None:
    sig, (start,) = stream([speak("freeze")])
    for chunk in (37, 1000, 4096, sig.shape[0]):
        events = push_all(detector, sig, chunk)
        assert len(events) == 1 and events[0].phrase == "freeze", (chunk, events)
        assert events[0].sample >= start


def test_a_long_stream_keeps_working_across_utterance_restarts(speak) -> None:
    detector = StopDetector()
    talk, _ = stream([speak(t) for t in ("what a nice day it is", "the weather is lovely")])
    rng = np.random.default_rng(1)
    events = []
    for _ in range(12):  # ~ 70 s of speech and silence with a noise floor
        noisy = np.clip(talk + rng.normal(0, 300, talk.shape), -32768, 32767).astype(np.int16)
        for i in range(0, noisy.shape[0], CHUNK):
            events += detector.push(noisy[i : i + CHUNK])
    assert events == []
    assert detector.restarts >= 2
    before = detector.samples_pushed
    sig, (start,) = stream([speak("stop")])
    for i in range(0, sig.shape[0], CHUNK):
        events += detector.push(sig[i : i + CHUNK])
    assert len(events) == 1 and events[0].sample >= before + start


def test_reset_starts_the_sample_count_again(detector, speak) -> None:
    sig, (start,) = stream([speak("freeze")])
    first = push_all(detector, sig)
    second = push_all(detector, sig)  # push_all resets first
    assert first and second and first[0].sample == second[0].sample
    detector.reset()
    assert detector.samples_pushed == 0


@pytest.mark.parametrize(
    ("chunk", "error"),
    [(np.zeros(160, np.float32), ValueError), (np.zeros((160, 2), np.int16), ValueError),
     ([0] * 160, TypeError), (np.zeros(160, np.int32), ValueError)],
)
def test_bad_input_is_refused_with_a_clear_error(detector, chunk, error) -> None:
    with pytest.raises(error, match="stop detector needs"):
        detector.push(chunk)


def test_empty_and_mono_column_chunks_are_accepted(detector) -> None:
    detector.reset()
    assert detector.push(np.zeros(0, np.int16)) == []
    assert detector.push(np.zeros((1600, 1), np.int16)) == []
    assert detector.samples_pushed == 1600


def test_unknown_phrase_in_config_is_refused() -> None:
    from ifagent_ros.core.speech.stop_detector import StopDetectorConfig

    with pytest.raises(ValueError, match="unknown stop phrases"):
        StopDetector(StopDetectorConfig(thresholds={"banana": 0.0}))
