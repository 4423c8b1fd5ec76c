"""The space disappears (deleted, or access lost): nothing local is removed, errors say so."""


def remove_space(ctx):
    from scenarios.runner import page_files

    store = ctx.store
    ctx.captured["files"] = {r: p.read_bytes() for r, p in page_files(ctx.docs).items()}
    with store.lock:
        space = store.spaces.pop(ctx.emu.space_key)
        store.spaces_by_id.pop(space.id, None)
        for cid in [c.id for c in store.all_content() if c.space_key == ctx.emu.space_key]:
            store.content.pop(cid, None)
        store._listing = {k: v for k, v in store._listing.items() if k[0] != ctx.emu.space_key}
        store._roots.pop(ctx.emu.space_key, None)


async def sync_fails_cleanly(ctx):
    from scenarios.runner import page_files

    try:
        report = await ctx.sync()
    except Exception as exc:  # a clear error is acceptable, as long as nothing changed
        ctx.captured["error"] = f"{type(exc).__name__}: {exc}"
    else:
        assert not report.in_sync, report.plan.describe()
        ctx.captured["error"] = "; ".join(report.errors) or str(report.blocked_deletions)
    now = {r: p.read_bytes() for r, p in page_files(ctx.docs).items()}
    assert now == ctx.captured["files"], "local files changed after the space disappeared"
    assert not (ctx.trash.is_dir() and any(ctx.trash.rglob("*.md"))), "files moved to trash"


SCENARIO = {
    "covers": ["C2", "C3"],
    "space": {"seeded": 6},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": remove_space},
        {"op": "call", "fn": sync_fails_cleanly},
        {"op": "call", "fn": sync_fails_cleanly},
    ],
    "expect": {"converged": False, "edits_kept": False},
}
