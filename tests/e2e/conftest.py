"""Browser-test fixtures: where screenshots are kept as test artifacts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifacts() -> Path:
    """Screenshots and other files a person may want to look at after the run:
    KINERJA_TEST_ARTIFACTS, or test-artifacts/ at the checkout's root (ignored by git; CI keeps
    the folder)."""
    path = Path(os.environ.get("KINERJA_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
