"""Issue 12: a new local directory holding new files becomes a Cloud folder with the pages
created inside it (v2 POST /pages with the folder as parentId, as in the recording
cloud_v2_page_in_folder_create_answer.json indexed in tests/data/realapi); a new file
dropped into an existing folder's directory becomes a page in that folder."""

from _folders import FOLDER_SPACE
from scenarios.runner import Ctx


def created_inside(ctx: Ctx) -> None:
    folders = [c for c in ctx.store.all_content("folder") if c.title == "Ideas"]
    assert len(folders) == 1, [c.title for c in ctx.store.all_content("folder")]
    ideas = folders[0]
    assert str(ideas.parent_id) == str(ctx.pid("home"))
    nested = [c for c in ctx.store.all_content("folder") if c.title == "Later"]
    assert len(nested) == 1 and str(nested[0].parent_id) == str(ideas.id)
    by_title = {c.title: c for c in ctx.store.all_content("page") if c.status == "current"}
    assert str(by_title["First idea"].parent_id) == str(ideas.id)
    assert str(by_title["Someday"].parent_id) == str(nested[0].id)
    assert str(by_title["Tuesday"].parent_id) == str(ctx.pid("notes"))
    # No empty page named like a directory.
    assert "Ideas" not in by_title and "Later" not in by_title


SCENARIO = {
    "covers": ["A3"],
    "space": FOLDER_SPACE,
    "steps": [
        {"op": "sync"},
        {"op": "local.write", "path": "Ideas/First idea.md", "body": "A first idea."},
        {"op": "local.write", "path": "Ideas/Later/Someday.md", "body": "Some day."},
        {"op": "local.write", "path": "DailyNotes/Tuesday.md", "body": "Tuesday notes."},
        {"op": "sync"},
        {"op": "call", "fn": created_inside},
    ],
    "expect": {
        "titles": {
            "First idea": {"contains": ["A first idea."]},
            "Tuesday": {"contains": ["Tuesday notes."]},
        },
        "paths": {"Ideas/First idea.md": {}, "DailyNotes/Tuesday.md": {}},
    },
    "checks": [created_inside],
}
