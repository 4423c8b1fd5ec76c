"""Issue 12: a folder renamed or moved in Confluence renames or moves its directory (pages
inside keep their ids and parents); a directory renamed or moved locally renames the
folder (v1 PUT /content/{id} with type folder) or moves it (v1 move/append), as other
tools do (atlcli folder notes, tests/data/realapi/SOURCES.md). A whiteboard's directory
renamed locally changes nothing in Confluence."""

import os

from _folders import FOLDER_SPACE, parents_unchanged
from scenarios.runner import Ctx


def remote_changes(ctx: Ctx) -> None:
    ctx.store.rename(ctx.pid("poetry"), "Verse")
    ctx.store.move(ctx.pid("archive"), "append", ctx.pid("guide"))


def remote_followed(ctx: Ctx) -> None:
    assert ctx.must_file("poem").relative_to(ctx.docs).as_posix() == "Verse/Eternity.md"
    assert ctx.must_file("old").relative_to(ctx.docs).as_posix() == "Guide/Archive/Old standup.md"
    assert not (ctx.docs / "Poetry").exists()
    assert not (ctx.docs / "DailyNotes" / "Archive").exists()


def local_changes(ctx: Ctx) -> None:
    os.rename(ctx.docs / "DailyNotes", ctx.docs / "Journal")
    os.rename(ctx.docs / "Verse", ctx.docs / "Guide" / "Verse")
    os.rename(ctx.docs / "Drawings", ctx.docs / "Sketches")


def local_followed(ctx: Ctx) -> None:
    assert ctx.page("notes").title == "Journal"
    assert str(ctx.page("poetry").parent_id) == ctx.pid("guide")
    assert ctx.page("poetry").title == "Verse"
    assert ctx.page("board").title == "Drawings"  # a whiteboard is not renamed by syncd
    assert ctx.must_file("sketch").relative_to(ctx.docs).as_posix() == "Sketches/Sketch notes.md"
    assert ctx.must_file("standup").relative_to(ctx.docs).as_posix() == "Journal/Standup.md"
    # No page was written to: moves of folders leave their pages' versions alone.
    for key in ("standup", "poem", "old", "sketch"):
        assert ctx.page(key).version.number == 1, (key, ctx.page(key).version.number)


def archive_parent(ctx: Ctx) -> None:
    assert str(ctx.page("archive").parent_id) == ctx.pid("guide")


SCENARIO = {
    "covers": ["C5", "E5"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": remote_changes},
        {"op": "sync"},
        {"op": "call", "fn": remote_followed},
        {"op": "call", "fn": local_changes},
        # As the daemon's watcher reports it: the paths of the moved files (a targeted run,
        # which turns into a full one because a folder's directory is gone).
        {
            "op": "sync",
            "paths": [
                "DailyNotes/Standup.md",
                "Journal/Standup.md",
                "Verse/Eternity.md",
                "Guide/Verse/Eternity.md",
            ],
        },
        {"op": "call", "fn": local_followed},
    ],
    "expect": {"page_count": 7},
    "checks": [parents_unchanged, archive_parent, local_followed],
}
