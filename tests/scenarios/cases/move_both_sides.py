from _pages import BASIC

PAGES = [*BASIC, {"key": "d", "title": "Delta", "body": "<p>Delta body.</p>"}]


def one_place(ctx):
    a = ctx.page("a")
    assert str(a.parent_id) in (ctx.pid("b"), ctx.pid("d")), a.parent_id
    assert len([p for p in ctx.docs.rglob("Alpha*.md")]) == 1, list(ctx.docs.rglob("Alpha*.md"))


SCENARIO = {
    "covers": ["C5", "E5"],
    "space": {"pages": PAGES},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.rename", "page": "a", "to": "Beta/Alpha.md"},
        {"op": "remote.move", "page": "a", "to": "d"},
        {"op": "sync"},
    ],
    "expect": {"page_count": 5, "files": {"a": {"contains": ["Alpha middle."]}}},
    "checks": [one_place],
}
