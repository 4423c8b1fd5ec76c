"""The user's wording survives a sync (issue 14): after a push the file is rewritten only
when the stored page reads back with a different meaning, and then only in that block."""

from __future__ import annotations

import pytest

from syncd.emulator import store as emulator_store

from .sync_kit import diff_counts, file_for, make_config, read_doc, request_counts, run_sync

WORDED = """* a bullet written with a star
* and another one

Some _emphasis_ in a paragraph the editor
wrapped at forty columns.



NORMALISE-ME stays in its block.
"""


@pytest.fixture
async def emu(emulator_factory):
    return await emulator_factory(flavor="cloud", pages=2, seed=1)


async def _synced_page(emu, tmp_path):
    page = emu.store.create_page(emu.space_key, "Worded", "<p>placeholder</p>")
    config = make_config(tmp_path, emu)
    await run_sync(config)
    path = file_for(tmp_path / "docs", str(page.id))
    return config, page.id, path


def _write_body(path, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("---", 3) + 4] + "\n" + body, encoding="utf-8")


async def test_a_push_that_reads_back_the_same_leaves_the_file_as_typed(emu, tmp_path):
    config, page_id, path = await _synced_page(emu, tmp_path)
    _write_body(path, WORDED)
    saved = path.read_bytes()
    stat = path.stat()
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pushed"]
    body = emu.store.get(page_id).body
    assert "<p>Some <em>emphasis</em> in a paragraph the editor\nwrapped at forty" in body
    # Not rewritten: same bytes, same inode and time stamp (an editor sees no change).
    assert path.read_bytes() == saved
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    # The next run has nothing to do, and an edit sends only its block.
    before = request_counts(emu)
    report = await run_sync(config)
    assert report.in_sync and not report.plan.actions
    assert not [k for k in diff_counts(before, request_counts(emu)) if k.startswith("PUT")]
    _write_body(path, WORDED.replace("and another one", "and one more"))
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pushed"]
    assert emu.store.get(page_id).body == body.replace("and another one", "and one more")


async def test_a_change_confluence_makes_on_save_rewrites_only_its_block(
    emu, tmp_path, monkeypatch
):
    config, _page_id, path = await _synced_page(emu, tmp_path)
    # Stand-in for a visible normalisation on save (contract rule 6: what Confluence
    # stored is the new base): the server rewrites one word.
    normalise = emulator_store.normalize_storage
    monkeypatch.setattr(
        emulator_store,
        "normalize_storage",
        lambda body, new_id: normalise(body.replace("NORMALISE-ME", "Normalised"), new_id),
    )
    _write_body(path, WORDED)
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pushed"]
    assert read_doc(path).body == WORDED.replace("NORMALISE-ME", "Normalised")
    report = await run_sync(config)
    assert report.in_sync and not report.plan.actions


async def test_a_remote_edit_rewrites_only_the_blocks_it_changed(emu, tmp_path):
    config, page_id, path = await _synced_page(emu, tmp_path)
    _write_body(path, WORDED)
    await run_sync(config)
    body = emu.store.get(page_id).body
    emu.store.edit(page_id, body.replace("stays in its block", "was edited in Confluence"))
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pulled"]
    assert read_doc(path).body == WORDED.replace("stays in its block", "was edited in Confluence")
