"""Corpus access for the converter tests (tests/data/corpus/storage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.convert import storage_to_markdown
from syncd.convert.blocks import Projection, project


@pytest.fixture(scope="session")
def corpus_bodies(corpus_dir: Path) -> dict[str, str]:
    bodies = {p.name: p.read_text(encoding="utf-8") for p in sorted(corpus_dir.glob("*.xml"))}
    assert bodies, f"no storage bodies in {corpus_dir}"
    return bodies


@pytest.fixture(scope="session")
def corpus_pulls(corpus_bodies):
    return {name: storage_to_markdown(body) for name, body in corpus_bodies.items()}


@pytest.fixture(scope="session")
def corpus_projections(corpus_bodies) -> dict[str, Projection]:
    """Each corpus body projected once for the whole session (the tests only read them)."""
    return {name: project(body) for name, body in corpus_bodies.items()}
