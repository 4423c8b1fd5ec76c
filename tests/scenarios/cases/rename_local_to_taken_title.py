"""A local title change to a title another page already has: Confluence refuses (titles are
unique); the file is held with an error naming it, the body edit is not lost, and fixing
the title lets it through."""

from _pages import BASIC


async def refused(ctx):
    report = await ctx.sync()
    assert not report.in_sync
    # held and reported: listed with the conflicts, the plan says why
    assert "Alpha.md" in report.conflicts or any("Beta" in e for e in report.errors), report
    assert "already has that title" in " ".join(report.plan.describe())
    assert ctx.page("a").title == "Alpha"
    assert ctx.page("b").title == "Beta"


SCENARIO = {
    "covers": ["B1", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.edit",
            "page": "a",
            "title": "Beta",
            "append": "Alpha body edit with a taken title.",
        },
        {"op": "call", "fn": refused},
        {"op": "local.edit", "page": "a", "title": "Alpha Prime", "remember": False},
        {"op": "sync"},
    ],
    "expect": {
        "pages": {
            "a": {"title": "Alpha Prime", "contains": ["with a taken title"]},
            "b": {"title": "Beta"},
        },
        "files": {"a": {"contains": ["with a taken title"]}, "b": {"contains": ["Beta body."]}},
        "page_count": 4,
    },
}
