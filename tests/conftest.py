"""Fixtures shared by the whole suite."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = (PROJECT_ROOT / ".." / "shared").resolve()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The reference material beside the project; tests needing it skip when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"reference material not found at {SHARED_DIR} (expected ../shared)")
    return SHARED_DIR


@pytest.fixture(scope="session")
def corpus_dir(shared_dir: Path) -> Path:
    path = shared_dir / "corpus" / "storage"
    if not path.is_dir():
        pytest.skip(f"storage corpus not found at {path}")
    return path
