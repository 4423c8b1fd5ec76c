"""File names carry a title's ``:`` ``/`` ``?`` as full-width look-alikes (issue 16), both
ways, and a folder synced by an earlier version (``Onboarding_ Your First Week.md``) is not
renamed on upgrade: its files stay until their page is renamed, which then moves the file
locally and writes nothing to Confluence."""

from __future__ import annotations

import pytest

from syncd.sync.state import StateDB

from .sync_kit import diff_counts, file_for, make_config, read_doc, run_sync

pytestmark = pytest.mark.e2e

TITLE = "Onboarding: Your First Week"
WRITES = ("POST", "PUT", "DELETE")


def writes(delta: dict[str, int]) -> dict[str, int]:
    return {route: n for route, n in delta.items() if route.startswith(WRITES)}


async def test_an_earlier_versions_names_stay_and_move_locally_on_rename(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    (page,) = [c for c in emulator.store.all_content("page") if c.title == TITLE]  # seeded
    await run_sync(config)
    docs = tmp_path / "docs"
    new_style = docs / "Onboarding： Your First Week.md"
    assert new_style.is_file() and read_doc(new_style).meta.title == TITLE

    # what an earlier version left: the `_` name, recorded as the page's path
    old_style = docs / "Onboarding_ Your First Week.md"
    new_style.rename(old_style)
    with StateDB.open(config.state_dir) as db:
        db.update_page(page.id, local_path=old_style.name)

    before = dict(emulator.requests)
    report = await run_sync(config)
    assert report.in_sync and not report.applied
    assert old_style.is_file() and not new_style.exists()  # no mass rename on upgrade
    assert writes(diff_counts(before, dict(emulator.requests))) == {}

    # renamed in Confluence: the file moves to the new name, a local move only
    emulator.store.edit(page.id, "<p>Week one.</p>", title="Onboarding: Week One")
    before = dict(emulator.requests)
    await run_sync(config)
    assert file_for(docs, page.id) == docs / "Onboarding： Week One.md"
    assert not old_style.exists()
    assert writes(diff_counts(before, dict(emulator.requests))) == {}


async def test_a_new_file_named_with_look_alikes_gets_the_title_back(emulator, tmp_path):
    config = make_config(tmp_path, emulator)
    await run_sync(config)
    new = tmp_path / "docs" / "CI／CD： What We Run？.md"
    new.write_text("Pipelines.\n", encoding="utf-8")
    await run_sync(config)
    created = [c for c in emulator.store.all_content("page") if "CI" in c.title]
    assert [c.title for c in created] == ["CI/CD: What We Run?"]
    assert new.is_file(), "the file keeps its name: it is the name of that title"
    assert read_doc(new).meta.page_id == created[0].id
