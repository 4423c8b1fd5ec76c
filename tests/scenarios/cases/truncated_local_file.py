"""A file truncated to zero bytes (an editor or disk crash): syncd never trashes or blanks
the page because of it, and the page's text stays recoverable: the page is held, the report
names the empty file."""

from _pages import BASIC


def truncate(ctx):
    ctx.must_file("a").write_bytes(b"")


async def no_loss(ctx):
    await ctx.sync()
    report = await ctx.sync()
    # Held with a clear message (a truncation is more often an accident than an edit).
    assert any("Alpha.md" in e and "empty" in e for e in report.errors), report.errors
    assert (ctx.docs / "Alpha.md").read_bytes() == b""
    a = ctx.store.get(ctx.pid("a"))
    assert a.status == "current", a.status
    assert "Alpha middle." in a.body or any("Alpha middle." in v.body for v in a.versions)
    titles = [c.title for c in ctx.store.all_content("page") if c.status == "current"]
    assert titles.count("Alpha") == 1, titles


SCENARIO = {
    "covers": ["E1", "C4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": truncate},
        {"op": "call", "fn": no_loss},
    ],
    "expect": {"converged": False, "sides_equal": False, "edits_kept": False},
}
