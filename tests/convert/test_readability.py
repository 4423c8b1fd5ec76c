"""Issue 14 on real pages: pulled Markdown reads like a document, and stays exactly as safe.

Every page of tests/data/corpus and tests/data/corpus_extra (new real pages, see its
SOURCES.md) is scanned for machine noise (raw storage XML, CDATA, empty or parameter-run
span markers, code kept in markers, HTML lines over 400 characters, markers run together),
and the extra pages go through the corpus safety checks: no text lost, an unedited push is
no update, a one-word edit changes that word only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.convert import markdown_to_storage, storage_to_markdown
from syncd.convert.blocks import project

from . import test_corpus
from .helpers import NEW_WORD, canonical, editable_word, replace_word
from .readability import findings

EXTRA = Path(__file__).resolve().parents[1] / "data" / "corpus_extra" / "storage"


@pytest.fixture(scope="module")
def extra_bodies() -> dict[str, str]:
    bodies = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXTRA.glob("*.xml"))}
    assert len(bodies) == 10
    return bodies


@pytest.fixture(scope="module")
def extra_pulls(extra_bodies):
    return {name: storage_to_markdown(body) for name, body in extra_bodies.items()}


def _noise(bodies, pulls) -> dict[str, dict[str, int]]:
    noisy = {}
    for name, body in bodies.items():
        found = findings(pulls[name].markdown, project(body).fragments)
        found.pop("long_prose")  # a long paragraph is the author's text, one line as stored
        if any(found.values()):
            noisy[name] = {k: v for k, v in found.items() if v}
    return noisy


def test_corpus_markdown_has_no_machine_noise(corpus_bodies, corpus_pulls):
    assert _noise(corpus_bodies, corpus_pulls) == {}


def test_new_real_pages_have_no_machine_noise(extra_bodies, extra_pulls):
    assert _noise(extra_bodies, extra_pulls) == {}


def test_new_real_pages_lose_nothing_and_an_unedited_push_is_no_update(extra_bodies, extra_pulls):
    test_corpus.test_every_body_converts_and_no_text_is_lost(extra_bodies, extra_pulls)
    for name, body in extra_bodies.items():
        pull = extra_pulls[name]
        assert markdown_to_storage(pull.markdown, sidecar=pull.sidecar).storage is None, name
        assert pull.sidecar.reassemble() == body, name
    test_corpus.test_pull_does_not_depend_on_volatile_ids(extra_bodies, extra_pulls)


def test_new_real_pages_one_word_edit_changes_only_that_word(
    extra_bodies, extra_pulls, project_pulled_once
):
    project_pulled_once(extra_pulls)
    tried = 0
    for name, body in extra_bodies.items():
        pull = extra_pulls[name]
        proj = project(body)
        # Every fourth block of each page keeps the test lean (each edit is verified).
        for block in proj.blocks[::4]:
            found = editable_word(proj, block)
            if found is None:
                continue
            offset, word = found
            out = markdown_to_storage(
                replace_word(pull.markdown, offset, word), sidecar=pull.sidecar
            ).storage
            assert out is not None, (name, block.kind)
            # Exactly one occurrence more of the new word and the rest canonically equal.
            assert out.count(NEW_WORD) == 1, (name, block.kind)
            assert canonical(out.replace(NEW_WORD, word)) == canonical(body), (name, block.kind)
            tried += 1
    assert tried > 40
