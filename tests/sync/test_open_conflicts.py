"""What `syncd status` and `syncd sync` list as conflicts, and keeping keep-both records in
step with the copies on disk (syncd.sync.open_conflicts)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syncd.sync.open_conflicts import (
    end_conflicts,
    left_open,
    open_conflicts,
    page_of_copy,
    recorded_conflicts,
    track_conflict_copies,
)
from syncd.sync.records import KEEP_BOTH, MARKERS, REFUSED, ConflictRecord, PageRecord
from syncd.sync.state import StateDB

COPY1 = "Guides/Setup.conflict-20261205-004756.md"
COPY2 = "Guides/Setup.conflict-20261205-004756-2.md"


@pytest.fixture
def db(tmp_path: Path):
    with StateDB.open(tmp_path / "state") as state:
        yield state


def tracked(page_id: str, path: str) -> PageRecord:
    return PageRecord(
        page_id=page_id,
        local_path=path,
        title=Path(path).stem,
        parent_id=None,
        remote_version=2,
        base_markdown="",
        local_hash="",
    )


def record(kind: str, path: str = "Guides/Setup.md", detail: str = "") -> ConflictRecord:
    return ConflictRecord("101", path, kind, 1.0, detail)


def test_each_copy_is_listed_with_what_to_do_and_markers_say_resolve_then_save():
    listed = open_conflicts(
        [
            record(KEEP_BOTH, detail=COPY1),
            record(KEEP_BOTH, detail=COPY2),
            record(MARKERS, "Ops/Runbook.md", "2 conflict(s)"),
            record(REFUSED, "Ops/Table.md", "line 4: a table inside a list item"),
        ]
    )
    assert listed == {
        COPY2: f"Guides/Setup.md: your text is in {COPY2}; copy what you need, then delete it",
        COPY1: f"Guides/Setup.md: your text is in {COPY1}; copy what you need, then delete it",
        "Ops/Runbook.md": "Ops/Runbook.md: resolve the conflict markers, then save",
        "Ops/Table.md": (
            "Ops/Table.md: line 4: a table inside a list item; edit that part of the file to "
            "sync it"
        ),
    }
    assert list(listed) == sorted(listed)
    assert not any("markers" in line for path, line in listed.items() if "conflict-" in path)


def test_a_deleted_copy_is_not_listed_even_before_its_record_goes():
    records = [record(KEEP_BOTH, detail=COPY1), record(KEEP_BOTH, detail=COPY2)]
    assert list(open_conflicts(records, on_disk=lambda rel: rel == COPY2)) == [COPY2]


def test_page_of_copy():
    assert page_of_copy(COPY1) == "Guides/Setup.md"
    assert page_of_copy(COPY2) == "Guides/Setup.md"
    assert page_of_copy("A.conflict-x.conflict-20261205-004756.md") == "A.conflict-x.md"


def test_a_deleted_copy_ends_only_its_own_conflict(db: StateDB, tmp_path: Path):
    root = tmp_path / "docs"
    (root / "Guides").mkdir(parents=True)
    (root / COPY2).write_text("mine, second time")
    db.add_conflict_copy("101", "Guides/Setup.md", COPY1)  # deleted by the user
    db.add_conflict_copy("101", "Guides/Setup.md", COPY2)
    db.add_conflict("102", "Ops/Runbook.md", MARKERS, "1 conflict(s)")
    track_conflict_copies(db, root)
    assert [(c.kind, c.detail or c.path) for c in db.conflicts()] == [
        (KEEP_BOTH, COPY2),
        (MARKERS, "1 conflict(s)"),
    ]


def test_a_copy_found_without_a_record_is_recorded_again(db: StateDB, tmp_path: Path):
    """A crash between writing the copy and recording it, a lost state database, or a
    record an older syncd dropped: the copy on disk is listed again."""
    root = tmp_path / "docs"
    (root / "Guides").mkdir(parents=True)
    for copy in (COPY1, COPY2, "Lost.conflict-20261205-004756.md"):
        (root / copy).write_text("my text")
    db.put_page(tracked("101", "Guides/Setup.md"))
    db.add_conflict_copy("101", "Guides/Setup.md", COPY2)
    found = (COPY1, COPY2, "Lost.conflict-20261205-004756.md", "Gone.conflict-20261205-1.md")
    track_conflict_copies(db, root, found)
    got = sorted((c.detail, c.page_id, c.path) for c in db.conflicts())
    assert got == [
        (COPY2, "101", "Guides/Setup.md"),
        (COPY1, "101", "Guides/Setup.md"),
        ("Lost.conflict-20261205-004756.md", None, "Lost.md"),
    ]
    track_conflict_copies(db, root, found)  # idempotent
    assert len(db.conflicts()) == 3


def test_a_page_renamed_since_its_conflict_is_named_where_it_is_now(db: StateDB):
    db.put_page(tracked("101", "Guides/Install.md"))  # was Guides/Setup.md
    db.add_conflict_copy("101", "Guides/Setup.md", COPY1)
    db.add_conflict_copy(None, "Lost.md", "Lost.conflict-20261205-004756.md")
    assert [c.path for c in recorded_conflicts(db)] == ["Guides/Install.md", "Lost.md"]
    assert open_conflicts(recorded_conflicts(db))[COPY1].startswith("Guides/Install.md: ")


def test_a_dry_run_lists_each_copy_on_disk_and_what_the_plan_leaves_alone():
    """Copies on disk (recorded, or found without a record), and markers or refusals of
    pages the plan does not sync; a deleted copy and a page the plan syncs are not."""
    records = [
        record(KEEP_BOTH, detail=COPY1),  # deleted by the user
        record(KEEP_BOTH, detail=COPY2),
        ConflictRecord("102", "Ops/Runbook.md", MARKERS, 1.0, "1 conflict(s)"),
        ConflictRecord("103", "Ops/Table.md", REFUSED, 1.0, "line 4: a table in a list"),
        ConflictRecord(None, "New.md", REFUSED, 1.0, "line 2: a table in a list"),
    ]
    found = (COPY2, "Lost.conflict-20261205-004756.md")
    listed = left_open(
        records, found, on_disk=lambda rel: rel != COPY1, synced=lambda r: r.page_id == "102"
    )
    assert [(r.kind, r.path, r.detail) for r in listed] == [
        (KEEP_BOTH, "Guides/Setup.md", COPY2),
        (REFUSED, "Ops/Table.md", "line 4: a table in a list"),
        (REFUSED, "New.md", "line 2: a table in a list"),
        (KEEP_BOTH, "Lost.md", "Lost.conflict-20261205-004756.md"),
    ]


def test_a_conflict_that_ends_says_so_once_in_the_log(db: StateDB, tmp_path: Path, caplog):
    """Regression: conflicts ended silently. One INFO line per conflict, naming the page,
    its file and what ended it, whichever way it ended."""
    caplog.set_level(logging.INFO, logger="syncd.sync.conflicts")
    root = tmp_path / "docs"
    root.mkdir()
    db.put_page(tracked("101", "Guides/Setup.md"))
    db.put_page(tracked("104", "New.md"))  # created since its refusal was recorded
    db.add_conflict_copy("101", "Guides/Setup.md", COPY1)  # deleted by the user
    db.add_conflict(None, "New.md", REFUSED, "line 2: a table in a list")
    track_conflict_copies(db, root)
    track_conflict_copies(db, root)  # already ended: not logged again
    assert end_conflicts(db, db.page_conflicts(path="New.md")) == 1
    assert db.conflicts() == []
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.INFO,
            f"conflict resolved (page 101 'Setup'): Guides/Setup.md: the conflict copy {COPY1} "
            "was deleted",
        ),
        (
            logging.INFO,
            "conflict resolved (page 104 'New'): New.md: the part that could not be converted "
            "was edited and the page synced",
        ),
    ]
