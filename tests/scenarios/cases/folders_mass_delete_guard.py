"""Issue 12: removing a folder's directory counts each page inside it for the mass-deletion
guard; above `max_delete` nothing is trashed on either side (neither the pages nor the
folder) until the user confirms with --allow-delete."""

import shutil

from scenarios.runner import Ctx

PAGES = [
    {"key": "f", "title": "Team", "type": "folder"},
    *[
        {"key": f"p{i}", "title": f"Note {i}", "body": f"<p>Note {i}.</p>", "parent": "f"}
        for i in range(4)
    ],
]


def remove_directory(ctx: Ctx) -> None:
    shutil.rmtree(ctx.docs / "Team")


def nothing_trashed(ctx: Ctx) -> None:
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests
    assert all(c.status == "current" for c in ctx.store.all_content("page"))
    assert ctx.page("f").status == "current"
    report = ctx.reports[-1]
    assert report.blocked_deletions and "4 pages" in report.blocked_deletions
    assert any("withheld" in e and "folder" in e for e in report.errors), report.errors


def all_trashed(ctx: Ctx) -> None:
    assert ctx.page("f").status == "trashed"
    assert all(ctx.page(f"p{i}").status == "trashed" for i in range(4))


SCENARIO = {
    "covers": ["C1"],
    "sync": {"max_delete": 3},
    "space": {"pages": PAGES},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": remove_directory},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": nothing_trashed},
        {"op": "sync", "allow_delete": True, "blocked": False},
        {"op": "call", "fn": all_trashed},
    ],
    "expect": {"page_count": 1},
}
