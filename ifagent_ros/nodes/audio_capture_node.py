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
from typing import Any

import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
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
from ifagent_ros.nodes.node_main import run_node

PARAMETERS: dict[str, Any] = {
    "audio_topic": "/audio",
    "source": "microphone",  # microphone | wav
    "chunk_size": 1024,  # samples per message: 64 ms at 16 kHz
    "device": "",  # microphone: index or name substring; "" = default input
    "microphone_required": True,  # false: a microphone that cannot open is logged, not fatal
    "wav_path": "",
    "loop": False,
    "loop_silence_s": 1.0,
    "wav_wait_for_subscriber": True,  # start the replay when /audio has a subscriber
    "poll_period_s": 0.02,
}


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
        dyn = ParameterDescriptor(dynamic_typing=True)
        par = {name: self.declare_parameter(name, default, dyn).value
               for name, default in PARAMETERS.items()}
        self._par = par
        chunk_size = int(par["chunk_size"])
        if chunk_size <= 0:
            raise ValueError(f"parameter chunk_size must be positive, got {chunk_size}")
        self._mic: MicrophoneSource | None = None
        self._replay: WavReplay | None = None
        self._replay_start: float | None = None
        self.chunks_published = 0
        self.samples_published = 0
        source = str(par["source"])
        if source == "wav":
            if not str(par["wav_path"]):
                raise ValueError("parameter wav_path is empty (source: wav)")
            samples = read_wav_16k_mono(str(par["wav_path"]))
            self._replay = WavReplay(samples, chunk_size, loop=bool(par["loop"]),
                                     loop_silence_s=float(par["loop_silence_s"]))
            what = f"{par['wav_path']} ({samples.size / SAMPLE_RATE:.2f} s" + (
                ", looping)" if par["loop"] else ")")
        elif source == "microphone":
            what = self._open_microphone(par["device"], chunk_size,
                                         bool(par["microphone_required"]))
        else:
            raise ValueError(f"parameter source must be 'microphone' or 'wav', got {source!r}")
        self._pub = self.create_publisher(Int16MultiArray, str(par["audio_topic"]), 50)
        self._timer = self.create_timer(float(par["poll_period_s"]), self._poll)
        self.get_logger().info(f"audio ({source}): {what} -> {par['audio_topic']}, "
                               f"{chunk_size} samples/chunk at {SAMPLE_RATE} Hz")

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
                if self._par["wav_wait_for_subscriber"] and not self._pub.get_subscription_count():
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
