"""`ifagent asr`: one JSON line for a good file, exit 2 with a message for a bad one."""

import argparse
import json
import wave

import numpy as np
import pytest

pytest.importorskip("pocketsphinx")
from ifagent_ros.cli import asr as cli_asr  # noqa: E402


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_asr.add_arguments(parser)
    return parser.parse_args(argv)


def _write(path, rate: int, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.zeros(rate // 2 * channels, "<i2").tobytes())


def test_prints_one_speech_text_line(tmp_path, capsys):
    _write(tmp_path / "a.wav", 16000)
    objects = tmp_path / "scene.json"
    objects.write_text(json.dumps({"objects": []}))
    argv = ("--objects", str(objects), "--backend", "pocketsphinx")
    assert cli_asr.run(_args(str(tmp_path / "a.wav"), *argv)) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and json.loads(line)["backend"].startswith("pocketsphinx")


@pytest.mark.parametrize(
    ("rate", "channels", "message"), [(44100, 1, "44100 Hz"), (16000, 2, "2 channels")]
)
def test_wrong_format_exits_2(tmp_path, capsys, rate, channels, message):
    _write(tmp_path / "b.wav", rate, channels)
    assert cli_asr.run(_args(str(tmp_path / "b.wav"))) == 2
    assert message in capsys.readouterr().err


def test_a_missing_whisper_model_folder_exits_2(tmp_path, capsys):
    _write(tmp_path / "c.wav", 16000)
    argv = ("--backend", "whisper", "--model", str(tmp_path / "nowhere"))
    assert cli_asr.run(_args(str(tmp_path / "c.wav"), *argv)) == 2
    assert "neither a packaged model" in capsys.readouterr().err
