"""What produced an episode: package versions and the git commit (both cached per process)."""

from __future__ import annotations

import functools
import importlib.metadata
import platform
import re
import subprocess
from pathlib import Path

__all__ = ["git_commit", "package_root", "runtime_versions"]

# distribution names whose version an episode record keeps, where installed
_DISTRIBUTIONS = ("rclpy", "torch", "pybullet")


def package_root() -> Path:
    """The folder holding package.xml (the repository root in a source checkout)."""
    return Path(__file__).resolve().parents[3]


@functools.lru_cache(maxsize=1)
def runtime_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    try:
        xml = (package_root() / "package.xml").read_text(encoding="utf-8")
        match = re.search(r"<version>\s*([^<\s]+)\s*</version>", xml)
        if match:
            versions["ifagent_ros"] = match.group(1)
    except OSError:
        pass
    if "ifagent_ros" not in versions:  # an installed package: setup.py's version
        try:
            versions["ifagent_ros"] = importlib.metadata.version("ifagent_ros")
        except importlib.metadata.PackageNotFoundError:
            pass
    for dist in _DISTRIBUTIONS:  # metadata only: importing rclpy/torch here would cost seconds
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(package_root()), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None
