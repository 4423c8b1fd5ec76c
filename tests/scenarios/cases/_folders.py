"""A Cloud space shaped like a real one with folders (the recording cloud_space_tree_arcade.json
indexed in tests/data/realapi: folders with pages inside, a database and a whiteboard at the
top level), plus a nested folder and a page under the whiteboard."""

from scenarios.runner import Ctx

FOLDER_SPACE = {
    "pages": [
        {"key": "guide", "title": "Guide", "body": "<p>Guide.</p>"},
        {"key": "notes", "title": "DailyNotes", "type": "folder"},
        {"key": "standup", "title": "Standup", "body": "<p>Standup notes.</p>", "parent": "notes"},
        {"key": "archive", "title": "Archive", "type": "folder", "parent": "notes"},
        {"key": "old", "title": "Old standup", "body": "<p>Old one.</p>", "parent": "archive"},
        {"key": "poetry", "title": "Poetry", "type": "folder"},
        {"key": "poem", "title": "Eternity", "body": "<p>A poem.</p>", "parent": "poetry"},
        {"key": "board", "title": "Drawings", "type": "whiteboard"},
        {"key": "sketch", "title": "Sketch notes", "body": "<p>Sketch.</p>", "parent": "board"},
        {"key": "db", "title": "Mydb", "type": "database"},
        {"key": "infolder", "title": "Handbook", "type": "folder", "parent": "guide"},
        {"key": "hb", "title": "Support", "body": "<p>Support.</p>", "parent": "infolder"},
    ]
}

FOLDER_PATHS = {
    "guide": "Guide.md",
    "standup": "DailyNotes/Standup.md",
    "old": "DailyNotes/Archive/Old standup.md",
    "poem": "Poetry/Eternity.md",
    "sketch": "Drawings/Sketch notes.md",
    "hb": "Guide/Handbook/Support.md",
}


def parents_unchanged(ctx: Ctx) -> None:
    """Every page still has the parent it was created with (nothing left its folder)."""
    for spec in FOLDER_SPACE["pages"]:
        if spec.get("type", "page") != "page":
            continue
        want = ctx.pid(spec["parent"]) if spec.get("parent") else ctx.pid("home")
        c = ctx.page(spec["key"])
        assert str(c.parent_id) == str(want), (spec["title"], c.parent_id, want)
        assert c.status == "current"


def writes(ctx: Ctx) -> dict[str, int]:
    return {k: v for k, v in ctx.emu.requests.items() if not k.startswith("GET") and v}
