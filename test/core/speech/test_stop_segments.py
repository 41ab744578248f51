"""The segment stop path on real espeak-ng speech, streamed in 100 ms chunks like /audio.

Real silero-vad and real Whisper base decoding (no stand-in recogniser); event positions are
checked from sample indices, never from wall time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.speech.audio import SAMPLE_RATE, AudioFormatError

pytest.importorskip("faster_whisper")
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                reason="needs espeak-ng and sox")

from ifagent_ros.bench.stop_corpus import loud_end  # noqa: E402
from ifagent_ros.core.speech.corpus import synthesize  # noqa: E402
from ifagent_ros.core.speech.stop_detector import StopEvent  # noqa: E402
from ifagent_ros.core.speech.stop_segments import SegmentStopSpotter, StreamingVad  # noqa: E402
from ifagent_ros.core.speech.whisper_weights import WhisperWeightsError  # noqa: E402

CHUNK = SAMPLE_RATE // 10
VOICE, SPEED = "en-us", 170  # a tuning voice


@pytest.fixture(scope="module")
def spotter() -> SegmentStopSpotter:
    try:
        return SegmentStopSpotter()
    except WhisperWeightsError as err:  # pragma: no cover - weights are pinned in requirements
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("espeak")
    cache: dict[str, np.ndarray] = {}

    def _speak(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = synthesize(text, VOICE, SPEED, Path(work))
        return cache[text]

    return _speak


def stream(parts: list[np.ndarray], gap_s: float = 0.8) -> tuple[np.ndarray, list[int]]:
    """The parts with silence between them (and 1 s after), and where each one's speech ends."""
    out, ends, pos = [], [], 0
    for part in parts:
        out += [np.zeros(int(gap_s * SAMPLE_RATE), np.int16), part]
        pos += int(gap_s * SAMPLE_RATE)
        ends.append(pos + loud_end(part))
        pos += part.shape[0]
    out.append(np.zeros(SAMPLE_RATE, np.int16))
    return np.concatenate(out), ends


def push_all(spotter: SegmentStopSpotter, audio: np.ndarray) -> list[StopEvent]:
    spotter.reset()
    events = []
    for i in range(0, audio.shape[0], CHUNK):
        events += spotter.push(audio[i : i + CHUNK])
    return events


# "please stop now" is not here: Whisper writes "please stop the how" at a mean log-prob of -0.63
# to -0.87 (it varies between runs of the same audio: int8 on 2 threads), across the -0.65 floor,
# so it is a measured borderline miss of this path, not a property a test can pin.
@pytest.mark.parametrize("text", ["stop", "halt", "hold on", "no no stop", "stop it"])
def test_stop_commands_fire_soon_after_they_end(spotter, speak, text: str) -> None:
    audio, ends = stream([speak(text)])
    events = push_all(spotter, audio)
    assert len(events) == 1, (text, [d.text for d in spotter.decodes])
    event = events[0]
    assert event.phrase in ("stop", "halt", "hold on")
    # fired at the chunk where the segment closed: after the speech, within 400 ms of audio
    assert ends[0] <= event.sample <= ends[0] + int(0.4 * SAMPLE_RATE)
    assert event.start_sample < event.end_sample <= event.sample


@pytest.mark.parametrize("text", ["the bus stopped at the corner", "what a lovely day"])
def test_chit_chat_does_not_fire(spotter, speak, text: str) -> None:
    audio, _ = stream([speak(text)])
    assert push_all(spotter, audio) == []
    assert spotter.decoded == 1  # it was heard and decoded, and refused


def test_stop_after_chit_chat_fires_once_at_the_stop(spotter, speak) -> None:
    audio, ends = stream([speak("what a lovely day"), speak("stop")])
    events = push_all(spotter, audio)
    assert len(events) == 1
    assert ends[0] < events[0].start_sample and ends[1] <= events[0].sample


def test_a_long_sentence_is_skipped_without_decoding(spotter, speak) -> None:
    long = speak("I think we should move all of the red blocks over to the left side of the "
                 "table after lunch and then stop")
    assert long.shape[0] > 3 * SAMPLE_RATE
    audio, _ = stream([long])
    assert push_all(spotter, audio) == []
    assert spotter.decoded == 0
    assert spotter.skipped_long == 1


def test_state_stays_bounded_on_endless_speech(spotter, speak) -> None:
    talk = speak("move the red block to the left of the blue bowl please")
    spotter.reset()
    peak = 0
    for _ in range(6):  # ~20 s of speech without a pause
        for i in range(0, talk.shape[0], CHUNK):
            spotter.push(talk[i : i + CHUNK])
            peak = max(peak, spotter._buf.shape[0])
    limit = (spotter.config.max_segment_s + 0.5) * SAMPLE_RATE
    assert peak <= limit
    assert spotter.decoded == 0


def test_reset_gives_the_same_events_again(spotter, speak) -> None:
    audio, _ = stream([speak("halt")])
    first = push_all(spotter, audio)
    spotter.reset()
    for i in range(0, audio.shape[0] // 2, CHUNK):  # half a stream, then forget it
        spotter.push(audio[i : i + CHUNK])
    again = push_all(spotter, audio)
    assert first == again and len(first) == 1
    spotter.reset()
    assert spotter.samples_pushed == 0 and spotter._buf.shape[0] == 0


@pytest.mark.parametrize("bad", [
    np.zeros(1600, np.float32), np.zeros((1600, 2), np.int16), [0] * 1600,
    np.zeros(1600, np.int32),
])
def test_bad_chunks_raise(spotter, bad) -> None:
    spotter.reset()
    with pytest.raises(AudioFormatError):
        spotter.push(bad)
    assert spotter.push(np.zeros(0, np.int16)) == []
    assert spotter.push(np.zeros((1600, 1), np.int16)) == []  # (n, 1) is mono


def test_silence_and_noise_decode_nothing(spotter) -> None:
    rng = np.random.default_rng(0)
    noise = np.clip(rng.normal(0, 300, 5 * SAMPLE_RATE), -32768, 32767).astype(np.int16)
    assert push_all(spotter, np.concatenate([np.zeros(SAMPLE_RATE, np.int16), noise])) == []
    assert spotter.decoded == 0


def test_streaming_vad_matches_faster_whispers_batch_call(speak) -> None:
    from faster_whisper.vad import get_vad_model

    audio = speak("hold on").astype(np.float32) / 32768.0
    audio = np.pad(audio, (0, (-audio.shape[0]) % 512))
    batch = np.asarray(get_vad_model()(audio)).reshape(-1)
    vad, streamed = StreamingVad(), []
    for i in range(0, audio.shape[0], 700):  # chunks that do not align with the frames
        streamed.append(vad.push(audio[i : i + 700]))
    np.testing.assert_allclose(np.concatenate(streamed), batch, atol=1e-5)
    assert batch.max() > 0.5
