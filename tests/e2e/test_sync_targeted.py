"""Targeted requests (webhook hints, file events) cost O(what changed): no space listing."""

from __future__ import annotations

import os
import time

import pytest

from syncd.sync.engine import SyncEngine, SyncRequest
from syncd.sync.snapshots import scan_local
from syncd.sync.state import StateDB

from .sync_kit import diff_counts, make_config, read_doc, request_counts, run_sync, set_body

BODY = "<p>one</p><p>two</p>"


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=20, seed=3)


def add_page(emu, title, parent=None):
    return str(emu.store.create_page(emu.space_key, title, BODY, parent_id=parent).id)


def listed(delta: dict[str, int]) -> bool:
    """Did the run list the space (v2 space pages, v1 content listing or search)?"""
    return any(
        k.startswith("GET")
        and (k.endswith(("/spaces/{id}/pages", "/content", "/search")) or "/child/page" in k)
        for k in delta
    )


async def test_targeted_requests_touch_only_what_changed(emu, tmp_path):
    guide = add_page(emu, "Guide")
    notes = add_page(emu, "Notes")
    config = make_config(tmp_path, emu)
    await run_sync(config)
    docs = tmp_path / "docs"
    engine = await SyncEngine.open(config)
    try:
        # a webhook hint: the page is re-read by id, nothing listed
        emu.store.edit(notes, "<p>remote change</p>")
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(page_ids={notes}))
        delta = diff_counts(before, request_counts(emu))
        assert [c.event_type for c in report.applied] == ["pulled"]
        assert "remote change" in read_doc(docs / "Notes.md").body
        assert not listed(delta), delta
        assert all(k.startswith("GET") for k in delta), delta

        # a file event: that file is read and pushed, nothing listed
        set_body(docs / "Notes.md", "local change\n")
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(paths={"Notes.md"}))
        delta = diff_counts(before, request_counts(emu))
        assert [c.event_type for c in report.applied] == ["pushed"], report.errors
        assert "local change" in emu.store.get(notes).body
        assert not listed(delta), delta

        # a new file in a page's folder, and a deleted file
        (docs / "Guide").mkdir(exist_ok=True)
        (docs / "Guide" / "New.md").write_text("fresh\n")
        (docs / "Notes.md").unlink()
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(paths={"Guide/New.md", "Notes.md"}))
        delta = diff_counts(before, request_counts(emu))
        assert report.in_sync, report.errors
        new_id = read_doc(docs / "Guide" / "New.md").meta.page_id
        assert str(emu.store.get(new_id).parent_id) == guide
        assert emu.store.get(notes).status == "trashed"
        assert not listed(delta), delta

        # a hint for a page whose parent is new too: the parent is fetched and placed first
        parent = add_page(emu, "Area")
        child = add_page(emu, "Leaf", parent=parent)
        report = await engine.run_once(SyncRequest(page_ids={child}))
        assert report.in_sync, report.errors
        assert read_doc(docs / "Area" / "Leaf.md").meta.page_id == child
        assert read_doc(docs / "Area.md").meta.page_id == parent
    finally:
        await engine.close()
    # a full run afterwards agrees there is nothing left
    report = await run_sync(config)
    assert report.plan.actions == (), report.plan.describe()


async def test_unchanged_files_are_not_hashed_again(emu, tmp_path):
    config = make_config(tmp_path, emu)
    await run_sync(config)
    docs = tmp_path / "docs"
    past = time.time() - 60
    for p in docs.rglob("*.md"):
        os.utime(p, (past, past))
    with StateDB.open(config.state_dir) as db:
        records = db.pages()
        first = scan_local(docs, db, blog_posts=False, records=records)
        second = scan_local(docs, db, blog_posts=False, records=records)
    assert first.snapshot.hashed == len(records)
    assert second.snapshot.hashed == 0
    assert sorted(e.path for e in second.entries) == sorted(e.path for e in first.entries)


async def test_a_file_event_for_broken_front_matter_holds_the_page(emu, tmp_path):
    pid = add_page(emu, "Fragile")
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = tmp_path / "docs" / "Fragile.md"
    path.write_text("---\ntitle: [oops\n---\nbody\n")
    engine = await SyncEngine.open(config)
    try:
        report = await engine.run_once(SyncRequest(paths={"Fragile.md"}))
    finally:
        await engine.close()
    assert any("Fragile.md" in e for e in report.errors)
    assert emu.store.get(pid).status == "current" and emu.store.get(pid).version.number == 1
    assert path.exists()


async def test_a_page_file_replaced_by_a_symlink_is_not_a_deletion(emu, tmp_path):
    pid = add_page(emu, "Linked")
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = tmp_path / "docs" / "Linked.md"
    outside = tmp_path / "outside.md"
    outside.write_text(path.read_text())
    path.unlink()
    path.symlink_to(outside)
    report = await run_sync(config)
    assert any("Linked.md" in e for e in report.errors)
    assert emu.store.get(pid).status == "current"
    assert not report.plan.actions
