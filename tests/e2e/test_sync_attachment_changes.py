"""Attachments that change or disappear without a page edit, through `SyncEngine.run_once`:
the change feed's watermark, false deletions, targeted runs, and the cost of a no-change run."""

from __future__ import annotations

import os
import shutil

import pytest

from syncd.confluence import ConfluenceClient, ServerError
from syncd.sync.engine import ATTACHMENTS_WATERMARK_KEY, SyncRequest
from syncd.sync.state import StateDB

from .sync_kit import diff_counts, make_config, request_counts, run_sync


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=0, seed=1)


def attach(emu, pid: str, files: dict[str, bytes]) -> dict[str, str]:
    ids = {name: emu.store.add_attachment(pid, name, data).id for name, data in files.items()}
    emu.store.edit(pid, emu.store.get(pid).body + "<p>attached</p>")
    return ids


def watermark(config) -> str | None:
    with StateDB.open(config.state_dir) as db:
        return db.get_meta(ATTACHMENTS_WATERMARK_KEY)


async def synced_page(emu, tmp_path, files: dict[str, bytes], **sync):
    pid = str(emu.store.create_page(emu.space_key, "Files", "<p>f</p>").id)
    config = make_config(tmp_path, emu, **sync)
    assert (await run_sync(config)).in_sync
    ids = attach(emu, pid, files)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    return pid, ids, config, tmp_path / "docs" / "Files.attachments"


async def test_watermark_stays_until_a_failed_download_succeeds(emu, tmp_path, monkeypatch):
    _, ids, config, folder = await synced_page(emu, tmp_path, {"a.txt": b"v1"})
    first = watermark(config)
    assert first is not None
    emu.store.update_attachment_data(ids["a.txt"], b"v2")  # no page edit

    async def refuse(self, attachment, destination, **kw):
        raise ServerError("download refused", status=500, method="GET", url="/download")

    with monkeypatch.context() as patch:
        patch.setattr(ConfluenceClient, "download_attachment", refuse)
        report = await run_sync(config)
    assert not report.in_sync and any("a.txt" in e for e in report.errors), report.errors
    assert (folder / "a.txt").read_bytes() == b"v1"
    assert watermark(config) == first  # the failed run did not move it

    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert (folder / "a.txt").read_bytes() == b"v2"
    assert float(watermark(config)) > float(first)


async def test_no_change_run_asks_the_feed_once_and_lists_no_attachments(emu, tmp_path):
    _, _, config, _ = await synced_page(emu, tmp_path, {"a.txt": b"v1", "b.txt": b"b"})
    before = request_counts(emu)
    report = await run_sync(config)
    assert report.in_sync and not report.applied
    delta = diff_counts(before, request_counts(emu))
    assert all(k.startswith("GET") for k in delta), delta
    assert not any("attachment" in k or "download" in k for k in delta), delta
    assert sum(v for k, v in delta.items() if k.endswith("/content/search")) == 1, delta


async def test_a_page_trashed_with_its_attachments_deletes_no_attachment(emu, tmp_path):
    pid, _, config, folder = await synced_page(emu, tmp_path, {"a.txt": b"v1"})
    os.unlink(tmp_path / "docs" / "Files.md")
    shutil.rmtree(folder)
    before = request_counts(emu)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert emu.store.get(pid).status == "trashed"
    deletes = {k: v for k, v in diff_counts(before, request_counts(emu)).items() if "DELETE" in k}
    assert list(deletes) and all("attachment" not in k for k in deletes), deletes
    assert [a.status for a in emu.store.attachments_of(pid)] == ["current"]


async def test_a_linked_or_replaced_folder_is_not_a_deletion(emu, tmp_path):
    pid, _, config, folder = await synced_page(emu, tmp_path, {"a.txt": b"v1", "b.txt": b"b"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_bytes(b"b")
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere, target_is_directory=True)  # a.txt is "missing" behind a link
    report = await run_sync(config)
    assert [a.status for a in emu.store.attachments_of(pid)] == ["current", "current"]
    assert not any(c.event_type.startswith("attachment_trashed") for c in report.applied)
    folder.unlink()
    folder.write_text("not a folder")
    report = await run_sync(config)
    assert [a.status for a in emu.store.attachments_of(pid)] == ["current", "current"]


async def test_targeted_run_named_by_a_file_event_trashes_the_attachment(emu, tmp_path):
    _, ids, config, folder = await synced_page(emu, tmp_path, {"a.txt": b"v1", "b.txt": b"b"})
    (folder / "a.txt").unlink()
    report = await run_sync(config, request=SyncRequest(paths={"Files.attachments/a.txt"}))
    assert report.in_sync, report.errors
    assert emu.store.get_attachment(ids["a.txt"]).status == "trashed"
    assert emu.store.get_attachment(ids["b.txt"]).status == "current"
    assert [c.event_type for c in report.applied] == ["attachment_trashed_remote"]
