"""audio_capture_node: microphone or WAV file -> ``/audio`` (``std_msgs/Int16MultiArray``).

Thin wrapper around :mod:`ifagent_ros.core.speech.sources`. Every message is one chunk of
``chunk_size`` 16 kHz mono int16 samples (the last chunk of a non-looping WAV may be shorter);
``layout.dim[0]`` = ``(label "audio;rate=16000;channels=1", size = samples, stride = 1)``, the
convention ``speech_node`` checks (see ``sources.py``).

Sources (parameter ``source``):
- ``microphone``: a sounddevice (PortAudio) input stream on ``device`` (index, or a substring of
  the device name; "" = the default input). A device that cannot be opened makes the node fail
  at start with an error that lists the input devices, unless ``microphone_required`` is false:
  then it logs that error and stays up publishing nothing (so a graph without a microphone, e.g.
  a demo on a laptop without one, still starts).
- ``wav``: replays ``wav_path`` (16 kHz mono 16-bit, else the node fails at start saying what
  the file is and how to convert it) in real time, once or looping with ``loop_silence_s`` of
  silence between repeats. With ``wav_wait_for_subscriber`` (default) the replay starts once
  ``/audio`` has a subscriber, so a listener started alongside misses nothing.
A timer at ``poll_period_s`` publishes whatever audio is ready, so chunks from the same source
are published in order on the executor thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rclpy.context import Context
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import Int16MultiArray, MultiArrayDimension

from ifagent_ros.core.speech.sources import (
    SAMPLE_RATE,
    AudioDeviceError,
    MicrophoneSource,
    WavReplay,
    format_label,
    read_wav_16k_mono,
)
from ifagent_ros.nodes import topics
from ifagent_ros.nodes.node_main import run_node
from ifagent_ros.nodes.params import declare_config


@dataclass(frozen=True)
class AudioCaptureConfig:
    """audio_capture_node's parameters (one per field, same names)."""

    audio_topic: str = topics.AUDIO
    source: Literal["microphone", "wav"] = "microphone"
    chunk_size: int = 1024  # samples per message: 64 ms at 16 kHz
    device: str | int = ""  # microphone: index or name substring; "" = default input
    microphone_required: bool = True  # false: a microphone that cannot open is logged, not fatal
    wav_path: str = ""
    loop: bool = False
    loop_silence_s: float = 1.0
    wav_wait_for_subscriber: bool = True  # start the replay when /audio has a subscriber
    poll_period_s: float = 0.02

    def __post_init__(self) -> None:
        if self.chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")
        if self.source == "wav" and not self.wav_path:
            raise ValueError("wav_path is empty (source: wav)")


def chunk_to_msg(samples: np.ndarray) -> Int16MultiArray:
    """One ``/audio`` message for a chunk of 16 kHz mono int16 samples."""
    msg = Int16MultiArray()
    msg.layout.dim = [MultiArrayDimension(label=format_label(), size=int(samples.size),
                                          stride=1)]
    msg.layout.data_offset = 0
    msg.data = np.asarray(samples, dtype=np.int16).tolist()
    return msg


class AudioCaptureNode(Node):
    def __init__(self, *, context: Context | None = None,
                 parameter_overrides: list[Parameter] | None = None,
                 node_name: str = "audio_capture_node") -> None:
        super().__init__(node_name, context=context, parameter_overrides=parameter_overrides)
        self.config = cfg = declare_config(self, AudioCaptureConfig)
        self._mic: MicrophoneSource | None = None
        self._replay: WavReplay | None = None
        self._replay_start: float | None = None
        self.chunks_published = 0
        self.samples_published = 0
        if cfg.source == "wav":
            samples = read_wav_16k_mono(cfg.wav_path)
            self._replay = WavReplay(samples, cfg.chunk_size, loop=cfg.loop,
                                     loop_silence_s=cfg.loop_silence_s)
            what = f"{cfg.wav_path} ({samples.size / SAMPLE_RATE:.2f} s" + (
                ", looping)" if cfg.loop else ")")
        else:
            what = self._open_microphone(cfg.device, cfg.chunk_size, cfg.microphone_required)
        self._pub = self.create_publisher(Int16MultiArray, cfg.audio_topic, 50)
        self._timer = self.create_timer(cfg.poll_period_s, self._poll)
        self.get_logger().info(f"audio ({cfg.source}): {what} -> {cfg.audio_topic}, "
                               f"{cfg.chunk_size} samples/chunk at {SAMPLE_RATE} Hz")

    def _open_microphone(self, device: str | int, chunk_size: int, required: bool) -> str:
        try:
            self._mic = MicrophoneSource(device, chunk_size)
        except AudioDeviceError as err:
            if required:
                raise
            self.get_logger().error(f"{err}; publishing no audio (microphone_required: false)")
            return "no device"
        return f"device {self._mic.name!r}"

    def _poll(self) -> None:
        if self._replay is not None:
            if self._replay_start is None:
                if self.config.wav_wait_for_subscriber and not self._pub.get_subscription_count():
                    return
                self._replay_start = time.monotonic()
            chunks = self._replay.due(time.monotonic() - self._replay_start)
            if self._replay.finished and not chunks:
                self.get_logger().info("WAV replay finished", once=True)
        elif self._mic is not None:
            chunks = self._mic.read()
            if self._mic.dropped or self._mic.overflows:
                self.get_logger().warning(
                    f"microphone: {self._mic.dropped} chunks dropped, {self._mic.overflows} "
                    "input overflows so far", throttle_duration_sec=5.0)
        else:
            return
        for chunk in chunks:
            self._pub.publish(chunk_to_msg(chunk))
            self.chunks_published += 1
            self.samples_published += int(chunk.size)

    def close(self) -> None:
        """Stop the microphone stream (idempotent)."""
        if self._mic is not None:
            self._mic.close()


NODE_CLASS = AudioCaptureNode


def main(args: list[str] | None = None) -> None:
    run_node(AudioCaptureNode, args)


if __name__ == "__main__":
    main()
