"""What setup.py passes to setup(), read by running it with setup() replaced (for the tests)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parent.parent


def setup_kwargs(root: Path = REPO) -> dict[str, Any]:
    captured: dict[str, Any] = {}
    cwd = os.getcwd()
    os.chdir(root)  # setup.py's data_files paths are relative to its folder
    try:
        with mock.patch("setuptools.setup", lambda **kw: captured.update(kw)):
            runpy.run_path(str(root / "setup.py"), run_name="__main__")
    finally:
        os.chdir(cwd)
    return captured


def console_scripts() -> dict[str, str]:
    """{script name: 'module:function'}."""
    scripts = {}
    for entry in setup_kwargs()["entry_points"]["console_scripts"]:
        name, _, target = entry.partition("=")
        scripts[name.strip()] = target.strip()
    return scripts
