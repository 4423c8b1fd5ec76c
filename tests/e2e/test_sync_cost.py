"""Cost grows with what changed: what a sync reads and requests when little or nothing did."""

from __future__ import annotations

import os
import time

import pytest

import syncd.local.scan as scan_mod
import syncd.sync.snapshots as snapshots_mod
from syncd.local.scan import RACY_WINDOW_NS
from syncd.sync.engine import SyncEngine, SyncRequest

from .sync_kit import (
    diff_counts,
    make_config,
    md_files,
    read_doc,
    request_counts,
    run_sync,
    set_body,
)

BODY = "<p>one</p><p>two</p>"


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=12, seed=3)


def count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every local file the scan hashes or parses from now on."""
    reads: list[str] = []
    real_hash, real_read = scan_mod.hash_file, snapshots_mod.read_text

    def hashing(path):
        reads.append(os.fspath(path))
        return real_hash(path)

    def reading(root, rel):
        reads.append(rel)
        return real_read(root, rel)

    monkeypatch.setattr(scan_mod, "hash_file", hashing)
    monkeypatch.setattr(snapshots_mod, "read_text", reading)
    return reads


async def test_the_run_after_a_first_sync_reads_no_file(emu, tmp_path, monkeypatch):
    pid = emu.store.create_page(emu.space_key, "Logo page", BODY).id
    emu.store.add_attachment(pid, "logo.png", b"\x89PNG one")
    config = make_config(tmp_path, emu)
    first = await run_sync(config)
    assert first.in_sync, first.errors
    docs = tmp_path / "docs"
    assert len(md_files(docs)) >= 12
    assert any(p.name == "logo.png" for p in docs.rglob("*.png"))
    reads = count_reads(monkeypatch)
    second = await run_sync(config)
    assert second.plan.actions == (), second.plan.describe()
    assert reads == [] and second.files_read == 0


async def test_a_same_size_edit_right_after_a_pull_is_seen(emu, tmp_path):
    page_id = str(emu.store.create_page(emu.space_key, "Edited", BODY).id)
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = tmp_path / "docs" / "Edited.md"
    # Files syncd writes carry an mtime older than the racy window...
    assert path.stat().st_mtime_ns + RACY_WINDOW_NS <= time.time_ns()
    text = path.read_text(encoding="utf-8")
    edited = text.replace("one", "uno", 1)
    assert len(edited.encode()) == len(text.encode()) and edited != text
    path.write_text(edited, encoding="utf-8")
    # ...so an edit in the same clock tick on a file system with coarse (2 s) timestamps,
    # the worst case, still leaves a different mtime: it is hashed and pushed.
    now = time.time_ns()
    coarse = now - now % 2_000_000_000
    os.utime(path, ns=(now, coarse))
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pushed"], report.plan.describe()
    assert report.files_read == 1
    assert "uno" in emu.store.get(page_id).body


def page_requests(delta: dict[str, int], method: str) -> int:
    """Requests on a page itself (not its labels, attachments or children)."""
    return sum(
        n
        for route, n in delta.items()
        if route.startswith(method + " ")
        and route.rstrip("}").endswith(("/pages/{id", "/content/{id", "/content/{contentId"))
    )


async def test_a_targeted_pull_reads_the_page_once_and_a_push_writes_without_a_re_read(
    emu, tmp_path
):
    pid = str(emu.store.create_page(emu.space_key, "Counted", BODY).id)
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = tmp_path / "docs" / "Counted.md"
    engine = await SyncEngine.open(config)
    try:
        # a webhook hint: the page read to decide is the one applied
        emu.store.edit(pid, "<p>remote change</p>")
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(page_ids={pid}))
        delta = diff_counts(before, request_counts(emu))
        assert [c.event_type for c in report.applied] == ["pulled"], report.errors
        assert "remote change" in read_doc(path).body
        assert page_requests(delta, "GET") == 1, delta

        # a file event: one GET (is the page still current, and at which version?), one
        # PUT whose answer carries the stored body, no re-read
        set_body(path, "local change\n")
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(paths={"Counted.md"}))
        delta = diff_counts(before, request_counts(emu))
        assert [c.event_type for c in report.applied] == ["pushed"], report.errors
        assert (page_requests(delta, "GET"), page_requests(delta, "PUT")) == (1, 1), delta
    finally:
        await engine.close()
    record_version = emu.store.get(pid).version.number
    report = await run_sync(config)
    assert report.plan.actions == (), report.plan.describe()  # the answer was a good base
    assert emu.store.get(pid).version.number == record_version
