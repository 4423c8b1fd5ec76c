"""With ``confluence.root_page`` set on Cloud, the pages below the root are synced whatever
content lies between: folders (nested), a whiteboard, a database and an embed become
directories exactly as in whole-space mode; pages elsewhere in the space (under a folder
too) stay out. The subtree is listed with the v2 descendants endpoint, never the space's
page listing. Moves across the root's boundary in Confluence: a page moved in (out of a
folder elsewhere, into a folder below the root) appears; a folder or a page moved out goes
to the local trash and stays where it was moved (a page used to be moved back under the
root).

Real Confluence: ``GET /pages/{id}/descendants`` returns database, embed, folder, page and
whiteboard content "in top-to-bottom order", each with ``type``, ``parentId`` and ``depth``,
at most ``depth`` levels (default 2, maximum 10) (getPageDescendants in the published v2
document, developer.atlassian.com/cloud/confluence/rest/v2/api-group-descendants; the
2025-02 copy in tests/data/specs predates it). Pages in folders carry ``parentType:
"folder"`` (realapi cloud_v2_page_in_folder_create_answer.json, see SOURCES.md).
"""

from scenarios.runner import Ctx

SPACE = {
    "pages": [
        {"key": "outside", "title": "Outside", "body": "<p>Not synced.</p>"},
        {"key": "away", "title": "Away", "type": "folder", "parent": "outside"},
        {"key": "stray", "title": "Stray", "body": "<p>Stray.</p>", "parent": "away"},
        {"key": "team", "title": "Team", "body": "<p>Team root.</p>"},
        {"key": "intro", "title": "Intro", "body": "<p>Intro.</p>", "parent": "team"},
        {"key": "notes", "title": "Notes", "type": "folder", "parent": "team"},
        {"key": "standup", "title": "Standup", "body": "<p>Standup.</p>", "parent": "notes"},
        {"key": "archive", "title": "Archive", "type": "folder", "parent": "notes"},
        {"key": "old", "title": "Old", "body": "<p>Old one.</p>", "parent": "archive"},
        {"key": "board", "title": "Board", "type": "whiteboard", "parent": "team"},
        {"key": "sketch", "title": "Sketch", "body": "<p>Sketch.</p>", "parent": "board"},
        {"key": "db", "title": "Tracker", "type": "database", "parent": "team"},
        {"key": "rows", "title": "Rows", "body": "<p>Rows.</p>", "parent": "db"},
        {"key": "link", "title": "Link", "type": "embed", "parent": "intro"},
        {"key": "linked", "title": "Linked", "body": "<p>Linked.</p>", "parent": "link"},
    ]
}

PATHS = {
    "intro": "Intro.md",
    "standup": "Notes/Standup.md",
    "old": "Notes/Archive/Old.md",
    "sketch": "Board/Sketch.md",
    "rows": "Tracker/Rows.md",
    "linked": "Intro/Link/Linked.md",
}


def subtree_synced(ctx: Ctx) -> None:
    for key, path in PATHS.items():
        assert ctx.must_file(key).relative_to(ctx.docs).as_posix() == path
    for key in ("outside", "stray"):
        assert ctx.file_of(key) is None, key
    assert not (ctx.docs / "Away").exists()
    # The subtree's own listing, not the space's: cost follows the subtree.
    routes = [r for r, n in ctx.emu.requests.items() if n]
    assert not [r for r in routes if r.startswith("GET") and "/spaces/" in r and "/pages" in r]
    assert [r for r in routes if r.startswith("GET") and r.endswith("/descendants")], routes


def moved_across_the_boundary(ctx: Ctx) -> None:
    assert ctx.must_file("stray").relative_to(ctx.docs).as_posix() == "Notes/Stray.md"
    assert ctx.file_of("old") is None
    trashed = [p.name for p in ctx.trash.rglob("*.md")] if ctx.trash.is_dir() else []
    assert "Old.md" in trashed, trashed
    assert not (ctx.docs / "Notes" / "Archive").exists()  # the folder left with its page
    archive = ctx.page("archive")
    assert archive.status == "current" and str(archive.parent_id) == ctx.pid("outside")
    assert ctx.page("old").status == "current"  # Confluence is not touched
    # A new file in a folder's directory below the root: a page in that folder.
    retro = [c for c in ctx.store.all_content("page") if c.title == "Retro"]
    assert [str(c.parent_id) for c in retro] == [ctx.pid("notes")], retro


def no_ancestors_read(ctx: Ctx) -> None:
    assert ctx.must_file("sketch").read_text().count("Second sketch edit.") == 1
    asked = [r for r, n in ctx.emu.requests.items() if n and r.endswith("/ancestors")]
    assert asked == [], asked


SCENARIO = {
    "covers": ["C5"],
    "space": SPACE,
    "root_page": "team",
    "steps": [
        {"op": "reset_counts"},
        {"op": "sync", "no_errors": True},
        {"op": "call", "fn": subtree_synced},
        {"op": "local.edit", "page": "standup", "append": "Local standup edit."},
        {"op": "local.write", "path": "Notes/Retro.md", "body": "Retro in a folder.\n"},
        {"op": "remote.edit", "page": "sketch", "append": "<p>Remote sketch edit.</p>"},
        {"op": "remote.move", "page": "stray", "to": "notes"},
        {"op": "remote.move", "page": "archive", "to": "outside"},
        {"op": "sync", "no_errors": True},
        {"op": "call", "fn": moved_across_the_boundary},
        # A targeted run for an edit below the root asks for no ancestors (its parent is
        # known to be below the root) ...
        {"op": "remote.edit", "page": "sketch", "append": "<p>Second sketch edit.</p>"},
        {"op": "reset_counts"},
        {"op": "sync", "pages": ["sketch"], "no_errors": True},
        {"op": "call", "fn": no_ancestors_read},
        # ... and sees a move out as well, pulling none of the pages above it.
        {"op": "remote.move", "page": "rows", "to": "outside"},
        {"op": "sync", "pages": ["rows"], "no_errors": True},
        {"op": "assert", "expect": {"files": {"rows": None, "outside": None}}},
    ],
    "expect": {
        "files": {
            "standup": {"path": "Notes/Standup.md", "contains": ["Local standup edit."]},
            "sketch": {"path": "Board/Sketch.md", "contains": ["Remote sketch edit."]},
            "stray": {"path": "Notes/Stray.md"},
            "old": None,
            "rows": None,
        },
        "pages": {"standup": {"contains": ["Local standup edit."]}},
    },
    "checks": [moved_across_the_boundary],
}
