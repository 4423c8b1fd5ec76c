from _pages import BASIC


def one_page(ctx):
    titles = sorted(c.title for c in ctx.store.all_content("page") if c.status == "current")
    assert len(titles) == 4, titles
    page = ctx.page("b")
    assert page.title in ("Beta Local", "Beta Remote"), page.title
    f = ctx.must_file("b")
    assert f.name == page.title + ".md", f
    # the losing title is still in Confluence's history or the page's current title
    history = {v.title for v in page.versions}
    assert {"Beta Remote"} <= history, history


SCENARIO = {
    "covers": ["B1", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "b", "title": "Beta Local"},
        {"op": "remote.rename", "page": "b", "title": "Beta Remote"},
        {"op": "sync"},
    ],
    "expect": {"conflict_copies": 0, "files": {"c": {"contains": ["Gamma body."]}}},
    "checks": [one_page],
}
