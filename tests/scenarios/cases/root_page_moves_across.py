"""confluence.root_page on Data Center (Cloud: folders_under_root_page): pages moved in
Confluence across the root's boundary. Moved out: the file goes to the local trash and the page stays where it
was moved (syncd used to move it back under the root, undoing the colleague's move).
Moved in: it appears. Data Center has no folders: its subtree is cut out of the space
listing as before; a page's ancestors come with the page there (``expand=ancestors``)."""

from scenarios.runner import Ctx

SPACE = {
    "pages": [
        {"key": "outside", "title": "Outside", "body": "<p>Elsewhere.</p>"},
        {"key": "guest", "title": "Guest", "body": "<p>Guest.</p>", "parent": "outside"},
        {"key": "team", "title": "Team", "body": "<p>Team root.</p>"},
        {"key": "a", "title": "A", "body": "<p>A.</p>", "parent": "team"},
        {"key": "b", "title": "B", "body": "<p>B.</p>", "parent": "a"},
    ]
}


def left_in_place(ctx: Ctx) -> None:
    assert str(ctx.page("a").parent_id) == ctx.pid("outside")  # not moved back
    trashed = sorted(p.name for p in ctx.trash.rglob("*.md"))
    assert trashed == ["A.md", "B.md"], trashed


SCENARIO = {
    "covers": ["C4", "C5"],
    "flavor": "dc",
    "space": SPACE,
    "root_page": "team",
    "steps": [
        {"op": "sync", "no_errors": True},
        {"op": "assert", "expect": {"files": {"b": {"path": "A/B.md"}, "outside": None}}},
        {"op": "remote.move", "page": "a", "to": "outside"},
        {"op": "remote.move", "page": "guest", "to": "team"},
        {"op": "sync", "no_errors": True},
        {"op": "call", "fn": left_in_place},
    ],
    "expect": {"files": {"a": None, "b": None, "guest": {"path": "Guest.md"}}},
    "checks": [left_in_place],
}
