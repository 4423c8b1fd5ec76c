"""Cost grows with what changed: what a sync reads and requests when little or nothing did."""

from __future__ import annotations

import json
import os
import time

import pytest

import syncd.local.scan as scan_mod
import syncd.sync.snapshots as snapshots_mod
from syncd.local import frontmatter
from syncd.local.scan import RACY_WINDOW_NS
from syncd.sync.engine import SyncEngine, SyncRequest
from syncd.sync.state import StateDB

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


async def test_a_first_sync_parses_none_of_its_files_and_caches_what_reading_them_gives(
    emu, tmp_path, monkeypatch
):
    config = make_config(tmp_path, emu)
    parsed: list[str] = []
    real_parse = frontmatter.parse

    def parsing(text):
        parsed.append(text)
        return real_parse(text)

    monkeypatch.setattr(frontmatter, "parse", parsing)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    # The rows of the files it wrote come from what it rendered, not from parsing them.
    assert parsed == []
    monkeypatch.undo()
    docs = tmp_path / "docs"
    with StateDB.open(config.state_dir) as db:
        records = db.pages()
        rows = [r for r in db.iter_scan_cache() if r[1] == "page"]
    assert len(rows) == len(md_files(docs)) >= 12
    assert any(": " in r.title for r in records.values())  # written single-quoted
    for path, _area, size, mtime_ns, inode, sha, _certified, data in rows:
        st = os.stat(docs / path)
        assert (size, mtime_ns, inode) == (st.st_size, st.st_mtime_ns, st.st_ino)
        parsed_now = snapshots_mod.parse_file(snapshots_mod.read_text(docs, path), path, sha)
        assert data == json.dumps(parsed_now.to_list(), ensure_ascii=False)
    # The records hold the stat of the file as written (from the write, not a second stat).
    for record in records.values():
        st = os.stat(docs / record.local_path)
        assert (record.local_mtime_ns, record.local_size) == (st.st_mtime_ns, st.st_size)


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


async def edited_pages(emu, tmp_path, n: int):
    """`n` tracked pages, each edited locally: (config, page ids, paths)."""
    ids = [str(emu.store.create_page(emu.space_key, f"Busy {i}", BODY).id) for i in range(n)]
    config = make_config(tmp_path, emu)
    await run_sync(config)
    paths = [tmp_path / "docs" / f"Busy {i}.md" for i in range(n)]
    for i, path in enumerate(paths):
        set_body(path, f"local edit {i}\n")
    return config, ids, paths


async def test_pushes_of_different_pages_are_in_flight_together(emu, tmp_path):
    config, ids, _ = await edited_pages(emu, tmp_path, 6)
    emu.faults.configure({"latency_ms": 300})
    emu.state.peak_in_flight.clear()
    progress: list[tuple[int, int]] = []
    engine = await SyncEngine.open(
        config, progress=lambda done, total, _m: progress.append((done, total))
    )
    try:
        report = await engine.run_once()
    finally:
        await engine.close()
    emu.faults.configure({"latency_ms": 0})
    assert sorted(c.event_type for c in report.applied) == ["pushed"] * 6, report.errors
    put = next(k for k in emu.peak_in_flight if k.startswith("PUT "))
    # One at a time would be 1; six pages under 300 ms latency overlap (the client allows 8).
    assert emu.peak_in_flight[put] >= 4, emu.peak_in_flight
    assert progress == [(i, 6) for i in range(1, 7)]
    for i, pid in enumerate(ids):
        assert f"local edit {i}" in emu.store.get(pid).body
    again = await run_sync(config)
    assert again.plan.actions == (), again.plan.describe()


async def test_a_failed_push_leaves_the_other_pages_pushed_and_recorded(emu, tmp_path):
    from syncd.confluence import ServerError

    config, ids, _ = await edited_pages(emu, tmp_path, 5)
    engine = await SyncEngine.open(config)
    real_update = engine.client.update_page

    async def failing_update(page_id, **kw):
        if page_id == ids[2]:
            raise ServerError("injected", status=500, method="PUT", url="/pages")
        return await real_update(page_id, **kw)

    engine.client.update_page = failing_update
    try:
        report = await engine.run_once()
    finally:
        await engine.close()
    assert sorted(c.page_id for c in report.applied) == sorted(ids[:2] + ids[3:])
    assert len(report.errors) == 1 and "Busy 2" in report.errors[0], report.errors
    assert "local edit 2" not in emu.store.get(ids[2]).body
    # The others were recorded: the next run pushes only the failed page.
    again = await run_sync(config)
    assert [(c.event_type, c.page_id) for c in again.applied] == [("pushed", ids[2])]
    assert "local edit 2" in emu.store.get(ids[2]).body


async def test_a_fatal_error_during_concurrent_pushes_stops_the_run(emu, tmp_path):
    from syncd.confluence import AuthFailed

    config, ids, _ = await edited_pages(emu, tmp_path, 4)
    engine = await SyncEngine.open(config)
    real_update = engine.client.update_page

    async def revoked(page_id, **kw):
        if page_id == ids[1]:
            raise AuthFailed("token revoked", status=401, method="PUT", url="/pages")
        return await real_update(page_id, **kw)

    engine.client.update_page = revoked
    try:
        with pytest.raises(AuthFailed):
            await engine.run_once()
    finally:
        await engine.close()
    # Whatever was pushed before the stop was recorded: the next run pushes only the rest.
    pushed = {pid for pid in ids if emu.store.get(pid).version.number == 2}
    assert ids[1] not in pushed
    again = await run_sync(config)
    assert {c.page_id for c in again.applied} == set(ids) - pushed, again.errors


class Killed(BaseException):
    """Stands for a kill -9: nothing after it runs, not even error handling."""


async def test_a_push_whose_record_was_lost_is_recognised_though_it_reads_back_differently(
    emu, tmp_path
):
    """Regression: a crash between a push and its record, on a page whose stored text reads
    back differently from the file (`A_ b` comes back as `A\\_ b`), made the next run
    write conflict markers instead of recording Confluence's copy as the push it was."""
    pid = str(emu.store.create_page(emu.space_key, "Escapes", BODY).id)
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = tmp_path / "docs" / "Escapes.md"
    set_body(path, read_doc(path).body + "\nSnake_ case and more_ words.\n")
    engine = await SyncEngine.open(config)
    real_update = engine.client.update_page

    async def update_then_die(page_id, **kw):
        await real_update(page_id, **kw)
        raise Killed

    engine.client.update_page = update_then_die
    try:
        with pytest.raises(Killed):
            await engine.run_once()
    finally:
        await engine.close()
    assert emu.store.get(pid).version.number == 2
    report = await run_sync(config)
    assert report.in_sync and not report.conflicts, (report.errors, report.conflicts)
    assert emu.store.get(pid).version.number == 2  # recorded, not pushed again
    body = read_doc(path).body
    assert "<<<<<<<" not in body and "case and more" in body
    again = await run_sync(config)
    assert again.plan.actions == (), again.plan.describe()


async def test_a_created_page_is_recorded_from_the_create_answer(emu, tmp_path):
    config = make_config(tmp_path, emu)
    await run_sync(config)
    (tmp_path / "docs" / "Fresh.md").write_text("---\nlabels: [new-one]\n---\n\nHello_ there.\n")
    before = request_counts(emu)
    report = await run_sync(config)
    delta = diff_counts(before, request_counts(emu))
    assert [c.event_type for c in report.applied] == ["created_remote"], report.errors
    # The POST answer carries the stored body: no re-read of the new page.
    assert page_requests(delta, "GET") == 0, delta
    pid = read_doc(tmp_path / "docs" / "Fresh.md").meta.page_id
    assert "Hello" in emu.store.get(pid).body
    again = await run_sync(config)
    assert again.plan.actions == (), again.plan.describe()


async def test_a_hinted_page_and_its_attachment_list_are_read_together(emu, tmp_path):
    """A webhook hint's pull costs one round trip, not two: the page's attachment list
    is asked for before the page read that confirms the change has answered."""
    from syncd.confluence.client import ConfluenceClient

    pid = str(emu.store.create_page(emu.space_key, "Hinted", BODY).id)
    config = make_config(tmp_path, emu)
    await run_sync(config)
    events: list[str] = []
    real_get, real_list = ConfluenceClient.get_page, ConfluenceClient.list_attachments

    async def get_page(self, page_id, **kw):
        page = await real_get(self, page_id, **kw)
        events.append("page answered")
        return page

    async def list_attachments(self, page_id, **kw):
        events.append("list asked")
        return await real_list(self, page_id, **kw)

    engine = await SyncEngine.open(config)
    try:
        emu.store.edit(pid, "<p>remote change</p>")
        ConfluenceClient.get_page, ConfluenceClient.list_attachments = get_page, list_attachments
        before = request_counts(emu)
        report = await engine.run_once(SyncRequest(page_ids={pid}))
        delta = diff_counts(before, request_counts(emu))
    finally:
        ConfluenceClient.get_page, ConfluenceClient.list_attachments = real_get, real_list
        await engine.close()
    assert [c.event_type for c in report.applied] == ["pulled"], report.errors
    assert events == ["list asked", "page answered"], events
    # the page and its list, each once (and the space, once per engine)
    assert sum(n for route, n in delta.items() if "/space" not in route) == 2, delta
