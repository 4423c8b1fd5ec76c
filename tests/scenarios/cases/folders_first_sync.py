"""Issue 12: the first sync of a Cloud space with nested folders, a whiteboard and a
database writes each page inside its container's directory; the next sync with nothing
changed sends zero writes and moves no page out of its folder (it used to PUT every
foldered page under the home page)."""

from _folders import FOLDER_PATHS, FOLDER_SPACE, parents_unchanged, writes
from scenarios.runner import Ctx


def layout(ctx: Ctx) -> None:
    for key, path in FOLDER_PATHS.items():
        if key == "poem" and ctx.page("poetry").title == "Verse":
            continue
        assert ctx.must_file(key).relative_to(ctx.docs).as_posix() == path
    # Containers are found from the pages' parents (no walk of the tree): an empty
    # database has no directory.
    assert not (ctx.docs / "Mydb").exists()
    assert not (ctx.docs / "DailyNotes.md").exists()  # a folder has no page file


def layout_after_rename(ctx: Ctx) -> None:
    assert ctx.must_file("poem").relative_to(ctx.docs).as_posix() == "Verse/Eternity.md"


async def no_change_sync_writes_nothing(ctx: Ctx) -> None:
    ctx.emu.requests.clear()
    report = await ctx.sync()
    assert report.in_sync and not report.applied, report.plan.describe()
    assert writes(ctx) == {}, writes(ctx)
    parents_unchanged(ctx)


def status_shows_containers(ctx: Ctx) -> None:
    from syncd.daemon.control import format_status
    from syncd.daemon.status_command import last_known_status

    status = last_known_status(ctx.state_dir)
    assert status["containers"] == {"folder": 4, "whiteboard": 1}, status["containers"]
    assert "folders:    4 folders, 1 whiteboard" in format_status(status)


async def dry_run_lists_a_remote_folder_rename(ctx: Ctx) -> None:
    ctx.store.rename(ctx.pid("poetry"), "Verse")
    report = await ctx.sync(dry_run=True)
    assert any(
        line.startswith("move directory Poetry/ for folder 'Verse'")
        for line in report.container_preview
    ), report.container_preview
    assert not report.in_sync
    assert (ctx.docs / "Poetry" / "Eternity.md").is_file()  # a dry run changes nothing
    assert not [a for a in report.plan.actions], report.plan.describe()


SCENARIO = {
    "covers": ["C5"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": layout},
        {"op": "call", "fn": no_change_sync_writes_nothing},
        {"op": "call", "fn": status_shows_containers},
        {"op": "call", "fn": dry_run_lists_a_remote_folder_rename},
    ],
    "expect": {"page_count": 7},
    "checks": [layout_after_rename, parents_unchanged],
}
