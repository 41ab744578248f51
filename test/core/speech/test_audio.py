"""Audio validation and WAV helpers."""

import wave

import numpy as np
import pytest

from ifagent_ros.core.speech.audio import (
    AudioFormatError,
    is_clipped,
    read_wav,
    truncate_utterance,
    validate_audio,
    write_wav,
)


def _write(path, data: np.ndarray, rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(data.astype("<i2").tobytes())


def test_validate_accepts_int16_mono_and_column_vector():
    audio = np.arange(100, dtype=np.int16)
    assert validate_audio(audio).shape == (100,)
    assert validate_audio(audio[:, None]).shape == (100,)


@pytest.mark.parametrize(
    ("audio", "rate", "message"),
    [
        (np.zeros(10, np.int16), 44100, "44100 Hz"),
        (np.zeros((10, 2), np.int16), 16000, "2 channels"),
        (np.zeros(10, np.float32), 16000, "float32"),
        (np.zeros(0, np.int16), 16000, "empty"),
    ],
)
def test_validate_refuses_wrong_format_with_a_clear_message(audio, rate, message):
    with pytest.raises(AudioFormatError, match=message):
        validate_audio(audio, rate)


def test_read_wav_refuses_other_rates_unless_asked(tmp_path):
    path = tmp_path / "a.wav"
    _write(path, (1000 * np.sin(np.arange(8000) / 5)).astype(np.int16), 8000)
    with pytest.raises(AudioFormatError, match="8000 Hz"):
        read_wav(path)
    wav = read_wav(path, resample=True)
    assert wav.resampled_from == 8000 and wav.samples.shape[0] == 16000


def test_read_wav_refuses_stereo(tmp_path):
    path = tmp_path / "s.wav"
    _write(path, np.zeros(200, np.int16), 16000, channels=2)
    with pytest.raises(AudioFormatError, match="2 channels"):
        read_wav(path)


def test_write_read_round_trip(tmp_path):
    audio = np.arange(-500, 500, dtype=np.int16)
    write_wav(tmp_path / "r.wav", audio)
    assert np.array_equal(read_wav(tmp_path / "r.wav").samples, audio)


def test_clipping_and_truncation():
    quiet = np.full(16000, 100, np.int16)
    loud = quiet.copy()
    loud[:100] = 32767
    assert not is_clipped(quiet) and is_clipped(loud)
    long = np.zeros(16000 * 60, np.int16)
    assert truncate_utterance(long, 30.0).shape[0] == 16000 * 30
    assert truncate_utterance(quiet, 30.0) is quiet
