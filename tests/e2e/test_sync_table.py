"""The reconcile table end to end: each row against the emulator through SyncEngine.run_once.

Each test starts from a first sync of a small seeded space, changes one or both sides
the way a user would (files in the folder, the emulator store as a Confluence user),
runs one sync and checks both sides, then checks that a further sync has nothing to do.
"""

from __future__ import annotations

import logging
import re

import pytest

from syncd.local.atomic import find_in_trash, restore_from_trash
from syncd.sync.engine import SyncEngine, trash_dir
from syncd.sync.state import StateDB

from .sync_kit import file_for, make_config, md_files, read_doc, run_sync, set_body

BODY = "<p>one</p><p>two</p><p>three</p>"


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=0, seed=1)


@pytest.fixture
async def cloud(emulator_factory):
    return await emulator_factory(flavor="cloud", pages=0, seed=1)


def home_id(emu) -> str:
    return str(emu.store.space(emu.space_key).homepage_id)


def add_page(emu, title, body=BODY, parent=None):
    return str(emu.store.create_page(emu.space_key, title, body, parent_id=parent).id)


async def start(tmp_path, emu, **sync):
    """Guide (with child Install) and Notes, synced into tmp/docs."""
    guide = add_page(emu, "Guide")
    install = add_page(emu, "Install", parent=guide)
    notes = add_page(emu, "Notes")
    config = make_config(tmp_path, emu, **sync)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    return config, tmp_path / "docs", {"guide": guide, "install": install, "notes": notes}


async def settled(config):
    report = await run_sync(config)
    assert report.plan.actions == (), report.plan.describe()
    return report


def current(emu, pid):
    c = emu.store.get(pid)
    return c


# ---------------------------------------------------------------- content rows


async def test_both_edited_merge_cleanly(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("one", "ONE local"))
    emu.store.edit(ids["notes"], BODY.replace("three", "THREE remote"))
    report = await run_sync(config)
    assert report.in_sync, report.errors
    body = read_doc(path).body
    assert "ONE local" in body and "THREE remote" in body
    stored = current(emu, ids["notes"]).body
    assert "ONE local" in stored and "THREE remote" in stored
    await settled(config)


async def test_both_edited_conflict_writes_markers_and_holds(emu, tmp_path, caplog):
    config, docs, ids = await start(tmp_path, emu)
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("two", "two local"))
    emu.store.edit(ids["notes"], BODY.replace("two", "two remote"))
    report = await run_sync(config)
    assert report.conflicts == ["Notes.md"] and not report.in_sync
    body = read_doc(path).body
    assert "<<<<<<< local" in body and "two local" in body and "two remote" in body
    version = current(emu, ids["notes"]).version.number
    # held: never pushed while markers remain
    report = await run_sync(config)
    assert "Notes.md" in report.conflicts
    assert current(emu, ids["notes"]).version.number == version
    # resolved by the user: pushed on top of the remote version, and the log says so
    set_body(path, "one\n\ntwo both\n\nthree\n")
    caplog.set_level(logging.INFO, logger="syncd.sync.conflicts")
    report = await run_sync(config)
    assert report.in_sync and report.conflicts == [], report.errors
    assert [r.getMessage() for r in caplog.records if r.name == "syncd.sync.conflicts"] == [
        f"conflict resolved (page {ids['notes']} 'Notes'): Notes.md: "
        "the conflict markers were resolved and the page synced"
    ]
    assert "two both" in current(emu, ids["notes"]).body
    await settled(config)


async def test_conflict_keep_both_writes_a_copy(cloud, tmp_path, caplog):
    config, docs, ids = await start(tmp_path, cloud, on_conflict="keep-both")
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("two", "two local"))
    cloud.store.edit(ids["notes"], BODY.replace("two", "two remote"))
    report = await run_sync(config)
    copies = list(docs.glob("Notes.conflict-*.md"))
    assert len(copies) == 1 and "two local" in copies[0].read_text()
    assert "two remote" in read_doc(path).body
    copy = copies[0].name
    assert report.conflicts == [copy]  # the copy is listed: it is what the user acts on
    todo = f"Notes.md: your text is in {copy}; copy what you need, then delete it"
    assert report.conflict_help[copy] == todo
    # a dry run lists it too, naming the page (and the plan has nothing else to do)
    dry = await run_sync(config, dry_run=True)
    assert dry.conflicts == [copy] and not dry.in_sync and dry.plan.actions == ()
    assert dry.conflict_preview == [f"open conflict (page {ids['notes']} 'Notes'): {todo}"]
    copies[0].unlink()  # the user is done with it
    caplog.set_level(logging.INFO, logger="syncd.sync.conflicts")
    report = await settled(config)
    assert report.conflicts == [] and report.in_sync
    assert [r.getMessage() for r in caplog.records if r.name == "syncd.sync.conflicts"] == [
        f"conflict resolved (page {ids['notes']} 'Notes'): Notes.md: "
        f"the conflict copy {copy} was deleted"
    ]


async def test_second_keep_both_conflict_keeps_the_first_copy_listed(cloud, tmp_path):
    """Regression: a second conflict of a page dropped the first copy's record (and a pull
    of the page in between cleared it), so a copy still on disk was no longer listed."""
    config, docs, ids = await start(tmp_path, cloud, on_conflict="keep-both")
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("two", "two local"))
    cloud.store.edit(ids["notes"], BODY.replace("two", "two remote"))
    await run_sync(config)
    (first,) = [p.name for p in docs.glob("Notes.conflict-*.md")]
    cloud.store.edit(ids["notes"], BODY.replace("two", "two remote").replace("one", "one more"))
    report = await run_sync(config)  # a plain pull of the page
    assert [c.event_type for c in report.applied] == ["pulled"]
    assert report.conflicts == [first]
    set_body(path, read_doc(path).body.replace("two remote", "two local again"))
    cloud.store.edit(ids["notes"], BODY.replace("two", "two remote again"))
    report = await run_sync(config)
    copies = sorted(p.name for p in docs.glob("Notes.conflict-*.md"))
    assert len(copies) == 2 and first in copies
    assert report.conflicts == copies and not report.in_sync
    with StateDB.open(config.state_dir) as db:
        assert sorted(c.detail for c in db.conflicts()) == copies
    (docs / first).unlink()
    report = await run_sync(config)
    assert report.conflicts == [c for c in copies if c != first]


@pytest.mark.parametrize("mode", ["local", "remote"])
async def test_conflict_pick_a_side(cloud, tmp_path, mode):
    config, docs, ids = await start(tmp_path, cloud, on_conflict=mode)
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("two", "two local"))
    cloud.store.edit(ids["notes"], BODY.replace("two", "two remote"))
    report = await run_sync(config)
    assert report.in_sync, report.errors
    winner = f"two {mode}"
    assert winner in read_doc(path).body and winner in current(cloud, ids["notes"]).body
    if mode == "remote":  # the local text stays recoverable
        saved = [p for p in trash_dir(config).rglob("Notes.md")]
        assert saved and "two local" in saved[0].read_text()
    await settled(config)


async def test_409_during_push_merges_instead_of_overwriting(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    path = docs / "Notes.md"
    set_body(path, read_doc(path).body.replace("one", "one local"))
    engine = await SyncEngine.open(config)
    real_update = engine.client.update_page
    calls = []

    async def racing_update(page_id, **kw):
        if not calls:  # someone saves in Confluence just before our PUT lands
            emu.store.edit(ids["notes"], BODY.replace("three", "three remote"))
        calls.append(kw["base_version"])
        return await real_update(page_id, **kw)

    engine.client.update_page = racing_update
    try:
        report = await engine.run_once()
    finally:
        await engine.close()
    assert report.in_sync, report.errors
    stored = current(emu, ids["notes"]).body
    assert "one local" in stored and "three remote" in stored
    assert calls[0] == 1 and calls[1] == 2  # retried on top of the version it merged with
    assert "three remote" in read_doc(path).body
    await settled(config)


async def test_malformed_front_matter_is_held_not_pushed_nor_deleted(cloud, tmp_path):
    config, docs, ids = await start(tmp_path, cloud)
    path = docs / "Notes.md"
    path.write_text("---\ntitle: [unclosed\n---\nbody\n")
    report = await run_sync(config)
    assert any("Notes.md" in e for e in report.errors)
    assert current(cloud, ids["notes"]).status == "current"
    assert current(cloud, ids["notes"]).version.number == 1


async def test_conversion_refused_holds_the_page_naming_title_path_and_line(cloud, tmp_path):
    toc = '<ac:structured-macro ac:name="toc" ac:macro-id="t"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>'
    pid = add_page(cloud, "Macros", body=f"<p>intro</p>{toc}<p>end</p>")
    config = make_config(tmp_path, cloud)
    await run_sync(config)
    path = tmp_path / "docs" / "Macros.md"
    text = path.read_text()
    marker = re.search(r"<!--cf:([0-9a-f]{8}) table of contents", text)
    assert marker
    path.write_text(text.replace(marker.group(0), "<!--cf:00000000 table of contents"))
    line = text[: marker.start()].count("\n") + 1
    report = await run_sync(config)
    message = " ".join(report.errors)
    assert "'Macros'" in message and "Macros.md" in message and f"line {line}" in message
    assert report.conflicts == ["Macros.md"] and not report.in_sync
    assert current(cloud, pid).version.number == 1  # nothing pushed
    # fixed by the user: pushed, and the page is no longer reported
    path.write_text(text.replace("intro", "intro edited"))
    report = await run_sync(config)
    assert report.in_sync and report.conflicts == [], report.errors
    assert "intro edited" in current(cloud, pid).body


# ---------------------------------------------------------------- creates


async def test_new_local_files_become_pages_under_their_folder(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    (docs / "Guide" / "Deploy.md").write_text("# Deploy\n\nSteps.\n")
    (docs / "Loose").mkdir()
    (docs / "Loose" / "Child.md").write_text("child text\n")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    deploy = read_doc(docs / "Guide" / "Deploy.md")
    assert deploy.meta.page_id and deploy.meta.title == "Deploy"
    page = current(emu, deploy.meta.page_id)
    assert str(page.parent_id) == ids["guide"] and "Steps." in page.body
    child = read_doc(docs / "Loose" / "Child.md")
    if emu.flavor == "cloud":
        # sync.new_directories auto on Cloud: a directory without a page file becomes a
        # folder with the page inside it (no file of its own)
        assert not (docs / "Loose.md").exists()
        [folder] = [c for c in emu.store.all_content("folder") if c.title == "Loose"]
        assert str(current(emu, child.meta.page_id).parent_id) == folder.id
        assert str(folder.parent_id) == home_id(emu)
    else:
        # Data Center has no folders: an empty placeholder page (and its file)
        placeholder = read_doc(docs / "Loose.md")
        assert placeholder.meta.page_id
        assert str(current(emu, child.meta.page_id).parent_id) == placeholder.meta.page_id
        assert str(current(emu, placeholder.meta.page_id).parent_id) == home_id(emu)
    await settled(config)


async def test_new_remote_page_becomes_a_file(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    pid = add_page(emu, "Upgrade", parent=ids["install"])
    report = await run_sync(config)
    assert report.in_sync
    path = docs / "Guide" / "Install" / "Upgrade.md"
    assert read_doc(path).meta.page_id == pid
    await settled(config)


# ---------------------------------------------------------------- deletions


async def test_local_delete_trashes_the_page_and_a_remote_restore_brings_it_back(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    (docs / "Notes.md").unlink()
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert current(emu, ids["notes"]).status == "trashed"
    await settled(config)
    emu.store.restore(ids["notes"])
    report = await run_sync(config)
    assert read_doc(docs / "Notes.md").meta.page_id == ids["notes"]
    await settled(config)


async def test_remote_trash_moves_the_file_to_the_local_trash_and_restore_works(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    emu.store.trash(ids["notes"])
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert not (docs / "Notes.md").exists()
    entries = find_in_trash(trash_dir(config), "Notes.md")
    assert entries
    await settled(config)
    # syncd restore: the file comes back, the next sync restores the page
    restore_from_trash(entries[0], docs)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert current(emu, ids["notes"]).status == "current"
    await settled(config)


async def test_remote_trash_restored_in_confluence_brings_the_file_back(cloud, tmp_path):
    config, docs, ids = await start(tmp_path, cloud)
    cloud.store.trash(ids["notes"])
    await run_sync(config)
    cloud.store.restore(ids["notes"])
    report = await run_sync(config)
    assert report.in_sync
    assert read_doc(docs / "Notes.md").meta.page_id == ids["notes"]
    await settled(config)


async def test_remote_purge_trashes_the_file_and_forgets_the_page(cloud, tmp_path):
    config, docs, ids = await start(tmp_path, cloud)
    cloud.store.trash(ids["notes"])
    cloud.store.purge(ids["notes"])
    report = await run_sync(config)
    assert report.in_sync
    assert not (docs / "Notes.md").exists()
    assert find_in_trash(trash_dir(config), "Notes.md")
    with StateDB.open(config.state_dir) as db:
        assert db.get_page(ids["notes"]) is None
    await settled(config)


async def test_local_edit_beats_remote_trash(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    set_body(docs / "Notes.md", "edited while it was trashed\n")
    emu.store.trash(ids["notes"])
    report = await run_sync(config)
    assert report.in_sync, report.errors
    page = current(emu, ids["notes"])
    assert page.status == "current" and "edited while it was trashed" in page.body
    await settled(config)


async def test_remote_edit_beats_local_delete(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    (docs / "Notes.md").unlink()
    emu.store.edit(ids["notes"], "<p>edited in Confluence</p>")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert "edited in Confluence" in read_doc(docs / "Notes.md").body
    assert current(emu, ids["notes"]).status == "current"
    await settled(config)


async def test_mass_deletion_guard_blocks_then_allow_delete_proceeds(emu, tmp_path):
    for n in range(4):
        add_page(emu, f"Bulk {n}")
    config, docs, _ids = await start(tmp_path, emu, max_delete=2)
    for n in range(4):
        (docs / f"Bulk {n}.md").unlink()
    report = await run_sync(config)
    assert report.blocked_deletions and "max_delete" in report.blocked_deletions
    assert all(c.status == "current" for c in emu.store.all_content("page"))
    report = await run_sync(config, allow_delete=True)
    assert report.in_sync, report.errors
    trashed = [c for c in emu.store.all_content("page") if c.status == "trashed"]
    assert len(trashed) == 4


# ---------------------------------------------------------------- moves and renames


async def test_remote_rename_and_move_follow_locally(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    emu.store.edit(ids["guide"], BODY, title="Handbook")
    emu.store.move(ids["notes"], "append", ids["install"])
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert read_doc(docs / "Handbook.md").meta.page_id == ids["guide"]
    assert read_doc(docs / "Handbook" / "Install.md").meta.page_id == ids["install"]
    assert read_doc(docs / "Handbook" / "Install" / "Notes.md").meta.page_id == ids["notes"]
    assert not (docs / "Guide.md").exists() and not (docs / "Notes.md").exists()
    await settled(config)


async def test_local_rename_and_move_follow_in_confluence(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    path = docs / "Notes.md"
    doc = read_doc(path)
    from syncd.local import frontmatter

    path.write_text(
        frontmatter.render(
            frontmatter.FrontMatter(doc.meta.page_id, "Release notes", doc.meta.labels), doc.body
        )
    )
    path.rename(docs / "Guide" / "Notes.md")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    page = current(emu, ids["notes"])
    assert page.title == "Release notes" and str(page.parent_id) == ids["guide"]
    assert file_for(docs, ids["notes"]) is not None
    await settled(config)


async def test_links_between_pages_are_relative_paths_and_survive_a_push(cloud, tmp_path):
    guide = add_page(cloud, "Guide")
    link = '<p>See <ac:link><ri:page ri:content-title="Guide" /></ac:link> first.</p>'
    ref = add_page(cloud, "Refs", body=link + "<p>other</p>", parent=guide)
    config = make_config(tmp_path, cloud)
    await run_sync(config)
    docs = tmp_path / "docs"
    path = docs / "Guide" / "Refs.md"
    body = read_doc(path).body
    assert "../Guide.md" in body, body
    set_body(path, body.replace("other", "other edited"))
    report = await run_sync(config)
    assert report.in_sync, report.errors
    stored = current(cloud, ref).body
    assert 'ri:content-title="Guide"' in stored and "other edited" in stored
    await settled(config)
    # the target is renamed in Confluence: its file moves; an edit of the linking page
    # made later (in another process) keeps the link a page link (never a broken href)
    cloud.store.edit(guide, "<p>guide</p>", title="Handbook")
    await run_sync(config)
    path = docs / "Handbook" / "Refs.md"
    set_body(path, read_doc(path).body.replace("first", "first of all"))
    report = await run_sync(config)
    assert report.in_sync, report.errors
    stored = current(cloud, ref).body
    assert "<ri:page " in stored and "<a href" not in stored and "first of all" in stored
    await settled(config)


async def test_hostile_titles_stay_inside_the_folder(cloud, tmp_path):
    titles = [
        "../../x",
        "CON",
        "a/b",
        "emoji 🎉 page",
        "x" * 300,
        "Case?",
        "case*",
        ".hidden",
        "a_b",
    ]
    ids = [add_page(cloud, t) for t in titles]
    config = make_config(tmp_path, cloud)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    docs = (tmp_path / "docs").resolve()
    everything = [p for p in tmp_path.rglob("*") if p.is_file()]
    for p in everything:
        rel = p.resolve().relative_to(tmp_path.resolve())
        assert rel.parts[0] in ("docs", "state", "config.yaml"), p
    for pid in ids:
        path = file_for(docs, pid)
        assert path is not None and path.resolve().is_relative_to(docs)
        assert len(path.name.encode()) < 255
    assert len({p.name.lower() for p in md_files(docs).values()}) == len(md_files(docs))
    await settled(config)


async def test_folder_moved_locally_takes_its_children_along(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    (docs / "Notes").mkdir()
    (docs / "Guide.md").rename(docs / "Notes" / "Guide.md")
    (docs / "Guide").rename(docs / "Notes" / "Guide")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert str(current(emu, ids["guide"]).parent_id) == ids["notes"]
    assert str(current(emu, ids["install"]).parent_id) == ids["guide"]
    assert read_doc(docs / "Notes" / "Guide" / "Install.md").meta.page_id == ids["install"]
    await settled(config)


async def test_file_renamed_without_a_title_change_is_only_recorded(cloud, tmp_path):
    config, docs, ids = await start(tmp_path, cloud)
    (docs / "Notes.md").rename(docs / "My notes file.md")
    report = await run_sync(config)
    assert report.in_sync
    assert [type(a).__name__ for a in report.plan.actions] == ["RecordLocal"]
    assert current(cloud, ids["notes"]).version.number == 1
    await settled(config)


async def test_renamed_on_both_sides_confluence_wins(cloud, tmp_path):
    from syncd.local import frontmatter

    config, docs, ids = await start(tmp_path, cloud)
    doc = read_doc(docs / "Notes.md")
    (docs / "Notes.md").write_text(
        frontmatter.render(frontmatter.FrontMatter(ids["notes"], "Local name"), doc.body)
    )
    cloud.store.edit(ids["notes"], BODY, title="Remote name")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert current(cloud, ids["notes"]).title == "Remote name"
    assert read_doc(docs / "Remote name.md").meta.title == "Remote name"
    await settled(config)


async def test_new_file_and_new_page_with_the_same_title_are_linked(cloud, tmp_path):
    config, docs, _ids = await start(tmp_path, cloud)
    pid = add_page(cloud, "Twin", body="<p>same text</p>")
    (docs / "Twin.md").write_text("same text\n")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert read_doc(docs / "Twin.md").meta.page_id == pid
    assert len([c for c in cloud.store.all_content("page") if c.title == "Twin"]) == 1
    await settled(config)


async def test_lost_state_relinks_every_file_without_writing(emu, tmp_path):
    import shutil

    config, docs, _ids = await start(tmp_path, emu)
    before = {p: p.read_bytes() for p in md_files(docs).values()}
    versions = {str(c.id): c.version.number for c in emu.store.all_content("page")}
    shutil.rmtree(config.state_dir)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert {p: p.read_bytes() for p in md_files(docs).values()} == before
    assert {str(c.id): c.version.number for c in emu.store.all_content("page")} == versions
    await settled(config)


async def test_remote_trash_of_a_parent_lifts_its_children_locally_too(emu, tmp_path):
    config, docs, ids = await start(tmp_path, emu)
    emu.store.trash(ids["guide"])
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert not (docs / "Guide.md").exists() and not (docs / "Guide").exists()
    assert read_doc(docs / "Install.md").meta.page_id == ids["install"]
    assert find_in_trash(trash_dir(config), "Guide.md")
    await settled(config)


async def test_renamed_locally_and_edited_remotely_keeps_both_changes(emu, tmp_path):
    from syncd.local import frontmatter

    config, docs, ids = await start(tmp_path, emu)
    doc = read_doc(docs / "Notes.md")
    (docs / "Notes.md").write_text(
        frontmatter.render(frontmatter.FrontMatter(ids["notes"], "Journal"), doc.body)
    )
    emu.store.edit(ids["notes"], "<p>remote body</p>")
    emu.store.edit(ids["guide"], "<p>guide body</p>", title="Guide v2")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    page = current(emu, ids["notes"])
    assert page.title == "Journal" and "remote body" in page.body
    path = file_for(docs, ids["notes"])
    assert read_doc(path).meta.title == "Journal" and "remote body" in read_doc(path).body
    assert read_doc(docs / "Guide v2.md").body.strip() == "guide body"
    await settled(config)
