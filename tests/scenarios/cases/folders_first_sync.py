"""Issue 12: the first sync of a Cloud space with nested folders, a whiteboard and a
database writes each page inside its container's directory; the next sync with nothing
changed sends zero writes and moves no page out of its folder (it used to PUT every
foldered page under the home page)."""

from _folders import FOLDER_PATHS, FOLDER_SPACE, parents_unchanged, writes

from scenarios.runner import Ctx


def layout(ctx: Ctx) -> None:
    for key, path in FOLDER_PATHS.items():
        assert ctx.must_file(key).relative_to(ctx.docs).as_posix() == path
    # Containers are found from the pages' parents (no walk of the tree): an empty
    # database has no directory.
    assert not (ctx.docs / "Mydb").exists()
    assert not (ctx.docs / "DailyNotes.md").exists()  # a folder has no page file


async def no_change_sync_writes_nothing(ctx: Ctx) -> None:
    ctx.emu.requests.clear()
    report = await ctx.sync()
    assert report.in_sync and not report.applied, report.plan.describe()
    assert writes(ctx) == {}, writes(ctx)
    parents_unchanged(ctx)


SCENARIO = {
    "covers": ["C5"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": layout},
        {"op": "call", "fn": no_change_sync_writes_nothing},
    ],
    "expect": {"page_count": 7},
    "checks": [layout, parents_unchanged],
}
