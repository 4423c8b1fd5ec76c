"""Issue 12: a directory renamed locally whose folder Confluence refuses to rename (the v1
rename is the one call other tools report for it; a site may refuse it): one clear error,
no second folder made, no page moved or written; the rename goes through once allowed."""

import os

from scenarios.runner import Ctx

from syncd.confluence import PermissionDenied

PAGES = [
    {"key": "f", "title": "Team", "type": "folder"},
    {"key": "p", "title": "Plan", "body": "<p>Plan.</p>", "parent": "f"},
    {"key": "q", "title": "Goals", "body": "<p>Goals.</p>", "parent": "f"},
]


def refuse_renames(ctx: Ctx, client) -> None:
    async def rename_folder(folder_id: str, title: str, *, base_version: int) -> None:
        raise PermissionDenied("rename refused", status=403, method="PUT", url="/content")

    client.rename_folder = rename_folder


def refused(ctx: Ctx) -> None:
    ctx.client_hooks.append(refuse_renames)
    os.rename(ctx.docs / "Team", ctx.docs / "Squad")


def nothing_moved(ctx: Ctx) -> None:
    report = ctx.reports[-1]
    assert any("rename refused" in e for e in report.errors), report.errors
    assert [c.title for c in ctx.store.all_content("folder")] == ["Team"]
    for key in ("p", "q"):
        c = ctx.page(key)
        assert (str(c.parent_id), c.version.number) == (ctx.pid("f"), 1), (c.title, c.parent_id)
    assert ctx.must_file("p").relative_to(ctx.docs).as_posix() == "Squad/Plan.md"


def allowed(ctx: Ctx) -> None:
    ctx.client_hooks.clear()


def renamed(ctx: Ctx) -> None:
    assert ctx.page("f").title == "Squad"
    assert str(ctx.page("p").parent_id) == ctx.pid("f")


SCENARIO = {
    "covers": ["C5"],
    "space": {"pages": PAGES},
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": refused},
        {"op": "sync"},
        {"op": "call", "fn": nothing_moved},
        {"op": "sync"},
        {"op": "call", "fn": nothing_moved},
        {"op": "call", "fn": allowed},
        {"op": "sync"},
        {"op": "call", "fn": renamed},
    ],
    "expect": {"page_count": 3},
    "checks": [renamed],
}
