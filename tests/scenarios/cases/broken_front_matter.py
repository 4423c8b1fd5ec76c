"""A file whose front matter no longer parses is held with an error naming it; nothing is
pushed or deleted; once fixed, the edit is pushed."""

from _pages import BASIC
from scenarios.runner import is_write


def break_it(ctx):
    path = ctx.must_file("a")
    ctx.captured["good"] = path.read_text()
    path.write_text(
        ctx.captured["good"].replace("title:", "title: [unclosed", 1) + "\nEdited while broken.\n"
    )


async def held(ctx):
    report = await ctx.sync()
    assert any("Alpha" in e for e in report.errors), report.errors
    assert not report.in_sync
    a = ctx.page("a")
    assert a.status == "current" and a.version.number == 1
    assert not any(is_write(k) for k in ctx.emu.requests)


def fix_it(ctx):
    ctx.must_file("a") if False else None
    path = next(p for p in ctx.docs.glob("Alpha*.md"))
    path.write_text(ctx.captured["good"] + "\nEdited while broken.\n")
    ctx.edits.append("Edited while broken.")


SCENARIO = {
    "covers": ["E1"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": break_it},
        {"op": "reset_counts"},
        {"op": "call", "fn": held},
        {"op": "call", "fn": fix_it},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {"pages": {"a": {"version": 2, "contains": ["Edited while broken."]}}},
}
