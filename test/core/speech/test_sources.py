"""core/speech/sources.py: the /audio chunk convention, WAV reading, real-time replay, devices."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.speech.sources import (
    SAMPLE_RATE,
    AudioDeviceError,
    AudioFormatError,
    WavReplay,
    check_layout,
    format_label,
    parse_label,
    read_wav_16k_mono,
    resolve_device,
)


def write_wav(
    path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, channels: int = 1, width: int = 2
) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples).astype(f"<i{width}").tobytes())
    return path


def test_label_round_trip_and_layout_checks() -> None:
    assert parse_label(format_label()) == {"rate": 16000, "channels": 1}
    assert parse_label("audio") == {}
    check_layout([(format_label(), 10, 1)], 10)
    check_layout([], 10)  # no layout: the convention is assumed
    check_layout([("audio", 10, 1)], 10)  # ros2_whisper's audio_listener
    with pytest.raises(AudioFormatError, match="44100 Hz"):
        check_layout([(format_label(rate=44100), 10, 1)], 10)
    with pytest.raises(AudioFormatError, match="2 channels"):
        check_layout([(format_label(channels=2), 10, 1)], 10)
    with pytest.raises(AudioFormatError, match="empty"):
        check_layout([(format_label(), 0, 1)], 0)
    with pytest.raises(AudioFormatError, match="says 20 samples"):
        check_layout([(format_label(), 20, 1)], 10)
    with pytest.raises(AudioFormatError, match="key=value"):
        check_layout([("audio;16000", 10, 1)], 10)
    with pytest.raises(AudioFormatError, match="layout dimensions"):
        check_layout([("audio", 5, 2), ("channels", 2, 1)], 10)


def test_read_wav_accepts_16k_mono_16bit_only(tmp_path: Path) -> None:
    samples = (np.arange(1000) - 500).astype(np.int16)
    good = write_wav(tmp_path / "good.wav", samples)
    assert np.array_equal(read_wav_16k_mono(good), samples)
    with pytest.raises(AudioFormatError, match="44100 Hz.*sox"):
        read_wav_16k_mono(write_wav(tmp_path / "a.wav", samples, rate=44100))
    with pytest.raises(AudioFormatError, match="2 channel"):
        read_wav_16k_mono(write_wav(tmp_path / "b.wav", np.repeat(samples, 2), channels=2))
    with pytest.raises(AudioFormatError, match="32-bit"):
        read_wav_16k_mono(write_wav(tmp_path / "c.wav", samples, width=4))
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        read_wav_16k_mono(tmp_path / "missing.wav")
    (tmp_path / "junk.wav").write_bytes(b"not a wav file at all")
    with pytest.raises(AudioFormatError, match="not a PCM WAV"):
        read_wav_16k_mono(tmp_path / "junk.wav")
    with pytest.raises(AudioFormatError, match="empty"):
        read_wav_16k_mono(write_wav(tmp_path / "empty.wav", np.zeros(0, np.int16)))


def test_replay_releases_chunks_in_real_time_and_in_order() -> None:
    samples = np.arange(2500, dtype=np.int16)
    replay = WavReplay(samples, 1000)
    assert replay.total_chunks == 3 and replay.chunk_period == pytest.approx(1000 / 16000)
    assert replay.due(0.0) == []  # the first chunk has not "happened" yet
    first = replay.due(replay.chunk_period)
    assert len(first) == 1 and np.array_equal(first[0], samples[:1000])
    rest = replay.due(10.0)  # a stall: every overdue chunk at once, the last one shorter
    assert [c.size for c in rest] == [1000, 500]
    assert replay.finished and replay.due(20.0) == []
    assert np.array_equal(np.concatenate(first + rest), samples)


def test_looping_replay_wraps_with_silence_between_repeats() -> None:
    samples = np.full(300, 7, np.int16)
    replay = WavReplay(samples, 200, loop=True, loop_silence_s=100 / SAMPLE_RATE)
    assert replay.total_chunks is None
    out = np.concatenate(replay.due(6 * 200 / SAMPLE_RATE))
    period = np.concatenate([samples, np.zeros(100, np.int16)])
    assert np.array_equal(out, np.tile(period, 3))
    assert not replay.finished


def test_replay_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        WavReplay(np.zeros(10, np.int16), 0)
    with pytest.raises(AudioFormatError, match="no samples"):
        WavReplay(np.zeros(0, np.int16), 10)


DEVICES = [
    {"name": "HDA Intel PCH: ALC3246 Analog (hw:0,0)", "max_input_channels": 2},
    {"name": "HDMI output", "max_input_channels": 0},
    {"name": "USB Headset: Audio (hw:1,0)", "max_input_channels": 1},
]


def test_resolve_device_by_index_name_or_default() -> None:
    assert resolve_device("", DEVICES) is None
    assert resolve_device(2, DEVICES) == 2
    assert resolve_device("0", DEVICES) == 0
    assert resolve_device("usb headset", DEVICES) == 2
    with pytest.raises(AudioDeviceError, match="not an input device.*USB Headset"):
        resolve_device(1, DEVICES)
    with pytest.raises(AudioDeviceError, match="no input device name contains 'webcam'"):
        resolve_device("webcam", DEVICES)
    with pytest.raises(AudioDeviceError, match="no audio input device"):
        resolve_device("", DEVICES[1:2])
