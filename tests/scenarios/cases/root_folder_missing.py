"""The sync folder disappears (unmounted, moved away): nothing is deleted on either side,
the error says why, and when the folder returns the next run converges."""

import os

from scenarios.runner import Ctx, is_write


async def folder_gone(ctx: Ctx) -> None:
    os.rename(ctx.docs, ctx.tmp / "docs-away")
    try:
        report = await ctx.sync()
    except FileNotFoundError as exc:
        assert "missing" in str(exc), exc
    else:
        raise AssertionError(f"a sync ran without its folder: {report.plan.describe()}")
    assert not ctx.docs.exists(), "the folder was recreated empty"
    assert all(c.status == "current" for c in ctx.store.all_content("page"))
    assert not any(is_write(k) for k in ctx.emu.requests)
    os.rename(ctx.tmp / "docs-away", ctx.docs)


SCENARIO = {
    "covers": ["C3"],
    "space": {"seeded": 5},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "reset_counts"},
        {"op": "call", "fn": folder_gone},
    ],
    "expect": {"page_count": 6},
}
