"""Confluence goes away in the middle of a first sync and comes back (state persisted)."""

import asyncio


async def restart_mid_sync(ctx):
    from scenarios.runner import restart_emulator, until

    await ctx.faults(latency_ms=25)
    task = asyncio.ensure_future(ctx.sync())
    await until(lambda: sum(ctx.emu.requests.values()) >= 8, 20, "the sync to be under way")
    await restart_emulator(ctx)
    try:
        report = await asyncio.wait_for(task, 60)
    except Exception as exc:  # the interrupted run may fail; it must not corrupt anything
        ctx.captured["interrupted"] = repr(exc)
    else:
        ctx.captured["interrupted"] = report.errors


SCENARIO = {
    "covers": ["A1", "F4"],
    "persist": True,
    "space": {"seeded": 12, "pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "call", "fn": restart_mid_sync},
        {"op": "remote.edit", "page": "a", "append": "Edited after the restart."},
    ],
    "expect": {"page_count": 14, "files": {"a": {"contains": ["Edited after the restart."]}}},
}
