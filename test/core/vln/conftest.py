"""Fixtures of the VLN tests (the synthetic building itself lives in r2r_world.py, a uniquely
named module, so test files can import it next to other test folders' conftest modules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from r2r_world import write_world


@pytest.fixture
def toy_root(tmp_path: Path) -> Path:
    return write_world(tmp_path / "r2r")
