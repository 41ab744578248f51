"""speech_node over real rclpy (private Context): /audio + /joy -> /ifagent/speech/text.

Utterances are synthesised with espeak-ng and resampled with sox (skipped where either is
missing); recognition runs on the default backend, Whisper base from the packaged weights, with
real decoding (no stand-in recogniser), and the always-on stop detector hears the same audio.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rclpy.context import Context
from rclpy.parameter import Parameter
from ros_helpers import NodeHarness, spin_for
from sensor_msgs.msg import Joy
from std_msgs.msg import Bool, Int16MultiArray, MultiArrayDimension, String

from ifagent_ros.core.schemas import ObjectList, PerceivedObject
from ifagent_ros.core.speech.sources import format_label, read_wav_16k_mono
from ifagent_ros.nodes.audio_capture_node import chunk_to_msg
from ifagent_ros.nodes.speech_node import SpeechNode
from ifagent_ros.nodes.topics import ESTOP_QOS

CHUNK = 1024


def synthesize(text: str, path: Path) -> np.ndarray:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed to synthesise test speech")
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(raw), text], check=True,
                   capture_output=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(path)],
                   check=True, capture_output=True)
    return read_wav_16k_mono(path)


@pytest.fixture(scope="module")
def move_left(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    return synthesize("move left", tmp_path_factory.mktemp("speech") / "move_left.wav")


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), np.int16)


class Harness(NodeHarness):
    spin_timeout = 10.0

    def __init__(self, ctx: Context, **params: object) -> None:
        super().__init__(ctx, SpeechNode(context=ctx,
                               node_name=f"speech_under_test_{random.randrange(10**6)}",
                               parameter_overrides=[Parameter(k, value=v)
                                                    for k, v in params.items()]))
        self.texts: list[dict] = []
        self.estops: list[bool] = []
        self.status: list[dict] = []
        self.probe.create_subscription(String, "/ifagent/speech/text",
                                       lambda m: self.texts.append(json.loads(m.data)), 10)
        self.probe.create_subscription(Bool, "/ifagent/estop",
                                       lambda m: self.estops.append(m.data), ESTOP_QOS)
        self.probe.create_subscription(String, "/ifagent/speech/status",
                                       lambda m: self.status.append(json.loads(m.data)), 10)
        self.audio_pub = self.probe.create_publisher(Int16MultiArray, "/audio", 100)
        self.joy_pub = self.probe.create_publisher(Joy, "/joy", 10)
        self.typed_pub = self.probe.create_publisher(String, "/ifagent/speech/typed", 10)
        self.objects_pub = self.probe.create_publisher(String, "/ifagent/objects", 10)
        pubs = [self.audio_pub, self.typed_pub, self.objects_pub]
        if self.node.mode == "push_to_talk":
            pubs.append(self.joy_pub)
        assert self.spin_until(lambda: all(p.get_subscription_count() >= 1 for p in pubs)
                               and self.node._pub.get_subscription_count() >= 1)

    def joy(self, pressed: bool) -> None:
        self.joy_pub.publish(Joy(axes=[0.0] * 8, buttons=[int(pressed)] + [0] * 10))
        spin_for(self.executor, 0.05)

    def audio(self, samples: np.ndarray) -> None:
        """Publish ``samples`` as /audio chunks and wait until the node has them all."""
        target = self.node.speech.chunks_received + -(-samples.size // CHUNK)
        for i in range(0, samples.size, CHUNK):
            self.audio_pub.publish(chunk_to_msg(samples[i:i + CHUNK]))
            self.executor.spin_once(timeout_sec=0.0)
        assert self.spin_until(lambda: self.node.speech.chunks_received >= target)

    def audio_paced(self, samples: np.ndarray) -> None:
        """:meth:`audio`, one chunk per chunk length of wall time (a live microphone)."""
        for i in range(0, samples.size, CHUNK):
            self.audio(samples[i:i + CHUNK])
            spin_for(self.executor, CHUNK / 16000)


@pytest.fixture
def ptt(ros_context: Context) -> Iterator[Harness]:
    h = Harness(ros_context, mode="push_to_talk", ptt_release_delay_s=0.05)
    yield h
    h.close()


def test_push_to_talk_transcribes_the_held_stretch(ptt: Harness, move_left: np.ndarray) -> None:
    ptt.audio(silence(0.5))  # before the press: not part of the utterance
    ptt.joy(True)
    ptt.audio(np.concatenate([silence(0.2), move_left, silence(0.2)]))
    ptt.joy(False)
    assert ptt.spin_until(lambda: ptt.texts, timeout=20.0)
    msg = ptt.texts[-1]
    assert msg["text"] == "move left"
    assert msg["backend"] == "whisper" and ptt.node.backend == "WhisperRecognizer"
    assert 0.0 < msg["confidence"] <= 1.0
    assert msg["end"] > msg["start"]
    assert msg["end"] - msg["start"] == pytest.approx(0.4 + move_left.size / 16000, abs=0.1)
    assert ptt.node.speech.last_release_latency_s is not None
    assert ptt.estops == []  # "move left" is no stop


def test_partials_are_reused_when_they_cover_the_speech(ptt: Harness,
                                                        move_left: np.ndarray) -> None:
    """Audio at real-time pace with a pause before release: the partial decoded during the
    pause is what gets published (no second decode after the release)."""
    ptt.joy(True)
    ptt.audio_paced(np.concatenate([silence(0.2), move_left, silence(1.5)]))
    spin_for(ptt.executor, 0.5)
    ptt.joy(False)
    assert ptt.spin_until(lambda: ptt.texts, timeout=20.0)
    assert ptt.texts[-1]["text"] == "move left"
    assert ptt.node.speech.partials_reused == 1
    assert ptt.node.speech._partials.last_release.outcome == "reused"


def test_typed_text_passes_through(ptt: Harness) -> None:
    ptt.typed_pub.publish(String(data="  stop  "))
    assert ptt.spin_until(lambda: ptt.texts)
    assert ptt.texts[-1]["text"] == "stop" and ptt.texts[-1]["backend"] == "typed"
    assert ptt.texts[-1]["confidence"] == 1.0


def test_bad_audio_and_bad_presses_publish_nothing(ptt: Harness, move_left: np.ndarray) -> None:
    node = ptt.node
    tone = (3000 * np.sin(np.arange(CHUNK) * 0.2)).astype(np.int16)
    # Wrong sample rate, stereo, empty chunks: dropped.
    wrong = chunk_to_msg(tone)
    wrong.layout.dim = [MultiArrayDimension(label=format_label(rate=44100), size=CHUNK,
                                            stride=1)]
    stereo = chunk_to_msg(tone)
    stereo.layout.dim = [MultiArrayDimension(label=format_label(channels=2), size=CHUNK,
                                             stride=1)]
    ptt.joy(True)
    for msg in (wrong, stereo, Int16MultiArray()):
        ptt.audio_pub.publish(msg)
    assert ptt.spin_until(lambda: node.speech.chunks_rejected == 3)
    ptt.joy(False)  # the press held no accepted audio
    assert ptt.spin_until(lambda: "no audio" in (node.speech.last_rejection or ""))
    # Silence only.
    ptt.joy(True)
    ptt.audio(silence(1.0))
    ptt.joy(False)
    assert ptt.spin_until(lambda: "silence" in (node.speech.last_rejection or ""))
    # A tap too short to hold a word.
    ptt.joy(True)
    ptt.audio(tone)
    ptt.joy(False)
    assert ptt.spin_until(lambda: "shorter than" in (node.speech.last_rejection or ""))
    # Clipped: a distorted "move left" at far too much gain.
    ptt.joy(True)
    ptt.audio(np.clip(move_left.astype(np.int32) * 40, -32768, 32767).astype(np.int16))
    ptt.joy(False)
    assert ptt.spin_until(lambda: "clipped" in (node.speech.last_rejection or ""))
    # The microphone disappears mid-utterance: the press is reported, what arrived is decoded.
    ptt.joy(True)
    ptt.audio(move_left[: move_left.size // 3])
    assert ptt.spin_until(lambda: "no audio" in (node.speech.last_rejection or ""), timeout=3.0)
    ptt.joy(False)
    spin_for(ptt.executor, 3.0)
    assert all(t["text"] != "move left" for t in ptt.texts)
    ptt.texts.clear()
    spin_for(ptt.executor, 0.3)
    assert ptt.texts == []
    # Still alive: typed text goes through.
    ptt.typed_pub.publish(String(data="stop"))
    assert ptt.spin_until(lambda: ptt.texts)


def test_vocabulary_follows_the_objects_only_when_it_changes(ptt: Harness) -> None:
    def objects(*pairs: tuple[str, str]) -> String:
        objs = [PerceivedObject(id=f"obj_{i}", color=c, label=lbl, position=[0.5, 0.0, 0.02],
                                size=[0.04] * 3, confidence=0.9)
                for i, (c, lbl) in enumerate(pairs)]
        return String(data=ObjectList(stamp=1.0, objects=objs).model_dump_json())

    node = ptt.node
    ptt.objects_pub.publish(objects(("red", "block"), ("blue", "bowl")))
    assert ptt.spin_until(lambda: node.speech.vocabulary_updates == 1)
    assert node.speech.vocabulary == ("block", "blue", "bowl", "red")
    ptt.objects_pub.publish(objects(("blue", "bowl"), ("red", "block")))  # same words
    ptt.objects_pub.publish(String(data="{not json"))
    spin_for(ptt.executor, 0.3)
    assert node.speech.vocabulary_updates == 1
    assert "bad /ifagent/objects" in (node.speech.last_rejection or "")
    ptt.objects_pub.publish(objects(("green", "mug")))
    assert ptt.spin_until(lambda: node.speech.vocabulary_updates == 2)
    assert node.speech.vocabulary == ("green", "mug")


def test_an_overlong_press_keeps_the_last_seconds(ros_context: Context,
                                                  move_left: np.ndarray) -> None:
    h = Harness(ros_context, mode="push_to_talk", ptt_release_delay_s=0.05,
                max_utterance_s=move_left.size / 16000 + 0.3)
    try:
        h.joy(True)
        h.audio(np.concatenate([move_left, silence(1.0), move_left, silence(0.1)]))
        h.joy(False)
        assert h.spin_until(lambda: h.texts, timeout=20.0)
        assert "max_utterance_s" in (h.node.speech.last_rejection or "")
        assert h.texts[-1]["text"] == "move left"
    finally:
        h.close()


def test_hands_free_cuts_one_utterance_out_of_silence(ros_context: Context,
                                                      move_left: np.ndarray) -> None:
    h = Harness(ros_context, mode="hands_free")
    try:
        h.audio(np.concatenate([silence(1.0), move_left, silence(1.5)]))
        assert h.spin_until(lambda: h.texts, timeout=20.0)
        spin_for(h.executor, 0.5)
        assert [t["text"] for t in h.texts] == ["move left"]
    finally:
        h.close()


def test_a_stop_word_latches_the_estop_without_push_to_talk(ptt: Harness,
                                                            tmp_path: Path) -> None:
    """No button held: the transcript path is idle, the stop detector alone latches."""
    stop = synthesize("stop", tmp_path / "stop.wav")
    ptt.audio(np.concatenate([silence(0.5), stop, silence(0.6)]))
    assert ptt.spin_until(lambda: ptt.estops, timeout=10.0)
    assert ptt.estops == [True] and ptt.node.speech.stops_latched == 1
    assert ptt.spin_until(lambda: any(s["verdict"] == "stop" for s in ptt.status))
    assert ptt.texts == []  # nothing went through the recogniser


def test_a_stop_in_a_partial_latches_before_the_release(ros_context: Context,
                                                         tmp_path: Path) -> None:
    """Stop detector off: the partial decoded during a pause, button still held, latches."""
    h = Harness(ros_context, mode="push_to_talk", stop_always_on=False)
    try:
        stop = synthesize("stop", tmp_path / "stop.wav")
        h.joy(True)
        h.audio_paced(np.concatenate([silence(0.2), stop, silence(1.0)]))
        assert h.spin_until(lambda: h.estops, timeout=10.0)
        assert h.node.speech.pressed_at is not None  # still held
        assert h.estops == [True] and h.texts == []
        h.joy(False)
    finally:
        h.close()


def test_unrelated_speech_without_push_to_talk_latches_nothing(ptt: Harness,
                                                              tmp_path: Path) -> None:
    chat = synthesize("what a lovely day it is today", tmp_path / "chat.wav")
    ptt.audio(np.concatenate([silence(0.3), chat, silence(0.6)]))
    spin_for(ptt.executor, 1.0)
    assert ptt.estops == [] and ptt.texts == []


def test_a_flood_of_audio_is_survived(ptt: Harness, move_left: np.ndarray) -> None:
    """60 s of audio at once: the stop path drops its oldest audio, the node keeps working."""
    burst = np.tile(np.concatenate([move_left, silence(0.5)]), 40)[: 60 * 16000]
    for i in range(0, burst.size, 4096):
        ptt.audio_pub.publish(chunk_to_msg(burst[i:i + 4096]))
    # (keep-last 100 on /audio: part of a burst this size may be dropped by DDS, which is fine)
    assert ptt.spin_until(lambda: "audio flood" in (ptt.node.speech.last_rejection or ""),
                          timeout=20.0)
    assert ptt.node.speech._stop.dropped_samples > 0
    ptt.typed_pub.publish(String(data="left"))
    assert ptt.spin_until(lambda: ptt.texts)


def test_missing_whisper_weights_fall_back_to_pocketsphinx(ros_context: Context,
                                                           tmp_path: Path,
                                                           move_left: np.ndarray) -> None:
    h = Harness(ros_context, mode="push_to_talk", ptt_release_delay_s=0.05,
                **{"asr.model": str(tmp_path / "no_such_model")})
    try:
        assert h.node.backend == "PocketsphinxRecognizer"
        h.joy(True)
        h.audio(np.concatenate([silence(0.2), move_left, silence(0.2)]))
        h.joy(False)
        assert h.spin_until(lambda: h.texts, timeout=20.0)
        assert h.texts[-1]["backend"].startswith("pocketsphinx")
    finally:
        h.close()


def test_bad_parameters_fail_at_start(ros_context: Context) -> None:
    with pytest.raises(ValueError, match="mode must be"):
        SpeechNode(context=ros_context, parameter_overrides=[Parameter("mode", value="psychic")])
