"""Engine details: the write observer, malformed bodies, dry runs, status, the state lock."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from syncd.sync.engine import SyncEngine, SyncRequest
from syncd.sync.state import StateLocked

from .sync_kit import make_config, md_files, read_doc, run_sync, set_body


class RecordingObserver:
    """Checks each announced write against what lands on disk afterwards."""

    def __init__(self, root):
        self.root = root
        self.writes: list[tuple[str, str]] = []
        self.deletes: list[str] = []

    def expect_write(self, rel, sha256):
        assert (
            not (self.root / rel).exists()
            or hashlib.sha256((self.root / rel).read_bytes()).hexdigest() != sha256
        ), f"announced an unchanged write of {rel}"
        self.writes.append((rel, sha256))

    def expect_delete(self, rel):
        assert (self.root / rel).exists(), f"announced deleting a missing {rel}"
        self.deletes.append(rel)


async def test_every_write_is_announced_to_the_observer_first(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    docs = tmp_path / "docs"
    observer = RecordingObserver(docs)
    engine = await SyncEngine.open(config, observer=observer)
    try:
        await engine.run_once()
        files = md_files(docs)
        announced = dict(observer.writes)
        attachments = {r for r in announced if ".attachments/" in r}
        assert attachments  # the seeded space has some; they are announced too
        assert set(announced) - attachments == set(files)
        for rel, sha in announced.items():
            assert sha == hashlib.sha256((docs / rel).read_bytes()).hexdigest()
        # a push whose re-read equals the file rewrites nothing
        target = next(p for r, p in files.items() if r != "README.md")
        set_body(target, read_doc(target).body + "\nMore.\n")
        observer.writes.clear()
        report = await engine.run_once()
        assert [c.event_type for c in report.applied] == ["pushed"]
        assert observer.writes == []
        # a remote trash announces the delete
        pid = read_doc(target).meta.page_id
        emulator.store.trash(pid)
        await engine.run_once(SyncRequest(page_ids={pid}))
        assert observer.deletes == [target.relative_to(docs).as_posix()]
    finally:
        await engine.close()


async def test_a_malformed_body_is_kept_through_pull_and_push(emulator, tmp_path):
    broken = "<p>intro</p><p>unclosed <b>bold</p><div><span>stray</div><p>tail</p>"
    pid = str(emulator.store.create_page("DEMO", "Broken", broken).id)
    stored_before = emulator.store.get(pid).body
    config = make_config(tmp_path, emulator)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    path = tmp_path / "docs" / "Broken.md"
    body = read_doc(path).body
    assert "stray" in body and "bold" in body
    set_body(path, body.replace("tail", "tail edited"))
    report = await run_sync(config)
    assert report.in_sync, report.errors
    stored = emulator.store.get(pid).body
    assert "tail edited" in stored
    kept = stored_before.split("tail")[0]
    assert kept in stored  # everything before the edit went back byte for byte


async def test_dry_run_changes_nothing(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    report = await run_sync(config, dry_run=True)
    assert report.plan.actions and not report.applied
    assert md_files(tmp_path / "docs") == {}
    assert all(c.version.number == 1 for c in emulator.store.all_content("page"))


async def test_dry_run_lists_attachment_uploads_and_deletions_and_does_neither(emulator, tmp_path):
    page = [c for c in emulator.store.all_content("page")][1]
    emulator.store.add_attachment(page.id, "kept.txt", b"kept\n")
    emulator.store.add_attachment(page.id, "gone.txt", b"gone\n")
    config = make_config(tmp_path, emulator, attachments=True)
    assert (await run_sync(config)).in_sync
    docs = tmp_path / "docs"
    [folder] = [p for p in docs.rglob("*.attachments") if (p / "gone.txt").exists()]
    rel = folder.relative_to(docs).as_posix()
    (folder / "gone.txt").unlink()
    (folder / "kept.txt").write_bytes(b"kept, edited\n")
    (folder / "new.txt").write_bytes(b"new\n")
    before = {a.id: (a.status, a.version) for a in emulator.store.attachments.values()}

    report = await run_sync(config, dry_run=True)

    assert not report.in_sync and not report.applied
    assert report.attachment_preview == [
        f"upload {rel}/kept.txt (changed: new version of page {page.id}'s)",
        f"upload {rel}/new.txt (new attachment of page {page.id})",
        f"trash attachment {rel}/gone.txt in Confluence (deleted locally; page {page.id}, "
        "unless Confluence has a newer version)",
    ]
    after = {a.id: (a.status, a.version) for a in emulator.store.attachments.values()}
    assert after == before  # nothing uploaded, nothing trashed
    assert not (folder / "gone.txt").exists()  # and nothing brought back


async def test_second_engine_on_the_same_state_is_refused_and_status_reports(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    engine = await SyncEngine.open(config)
    try:
        with pytest.raises(StateLocked):
            await SyncEngine.open(config)
        await engine.run_once()
        status = engine.status()
        assert status["pages"] == len(md_files(tmp_path / "docs"))
        assert status["conflicts"] == [] and status["last_sync_at"] is not None
        assert engine.layout.path_of(next(iter(engine.layout.paths))) is not None
    finally:
        await engine.close()


class Crash(BaseException):
    """Stands in for the process dying at that exact point."""


async def test_crash_between_create_and_id_write_never_creates_twice(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    await run_sync(config)
    docs = tmp_path / "docs"
    (docs / "Fresh.md").write_text("brand new\n")
    engine = await SyncEngine.open(config)
    real_create = engine.client.create_page

    async def create_then_die(*args, **kwargs):
        await real_create(*args, **kwargs)
        raise Crash

    engine.client.create_page = create_then_die
    try:
        with pytest.raises(Crash):
            await engine.run_once()
    finally:
        await engine.close()
    assert read_doc(docs / "Fresh.md").meta.page_id is None  # the id never reached the file
    report = await run_sync(config)
    assert report.in_sync, report.errors
    fresh = [c for c in emulator.store.all_content("page") if c.title == "Fresh"]
    assert len(fresh) == 1
    assert read_doc(docs / "Fresh.md").meta.page_id == str(fresh[0].id)
    report = await run_sync(config)
    assert report.plan.actions == ()


async def test_labels_edited_in_the_front_matter_reach_confluence(emulator_dc, tmp_path):
    from syncd.local import frontmatter

    emu = emulator_dc
    config = make_config(tmp_path, emu)
    await run_sync(config)
    docs = tmp_path / "docs"
    path = next(p for r, p in md_files(docs).items() if r != "README.md")
    doc = read_doc(path)
    pid = doc.meta.page_id
    version = emu.store.get(pid).version.number
    labels = tuple(sorted(set(doc.meta.labels) | {"added-here"}))
    path.write_text(
        frontmatter.render(frontmatter.FrontMatter(pid, doc.meta.title, labels), doc.body)
    )
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert "added-here" in emu.store.get(pid).labels
    assert emu.store.get(pid).version.number == version  # labels only: no new version
    report = await run_sync(config)
    assert report.plan.actions == ()
    # a label added in Confluence arrives with the next edit of the page
    emu.store.add_label(pid, "from-confluence")
    emu.store.edit(pid, "<p>new text</p>")
    await run_sync(config)
    assert {"added-here", "from-confluence"} <= set(read_doc(path).meta.labels)


async def test_an_emptied_or_missing_folder_deletes_nothing(emulator, tmp_path):
    import shutil

    config = make_config(tmp_path, emulator, max_delete=100)
    await run_sync(config)
    docs = tmp_path / "docs"
    for p in md_files(docs).values():
        p.unlink()
    report = await run_sync(config)
    assert report.blocked_deletions and "empty" in report.blocked_deletions
    assert all(c.status == "current" for c in emulator.store.all_content("page"))
    shutil.rmtree(docs)
    with pytest.raises(FileNotFoundError, match="missing"):
        await SyncEngine.open(config)
    assert not docs.exists()


@pytest.mark.parametrize("answer_has_body", [True, False])
async def test_a_visible_normalisation_on_save_is_written_back_once(
    emulator, tmp_path, answer_has_body
):
    """What the server stored becomes the file and the base: taken from the update's answer
    when it carries the stored body, else from a re-read."""
    config = make_config(tmp_path, emulator)
    await run_sync(config)
    docs = tmp_path / "docs"
    path = next(p for r, p in md_files(docs).items() if r != "README.md")
    pid = read_doc(path).meta.page_id
    set_body(path, read_doc(path).body + "\nThe colour of the sky.\n")
    engine = await SyncEngine.open(config)
    real_update = engine.client.update_page

    async def normalising_update(page_id, **kw):
        page = await real_update(page_id, **kw)
        stored = emulator.store.get(page_id).versions[-1]
        stored.body = stored.body.replace("colour", "color")  # what the server kept
        if answer_has_body:
            return replace(page, body=stored.body)
        return replace(page, body=kw["body"], body_stored=False)

    engine.client.update_page = normalising_update
    try:
        report = await engine.run_once()
    finally:
        await engine.close()
    assert report.in_sync, report.errors
    assert "The color of the sky." in read_doc(path).body  # the file shows what is stored
    assert emulator.store.get(pid).version.number == 2
    report = await run_sync(config)
    assert report.plan.actions == ()  # no loop: the stored text is the new base


async def test_a_title_taken_by_a_trashed_page_holds_the_new_file(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    await run_sync(config)
    gone = emulator.store.create_page("DEMO", "Taken", "<p>old</p>")
    emulator.store.trash(gone.id)
    docs = tmp_path / "docs"
    (docs / "Taken.md").write_text("mine\n")
    report = await run_sync(config)
    assert any("Taken" in e and "title" in e for e in report.errors), report.errors
    assert read_doc(docs / "Taken.md").body == "mine\n"
    assert len([c for c in emulator.store.all_content("page") if c.title == "Taken"]) == 1
    report = await run_sync(config)  # still held, and no stray link to the trashed page
    assert read_doc(docs / "Taken.md").meta.page_id is None
