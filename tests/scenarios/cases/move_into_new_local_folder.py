from _pages import BASIC


def projects_parent(ctx):
    # sync.new_directories auto: a Cloud folder on Cloud, an empty page on Data Center.
    kind = "folder" if ctx.emu.flavor == "cloud" else "page"
    found = [c for c in ctx.store.all_content(kind) if c.title == "Projects"]
    projects = found[0] if found else None
    assert projects is not None and projects.status == "current", f"no {kind} for the new folder"
    assert str(ctx.page("a").parent_id) == str(projects.id), ctx.page("a").parent_id
    assert ctx.page("a").version.number == 1 or "Alpha middle." in ctx.page("a").body


SCENARIO = {
    "covers": ["C5", "E5"],
    "flavors": ["cloud", "dc"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.mkdir", "path": "Projects"},
        {"op": "local.rename", "page": "a", "to": "Projects/Alpha.md"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {"a": {"path": "Projects/Alpha.md", "contains": ["Alpha middle."]}},
        "pages": {"a": {"contains": ["Alpha middle."]}},
        "titles": {"Alpha": {"contains": ["Alpha middle."]}},
    },
    "checks": [projects_parent],
}
