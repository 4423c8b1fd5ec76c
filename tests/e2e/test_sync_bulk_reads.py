"""Request budgets of bulk reads (issue 13), counted per route by the emulator.

A run that pulls many pages reads their bodies by id in batches: Cloud
`GET /wiki/api/v2/pages?id=...&body-format=storage` (ids and limit up to 250, Cloud v2
OpenAPI spec `/pages`), Data Center `content/search` with `id in (...)` and the body
expanded (capped at 50 results, Atlassian KB confkb 1032258424), and the space's
attachments with one CQL listing; a run that pulls a handful reads them one by one.
"""

from __future__ import annotations

import math

import pytest

from syncd.sync.bulk_reads import BULK_MIN_PAGES

from .sync_kit import diff_counts, make_config, md_files, read_doc, request_counts, run_sync

PAGES = 120


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=PAGES, seed=3)


def per_page_reads(delta: dict[str, int]) -> int:
    """GETs of one page's body or one page's attachment list."""
    return sum(
        n
        for route, n in delta.items()
        if route.startswith("GET ")
        and route.endswith(
            ("/pages/{id}", "/blogposts/{id}", "/content/{id}", "/attachments", "/child/attachment")
        )
    )


def bulk_body_reads(emu, delta: dict[str, int], *, feeds: int) -> int:
    """Requests that read bodies in bulk. On DC they share `content/search` with the
    attachment listing and the change feeds: `feeds` is how many of those the run made."""
    if emu.flavor == "cloud":
        return delta.get("GET /wiki/api/v2/pages", 0)
    return delta.get("GET /rest/api/content/search", 0) - feeds


async def test_a_first_sync_reads_bodies_in_ceil_n_over_limit_requests(emu, tmp_path):
    config = make_config(tmp_path, emu)
    before = request_counts(emu)
    report = await run_sync(config)
    delta = diff_counts(before, request_counts(emu))
    assert report.in_sync, report.errors
    pages = PAGES + 1  # with the home page
    assert len(md_files(tmp_path / "docs")) == pages
    limit = 250 if emu.flavor == "cloud" else 50
    # one attachment listing for the space; no change feed on a first sync
    assert bulk_body_reads(emu, delta, feeds=1) == math.ceil(pages / limit), delta
    assert per_page_reads(delta) == 0, delta
    downloads = sum(n for route, n in delta.items() if "/download/attachments/" in route)
    attachments = sum(len(emu.store.attachments_of(c.id)) for c in emu.store.listing(emu.space_key))
    assert downloads == attachments > 0
    # the next run, with nothing changed, lists and reads no body
    before = request_counts(emu)
    again = await run_sync(config)
    delta = diff_counts(before, request_counts(emu))
    assert again.plan.actions == ()
    assert bulk_body_reads(emu, delta, feeds=1) == 0 and per_page_reads(delta) == 0, delta


async def test_a_catch_up_reads_many_changed_pages_in_bulk_and_a_handful_one_by_one(emu, tmp_path):
    config = make_config(tmp_path, emu)
    assert (await run_sync(config)).in_sync
    ids = [str(c.id) for c in emu.store.listing(emu.space_key)]
    many = ids[1 : 1 + 60]
    for pid in many:
        emu.store.edit(pid, f"<p>catch-up edit of {pid}</p>")
    before = request_counts(emu)
    report = await run_sync(config)
    delta = diff_counts(before, request_counts(emu))
    assert sorted(c.page_id for c in report.applied if c.event_type == "pulled") == sorted(many)
    limit = 250 if emu.flavor == "cloud" else 50
    # the attachment change feed and the space's attachment listing
    assert bulk_body_reads(emu, delta, feeds=2) == math.ceil(len(many) / limit), delta
    assert per_page_reads(delta) == 0, delta

    few = ids[-3:]
    assert len(few) < BULK_MIN_PAGES
    for pid in few:
        emu.store.edit(pid, f"<p>small edit of {pid}</p>")
    before = request_counts(emu)
    report = await run_sync(config)
    delta = diff_counts(before, request_counts(emu))
    assert sorted(c.page_id for c in report.applied if c.event_type == "pulled") == sorted(few)
    assert bulk_body_reads(emu, delta, feeds=1) == 0, delta
    assert per_page_reads(delta) == 2 * len(few), delta  # body and attachment list each
    for path in md_files(tmp_path / "docs").values():
        doc = read_doc(path)
        if doc.meta.page_id in few:
            assert "small edit" in doc.body


async def test_remote_edits_interleaved_with_a_bulk_first_sync_converge_losing_nothing(
    emu, tmp_path, monkeypatch
):
    """One page is edited between the listing and its bulk read (pulled at the newer
    version), another right after its bulk read, before its file is written (an ordinary
    concurrent edit: the next run pulls it, and merges it with a local edit made since)."""
    from syncd.confluence.client import ConfluenceClient

    ids = [str(c.id) for c in emu.store.listing(emu.space_key)]
    before_read, after_read = ids[5], ids[-5]
    for pid in (before_read, after_read):
        emu.store.edit(pid, "<p>alpha</p><p>beta</p>")
    real = ConfluenceClient.iter_pages_by_id

    async def interleaved(self, page_ids, *, kind="page"):
        page_ids = list(page_ids)
        if before_read in page_ids:
            emu.store.edit(before_read, "<p>alpha edited before the read</p><p>beta</p>")
        async for page in real(self, page_ids, kind=kind):
            if page.id == after_read:
                emu.store.edit(after_read, "<p>alpha edited after the read</p><p>beta</p>")
            yield page

    monkeypatch.setattr(ConfluenceClient, "iter_pages_by_id", interleaved)
    config = make_config(tmp_path, emu)
    first = await run_sync(config)
    assert first.in_sync, first.errors
    files = {read_doc(p).meta.page_id: p for p in md_files(tmp_path / "docs").values()}
    assert "edited before the read" in read_doc(files[before_read]).body
    assert "alpha edited" not in read_doc(files[after_read]).body  # written as read

    # the user edits the other paragraph of that page meanwhile
    path = files[after_read]
    path.write_text(path.read_text(encoding="utf-8").replace("beta", "beta edited locally"))
    second = await run_sync(config)
    assert second.in_sync, (second.errors, second.conflicts)
    local = read_doc(path).body
    remote = emu.store.get(after_read).body
    for text in (local, remote):
        assert "alpha edited after the read" in text and "beta edited locally" in text
    third = await run_sync(config)
    assert third.plan.actions == (), third.plan.describe()
