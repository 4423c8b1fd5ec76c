"""Corpus access for the converter tests (tests/data/corpus/storage)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from syncd.convert import PullResult, storage_to_markdown
from syncd.convert.blocks import Projection, project
from syncd.convert.model import LinkResolver


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


def _shape(proj: Projection) -> tuple:
    """What a projection holds, comparable (xmltree nodes by their place in the body)."""
    return (
        proj.body,
        proj.markdown,
        proj.chunks,
        proj.fragments,
        proj.reuse,
        [
            (
                (b.start, b.end, b.kind, b.md, b.runs, b.first_line, b.chunk_lo, b.chunk_hi),
                [
                    (u.start, u.end, u.kind, u.md, u.runs, u.bullet)
                    + ((u.node.kind, u.node.start, u.node.end) if u.node else ())
                    for u in b.units
                ],
            )
            for b in proj.blocks
        ],
    )


@pytest.fixture
def project_pulled_once(monkeypatch) -> Iterator[Callable[[Mapping[str, PullResult]], None]]:
    """For tests that push many edits of the same pulled pages: ``install(pulls)``.

    A push projects the pulled body (with the links recorded at pull time) before it aligns
    the edit; for every edit of one page that is the same body and the same links, so once
    installed each page of ``pulls`` is projected once, not once per edit. The push only
    reads that projection: each one is checked against a fresh projection at teardown.
    """
    import syncd.convert.push as push_module

    real = push_module.project
    pages: dict[int, tuple[str, str]] = {}
    made: dict[int, tuple[str, Projection, LinkResolver | None]] = {}

    def project_once(storage: str, resolver: LinkResolver | None = None) -> Projection:
        name, body = pages.get(id(storage), ("", None))
        if body is not storage:
            return real(storage, resolver)
        if id(storage) not in made:
            made[id(storage)] = (name, real(storage, resolver), resolver)
        return made[id(storage)][1]

    def install(pulls: Mapping[str, PullResult]) -> None:
        pages.update({id(p.sidecar.body): (name, p.sidecar.body) for name, p in pulls.items()})
        monkeypatch.setattr(push_module, "project", project_once)

    yield install
    for name, proj, resolver in made.values():
        assert _shape(proj) == _shape(real(proj.body, resolver)), f"{name}: projection changed"
