"""Seeding: deterministic trees from the built-in page set, placeholders, corpus folders."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from syncd.emulator import seed
from syncd.emulator.server import build_store


def shape(store) -> list[tuple[str, str | None, str, tuple[str, ...], tuple[str, ...]]]:
    return [
        (
            c.title,
            store.get(c.parent_id).title if c.parent_id else None,
            c.body,
            tuple(sorted(c.labels)),
            tuple(a.filename for a in store.attachments_of(c.id)),
        )
        for c in store.listing("DEMO", "page")
    ]


def test_same_seed_same_space():
    a = build_store(space="DEMO", pages=60, seed=5, user="a@example.com", corpus=None)
    b = build_store(space="DEMO", pages=60, seed=5, user="a@example.com", corpus=None)
    assert shape(a) == shape(b)
    c = build_store(space="DEMO", pages=60, seed=6, user="a@example.com", corpus=None)
    assert shape(a) != shape(c), "the seed changes attachments and labels"


def test_home_page_then_a_tree_with_depth_and_fanout():
    store = build_store(space="DEMO", pages=300, seed=1, user="a@example.com", corpus=None)
    home = store.space("DEMO").homepage_id
    pages = list(store.listing("DEMO", "page"))
    assert len(pages) == 301 and pages[0].id == home
    depths = {len(store.ancestors(p.id)) for p in pages}
    assert depths == {0, 1, 2, 3, 4}
    assert all(len(store.children(p.id)) <= seed.FANOUT for p in pages)
    assert len(store.children(home)) == seed.FANOUT
    titles = [p.title for p in pages]
    assert len(set(titles)) == len(titles)


def test_placeholders_become_titles_and_attachments():
    templates = seed.load_templates()
    store = build_store(
        space="DEMO", pages=len(templates) * 2, seed=0, user="a@example.com", corpus=None
    )
    seeded = list(store.listing("DEMO", "page"))[1:]
    titles = {p.title for p in seeded}
    linked = 0
    for page in seeded:
        assert "{{" not in page.body
        for title in re.findall(r'ri:content-title="([^"]*)"', page.body):
            assert title.replace("&amp;", "&").replace("&quot;", '"') in titles
            linked += 1
        for name in re.findall(r'ri:filename="([^"]*)"', page.body):
            att = store.attachment_by_name(page.id, name)
            assert att is not None, f"{page.title}: {name} not attached"
            if name.endswith(".png"):
                data = att.version.data
                assert data.startswith(b"\x89PNG\r\n\x1a\n")
                assert struct.unpack(">II", data[16:24]) == (2, 2)
    assert linked > 0
    assert seeded[len(templates)].title.endswith(" 2"), "second round gets a suffix"


def test_seeded_bodies_are_normalised():
    store = build_store(space="DEMO", pages=30, seed=0, user="a@example.com", corpus=None)
    for page in store.listing("DEMO", "page"):
        for m in re.finditer(r"<ac:structured-macro\b[^>]*>", page.body):
            assert "ac:macro-id=" in m.group(0)


def test_fallback_bodies_when_the_folder_is_empty(tmp_path: Path):
    templates = seed.load_templates(tmp_path)
    assert [t.title for t in templates] == ["Overview", "Checklist"]


def test_corpus_seeding_one_page_per_file(tmp_path: Path):
    (tmp_path / "b-second.xml").write_text("<p>two</p>", encoding="utf-8")
    (tmp_path / "a-first.xml").write_text('<ac:structured-macro ac:name="toc" />', encoding="utf-8")
    (tmp_path / "ignored.txt").write_text("x", encoding="utf-8")
    store = build_store(space="DEMO", pages=99, seed=0, user="a@example.com", corpus=tmp_path)
    pages = list(store.listing("DEMO", "page"))[1:]
    assert [p.title for p in pages] == ["a-first", "b-second"]
    assert all(p.parent_id == store.space("DEMO").homepage_id for p in pages)
    assert "ac:macro-id" in pages[0].body


def test_shared_corpus_seeds(corpus_dir: Path):
    store = build_store(space="DEMO", pages=0, seed=0, user="a@example.com", corpus=corpus_dir)
    count = len(list(corpus_dir.glob("*.xml")))
    assert len(list(store.listing("DEMO", "page"))) == count + 1


def test_sample_files_are_deterministic():
    assert seed.sample_file("x.png", 1) == seed.sample_file("x.png", 1)
    assert seed.sample_file("x.pdf").startswith(b"%PDF-")
    assert seed.title_from_filename("04-runbook-ingest-lag.xml") == "Runbook ingest lag"
