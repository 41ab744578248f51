"""Streaming VAD on synthesized speech."""

import shutil

import numpy as np
import pytest

pytest.importorskip("silero_vad")
from ifagent_ros.core.speech.vad import VoiceActivityDetector  # noqa: E402

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="needs espeak-ng and sox")


@needs_espeak
def test_speech_padded_with_silence_gives_one_segment(tmp_path):
    from ifagent_ros.core.speech.corpus import synthesize

    speech = synthesize("move the arm a little to the left", "en-us", 170, tmp_path)
    second = np.zeros(16000, np.int16)
    stream = np.concatenate([second, speech, second])
    vad = VoiceActivityDetector()
    segments = []
    for i in range(0, stream.shape[0], 700):  # chunks not a multiple of the 512-sample frame
        segments += vad.push(stream[i : i + 700])
    segments += vad.flush()
    assert len(segments) == 1
    seg = segments[0]
    end_of_speech = 16000 + speech.shape[0]
    assert 14000 < seg.start < 16000 + 8000  # the synthesized audio starts with 0.3 s silence
    assert 16000 + 0.75 * speech.shape[0] < seg.end < end_of_speech + 8000


def test_silence_gives_no_segments():
    vad = VoiceActivityDetector()
    assert vad.push(np.zeros(16000 * 2, np.int16)) == [] and vad.flush() == []
