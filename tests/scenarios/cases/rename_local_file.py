"""A page file renamed in the file manager (front matter untouched): the same page (same
id), never a delete plus a create; its children keep their parent."""

from _pages import BASIC


def same_page(ctx):
    titles = sorted(c.title for c in ctx.store.all_content("page") if c.status == "current")
    assert len(titles) == 4, titles
    assert ctx.page("b").status == "current"
    assert str(ctx.page("c").parent_id) == ctx.pid("b")
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests


SCENARIO = {
    "covers": ["E5", "C5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.rename", "page": "a", "to": "Alpha Renamed.md"},
        {"op": "sync"},
        {"op": "call", "fn": same_page},
    ],
    "expect": {"files": {"a": {"contains": ["Alpha middle."]}}},
    "checks": [same_page],
}
