"""The first-sync pipeline (issue 13): conversions in worker processes and group commits.

A run that pulls many pages converts their bodies in worker processes ahead of their turn
(`syncd.sync.convert_ahead`) and commits the records of many pulls at once, after making
their files durable together and fsyncing their folders (`syncd.sync.executor.durability`).
Neither may change what is written: these tests compare a run with both against a run
without, and check the commit order that makes a crash harmless.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import syncd.sync.engine as engine_mod
from syncd.local.atomic import DirSyncs
from syncd.local.write_batch import WriteBatch
from syncd.sync import convert_ahead
from syncd.sync.executor import durability
from syncd.sync.state import StateDB

from .sync_kit import diff_counts, make_config, md_files, request_counts, run_sync

PAGES = 70


def tree(root: Path) -> dict[str, bytes]:
    """Every file of the folder but syncd's own lock."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".syncd" not in p.relative_to(root).parts
    }


def records(state_dir: Path) -> dict[str, tuple]:
    db = StateDB.open(state_dir)
    try:
        return {
            pid: (r.local_path, r.remote_version, r.base_markdown, r.base_sidecar, r.labels)
            for pid, r in db.pages().items()
        }
    finally:
        db.close()


async def test_worker_conversions_and_group_commits_write_what_a_plain_run_writes(
    emulator_factory, tmp_path, monkeypatch
):
    emu = await emulator_factory(flavor="cloud", pages=PAGES, seed=5)
    # Cross-links, an attachment and a mention, so the workers' answers matter.
    emu.store.create_page(
        emu.space_key,
        "Links",
        '<p><ac:link><ri:page ri:content-title="Links target" /></ac:link> '
        '<ac:link><ri:user ri:account-id="557058:u1" /></ac:link></p>',
    )
    emu.store.create_page(emu.space_key, "Links target", "<p>target</p>")

    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setattr(convert_ahead, "pool_workers", lambda pulls: 0)
    monkeypatch.setattr(durability, "GROUP_PAGES", 1)  # a commit per pull, as before
    report = await run_sync(make_config(plain, emu))
    assert report.in_sync, report.errors

    piped = tmp_path / "piped"
    piped.mkdir()
    pools: list[convert_ahead.ConversionPool] = []

    class Observed(convert_ahead.ConversionPool):
        def close(self) -> None:
            pools.append(self)
            super().close()

    monkeypatch.setattr(convert_ahead, "pool_workers", lambda pulls: 2)
    monkeypatch.setattr(convert_ahead, "ConversionPool", Observed)
    monkeypatch.setattr(durability, "GROUP_PAGES", 16)
    monkeypatch.setattr(durability, "GROUP_SECONDS", 3600.0)
    commits: list[int] = []
    real_end = StateDB.end_group

    def end_group(db: StateDB, *, commit: bool = True) -> None:
        if db.in_group and commit:
            # Commit order: every record about to be committed names a file on disk.
            missing = [
                r.local_path
                for r in db.pages().values()
                if not (piped / "docs" / r.local_path).is_file()
            ]
            assert missing == []
            commits.append(len(db.pages()))
        real_end(db, commit=commit)

    monkeypatch.setattr(StateDB, "end_group", end_group)
    before = request_counts(emu)
    report = await run_sync(make_config(piped, emu))
    assert report.in_sync, report.errors
    pulled = len(md_files(piped / "docs"))
    assert pulled == PAGES + 3  # the seeded pages, the home page and the two above
    assert pools and pools[0].used >= pulled - 2 and pools[0].used + pools[0].redone == pulled
    assert len(commits) >= pulled // 16 and commits == sorted(commits)
    assert tree(piped / "docs") == tree(plain / "docs")
    assert records(piped / "state") == records(plain / "state")
    # Nothing written to Confluence by either run.
    assert all(
        r.startswith("GET ") or "bulk" in r for r in diff_counts(before, request_counts(emu))
    )


async def test_a_folder_fsync_that_fails_leaves_no_record_and_the_next_run_converges(
    emulator_factory, tmp_path, monkeypatch
):
    emu = await emulator_factory(flavor="dc", pages=40, seed=2)
    monkeypatch.setattr(convert_ahead, "pool_workers", lambda pulls: 0)
    real_flush = DirSyncs.flush
    failed: list[int] = []

    def flush(self: DirSyncs) -> None:
        if not failed:
            failed.append(len(self))
            real_flush(self)
            raise OSError(errno.EIO, "I/O error")
        real_flush(self)

    monkeypatch.setattr(DirSyncs, "flush", flush)
    config = make_config(tmp_path, emu)
    with pytest.raises(OSError):
        await run_sync(config)
    assert failed
    written = set(tree(tmp_path / "docs"))
    assert written  # files of the failed group are on disk...
    assert records(tmp_path / "state") == {}  # ...but no record says they are synced
    before = request_counts(emu)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    # The files already there were linked again, not duplicated; nothing was sent.
    docs = md_files(tmp_path / "docs")
    assert len(docs) == 41
    assert sorted(r[0] for r in records(tmp_path / "state").values()) == sorted(docs)
    assert all(r.startswith("GET ") for r in diff_counts(before, request_counts(emu)))


async def test_a_file_saved_at_a_pages_name_before_its_group_closes_is_kept(
    emulator_factory, tmp_path, monkeypatch
):
    """A group's files are renamed into place when it closes: a file a user saves at one
    of their names meanwhile is never replaced; that page is not recorded, the run says
    so, and the next run takes it up."""
    emu = await emulator_factory(flavor="cloud", pages=30, seed=4)
    monkeypatch.setattr(convert_ahead, "pool_workers", lambda pulls: 0)
    monkeypatch.setattr(durability, "GROUP_SECONDS", 3600.0)
    real_publish = WriteBatch.publish
    docs = tmp_path / "docs"
    saved: list[str] = []

    def publish(batch: WriteBatch):
        if not saved:
            rel = next(r for r in batch._pending if r.endswith(".md") and r != "README.md")
            (docs / rel).write_text("my own notes\n")
            saved.append(rel)
        return real_publish(batch)

    monkeypatch.setattr(WriteBatch, "publish", publish)
    config = make_config(tmp_path, emu)
    report = await run_sync(config)
    [rel] = saved
    assert (docs / rel).read_text() == "my own notes\n"
    assert any(e.startswith(f"{rel}: changed while syncing") for e in report.errors)
    recorded = records(tmp_path / "state")
    assert rel not in {r[0] for r in recorded.values()}
    assert len(recorded) == len(md_files(docs)) - 1  # every other file is recorded
    assert not [p for p in docs.rglob(".syncd.*.tmp")]

    monkeypatch.setattr(WriteBatch, "publish", real_publish)
    report = await run_sync(config)
    # The next run finds a file without an id at the page's name, as if it had been there
    # before the first sync: both texts are kept, with conflict markers to resolve.
    assert report.errors == [] and report.conflicts == [rel]
    assert len(records(tmp_path / "state")) == len(recorded) + 1
    text = (docs / rel).read_text()
    assert "my own notes" in text and "<<<<<<<" in text


async def test_a_first_sync_lists_attachments_beside_the_pages_not_after(
    emulator_factory, tmp_path, monkeypatch
):
    """The space's attachment listing (one CQL search, `bulk_reads`) does not wait for the
    page listing and the plan: on a first sync it starts with the listing."""
    from syncd.confluence import ConfluenceClient

    emu = await emulator_factory(flavor="cloud", pages=30, seed=4)
    page = emu.store.create_page(emu.space_key, "With file", "<p>f</p>")
    emu.store.add_attachment(page.id, "a.txt", b"attached")
    listing_done: list[bool] = []
    asked_while_listing: list[bool] = []
    real_list, real_attachments = engine_mod.list_remote, ConfluenceClient.space_attachments

    async def list_remote(*args, **kwargs):
        try:
            return await real_list(*args, **kwargs)
        finally:
            listing_done.append(True)

    async def space_attachments(self, space_key):
        asked_while_listing.append(not listing_done)
        return await real_attachments(self, space_key)

    monkeypatch.setattr(engine_mod, "list_remote", list_remote)
    monkeypatch.setattr(ConfluenceClient, "space_attachments", space_attachments)
    report = await run_sync(make_config(tmp_path, emu))
    assert report.in_sync, report.errors
    assert asked_while_listing == [True]
    assert (tmp_path / "docs" / "With file.attachments" / "a.txt").read_bytes() == b"attached"
    # The next run has records: nothing is listed ahead of its plan.
    asked_while_listing.clear()
    report = await run_sync(make_config(tmp_path, emu))
    assert report.in_sync and asked_while_listing == []


async def test_workers_that_cannot_start_leave_the_conversion_to_the_run(
    emulator_factory, tmp_path, monkeypatch, caplog
):
    """A pool that cannot start (no processes left, no place for the fork server's
    socket) is not an error: the run converts every page itself."""
    emu = await emulator_factory(flavor="dc", pages=20, seed=6)
    pools: list[convert_ahead.ConversionPool] = []

    class Observed(convert_ahead.ConversionPool):
        def close(self) -> None:
            pools.append(self)
            super().close()

    def no_processes():
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(convert_ahead, "pool_workers", lambda pulls: 2)
    monkeypatch.setattr(convert_ahead, "ConversionPool", Observed)
    monkeypatch.setattr(convert_ahead, "_worker_context", no_processes)
    monkeypatch.setattr(convert_ahead, "warm_up", no_processes)
    monkeypatch.setattr(convert_ahead, "warm_up", no_processes)
    report = await run_sync(make_config(tmp_path, emu))
    assert report.in_sync, report.errors
    assert len(md_files(tmp_path / "docs")) == 21
    assert pools and pools[0].broken and pools[0].used == 0
    assert "conversion workers unavailable" in caplog.text
