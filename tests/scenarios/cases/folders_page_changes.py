"""Issue 12: edits and renames of pages inside folders keep them inside, on both sides;
a page moves into or out of a folder only when someone moved it (a file moved locally,
a page moved in Confluence)."""

from _folders import FOLDER_SPACE
from scenarios.runner import Ctx


def moved_where_asked(ctx: Ctx) -> None:
    folder = {k: ctx.pid(k) for k in ("notes", "poetry", "archive", "home")}
    expected = {
        "standup": folder["notes"],  # edited and renamed locally: still in DailyNotes
        "poem": folder["poetry"],  # edited and renamed in Confluence: still in Poetry
        "guide": folder["poetry"],  # file moved into Poetry/ locally
        "old": folder["home"],  # file moved out of DailyNotes/Archive/ locally
        "sketch": folder["archive"],  # moved into a folder in Confluence
        "hb": folder["home"],  # moved out of a folder in Confluence
    }
    for key, parent in expected.items():
        c = ctx.page(key)
        assert str(c.parent_id) == str(parent), (c.title, c.parent_id, parent)


def create_in_new_folder(ctx: Ctx) -> None:
    """A colleague makes a folder with a page in it; a webhook names only the page."""
    folder = ctx.store.create_container(ctx.emu.space_key, "folder", "Retro", parent_id=None)
    c = ctx.store.create_page(
        ctx.emu.space_key, "Retro notes", "<p>Retro.</p>", parent_id=folder.id
    )
    ctx.keys["retro"] = c.id
    ctx.keys["retro_folder"] = folder.id


def move_out_and_in(ctx: Ctx) -> None:
    ctx.store.move(ctx.pid("sketch"), "append", ctx.pid("archive"))
    ctx.store.move(ctx.pid("hb"), "append", ctx.pid("home"))


SCENARIO = {
    "covers": ["C5", "E5"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        {
            "op": "local.edit",
            "page": "standup",
            "append": "Local standup edit.",
            "title": "Standup Mon",
        },
        {"op": "local.rename", "page": "standup", "to": "DailyNotes/Standup Mon.md"},
        {
            "op": "remote.edit",
            "page": "poem",
            "append": "<p>Remote poem edit.</p>",
            "title": "Eternal",
        },
        {"op": "local.rename", "page": "guide", "to": "Poetry/Guide.md"},
        {"op": "local.rename", "page": "old", "to": "Old standup.md"},
        {"op": "call", "fn": move_out_and_in},
        {"op": "sync"},
        {"op": "call", "fn": moved_where_asked},
        # A targeted run (a webhook) for a page in a folder not synced yet becomes a full
        # run, which reads the folder: the page lands in its directory at once.
        {"op": "call", "fn": create_in_new_folder},
        {"op": "sync", "pages": ["retro"]},
        {"op": "assert", "expect": {"files": {"retro": {"path": "Retro/Retro notes.md"}}}},
    ],
    "expect": {
        "files": {
            "standup": {"path": "DailyNotes/Standup Mon.md", "contains": ["Local standup edit."]},
            "poem": {"path": "Poetry/Eternal.md", "contains": ["Remote poem edit."]},
            "guide": {"path": "Poetry/Guide.md"},
            "old": {"path": "Old standup.md"},
            "sketch": {"path": "DailyNotes/Archive/Sketch notes.md"},
            "hb": {"path": "Support.md"},
            "retro": {"path": "Retro/Retro notes.md"},
        },
        "pages": {"standup": {"title": "Standup Mon", "contains": ["Local standup edit."]}},
    },
    "checks": [moved_where_asked],
}
