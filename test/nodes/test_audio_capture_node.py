"""audio_capture_node over real rclpy (private Context): WAV replay -> /audio chunks."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import numpy as np
import pytest
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from ros_helpers import spin_for, spin_until
from std_msgs.msg import Int16MultiArray

from ifagent_ros.core.speech.sources import AudioDeviceError, check_layout
from ifagent_ros.nodes.audio_capture_node import AudioCaptureNode


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def make_node(ctx: Context, **params: object) -> AudioCaptureNode:
    return AudioCaptureNode(context=ctx, node_name=f"audio_under_test_{random.randrange(10**6)}",
                            parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


def test_wav_replay_publishes_every_sample_in_order(ros_context: Context, tmp_path: Path) -> None:
    samples = (np.arange(8000) % 20000 - 10000).astype(np.int16)  # 0.5 s
    wav = write_wav(tmp_path / "ramp.wav", samples)
    probe = Node(f"audio_probe_{random.randrange(10**6)}", context=ros_context)
    got: list[Int16MultiArray] = []
    probe.create_subscription(Int16MultiArray, "/audio", got.append, 100)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(probe)
    assert spin_until(executor, lambda: True)
    node = make_node(ros_context, source="wav", wav_path=str(wav), chunk_size=1024)
    executor.add_node(node)
    try:
        assert spin_until(executor, lambda: sum(len(m.data) for m in got) >= samples.size,
                          timeout=10.0)
        spin_for(executor, 0.2)  # nothing more after the end of the file
        sizes = [len(m.data) for m in got]
        assert sizes == [1024] * 7 + [8000 - 7 * 1024]
        assert np.array_equal(np.concatenate([np.array(m.data, np.int16) for m in got]),
                              samples)
        for m in got:
            check_layout([(d.label, d.size, d.stride) for d in m.layout.dim], len(m.data))
        assert node.samples_published == samples.size
    finally:
        executor.shutdown()
        node.close()
        node.destroy_node()
        probe.destroy_node()


def test_looping_replay_keeps_going(ros_context: Context, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "short.wav", np.full(800, 5, np.int16))
    node = make_node(ros_context, source="wav", wav_path=str(wav), chunk_size=400, loop=True,
                     loop_silence_s=0.0, wav_wait_for_subscriber=False)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        assert spin_until(executor, lambda: node.chunks_published > 4, timeout=10.0)
    finally:
        executor.shutdown()
        node.close()
        node.destroy_node()


def test_bad_wav_path_or_format_fails_at_start_with_a_clear_error(ros_context: Context,
                                                                  tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere.wav"):
        make_node(ros_context, source="wav", wav_path=str(tmp_path / "nowhere.wav"))
    stereo_rate = write_wav(tmp_path / "cd.wav", np.zeros(100, np.int16), rate=44100)
    with pytest.raises(ValueError, match="44100 Hz.*expected 16000 Hz"):
        make_node(ros_context, source="wav", wav_path=str(stereo_rate))
    with pytest.raises(ValueError, match="wav_path is empty"):
        make_node(ros_context, source="wav")
    with pytest.raises(ValueError, match="source must be"):
        make_node(ros_context, source="bluetooth")


def test_a_missing_microphone_fails_or_is_logged_as_configured(ros_context: Context) -> None:
    # No input device on this name (CI machines have none at all): fail at start by default...
    with pytest.raises(AudioDeviceError):
        make_node(ros_context, source="microphone", device="no such microphone 4711")
    # ...or stay up publishing nothing when the microphone is optional.
    node = make_node(ros_context, source="microphone", device="no such microphone 4711",
                     microphone_required=False)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        spin_for(executor, 0.1)
        assert node.chunks_published == 0
    finally:
        executor.shutdown()
        node.close()
        node.destroy_node()
