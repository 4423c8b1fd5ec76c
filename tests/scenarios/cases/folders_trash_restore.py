"""Issue 12: a folder trashed on either side goes to the other side's trash with its pages
(recoverable), and restoring it in Confluence brings the directory back with them.

Confluence side: v2 DELETE /folders/{id} "moves the folder to the trash, where it can be
restored later" (tests/data/specs/openapi-v2.v3.json); that the folder's pages go with it
is the emulator's model (not verified on a live site: syncd checks each page afterwards
and trashes any the server left current)."""

import shutil

from _folders import FOLDER_SPACE
from scenarios.runner import Ctx

PATHS = {"standup": "DailyNotes/Standup.md", "old": "DailyNotes/Archive/Old standup.md"}


def trash_folder(ctx: Ctx) -> None:
    ctx.store.trash(ctx.pid("notes"))


def restore_folder(ctx: Ctx) -> None:
    ctx.store.restore(ctx.pid("notes"))


def gone_locally_kept_in_trash(ctx: Ctx) -> None:
    assert not (ctx.docs / "DailyNotes").exists()
    trashed = [p.name for p in ctx.trash.rglob("*.md")]
    assert "Standup.md" in trashed and "Old standup.md" in trashed, trashed


def put_one_back_by_hand(ctx: Ctx) -> None:
    """The user brings one file back from the local trash while the folder is still in
    the Confluence trash (what `syncd restore` does)."""
    [trashed] = [p for p in ctx.trash.rglob("Standup.md")]
    (ctx.docs / "DailyNotes").mkdir()
    shutil.copy(trashed, ctx.docs / PATHS["standup"])


def held_until_the_folder_is_restored(ctx: Ctx) -> None:
    report = ctx.reports[-1]
    assert PATHS["standup"] in report.conflicts, report.conflicts
    assert any("in the Confluence trash" in h.reason for h in report.plan.held)
    # No second folder made for the directory.
    assert [c.status for c in ctx.store.all_content("folder") if c.title == "DailyNotes"] == [
        "trashed"
    ]
    assert ctx.page("standup").status == "trashed"


def back_in_place(ctx: Ctx) -> None:
    for key, path in PATHS.items():
        assert ctx.must_file(key).relative_to(ctx.docs).as_posix() == path
        assert ctx.page(key).status == "current"
    assert ctx.page("notes").status == "current"


def remove_directory(ctx: Ctx) -> None:
    shutil.rmtree(ctx.docs / "DailyNotes")


def trashed_in_confluence(ctx: Ctx) -> None:
    for key in ("notes", "archive", "standup", "old"):
        assert ctx.page(key).status == "trashed", (key, ctx.page(key).status)
    deletes = [k for k in ctx.emu.requests if k.startswith("DELETE")]
    assert any("/folders/" in k for k in deletes), ctx.emu.requests
    assert ctx.page("poem").status == "current"


SCENARIO = {
    "covers": ["C4"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        # Confluence side: trash, then restore.
        {"op": "call", "fn": trash_folder},
        {"op": "sync"},
        {"op": "call", "fn": gone_locally_kept_in_trash},
        {"op": "call", "fn": put_one_back_by_hand},
        {"op": "sync"},
        {"op": "call", "fn": held_until_the_folder_is_restored},
        {"op": "call", "fn": restore_folder},
        {"op": "sync"},
        {"op": "call", "fn": back_in_place},
        # Local side: the directory removed, then the folder restored in Confluence.
        {"op": "reset_counts"},
        {"op": "call", "fn": remove_directory},
        {"op": "sync"},
        {"op": "call", "fn": trashed_in_confluence},
        {"op": "call", "fn": restore_folder},
        {"op": "sync"},
        {"op": "call", "fn": back_in_place},
    ],
    "expect": {"page_count": 7},
    "checks": [back_in_place],
}
