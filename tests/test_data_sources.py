"""tests/data carries its provenance: every file is named in its directory's sources file, and
the OpenAPI copies still match the checksums their README records (unmodified copies)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def test_every_corpus_file_is_in_its_sources_file():
    sources = (DATA / "corpus" / "SOURCES.md").read_text(encoding="utf-8")
    files = sorted(p.name for p in (DATA / "corpus" / "storage").iterdir())
    assert len(files) > 80
    assert [f for f in files if f"`{f}`" not in sources] == []


def test_openapi_copies_match_the_recorded_checksums():
    readme = (DATA / "specs" / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| `([^`]+\.json)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    assert len(recorded) == 3
    for name, digest in recorded.items():
        assert hashlib.sha256((DATA / "specs" / name).read_bytes()).hexdigest() == digest, name


def test_realapi_keeps_only_its_index():
    """The recordings' sources state no redistributable licence (tests/data/README.md)."""
    assert sorted(p.name for p in (DATA / "realapi").iterdir()) == ["SOURCES.md", "manifest.json"]
