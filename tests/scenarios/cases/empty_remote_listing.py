"""The space listing comes back empty (permission loss, a misbehaving proxy): absence from a
listing is never taken as deletion (each missing page is confirmed by id), so zero local
files are removed or rewritten and nothing is written to Confluence."""

from scenarios.runner import Ctx, is_write, page_files


def empty_tree(ctx: Ctx, client) -> None:
    async def nothing(*args, **kwargs):
        return
        yield  # an async generator that yields no page

    client.iter_page_tree = nothing


async def blocked(ctx: Ctx) -> None:
    files = {r: p.read_bytes() for r, p in page_files(ctx.docs).items()}
    ctx.client_hooks.append(empty_tree)
    try:
        for _ in range(2):
            report = await ctx.sync()
            assert not report.applied, report.plan.describe()
            assert {r: p.read_bytes() for r, p in page_files(ctx.docs).items()} == files
    finally:
        ctx.client_hooks.clear()
    assert not (ctx.trash.is_dir() and any(ctx.trash.rglob("*.md")))
    assert not any(is_write(k) for k in ctx.emu.requests)


SCENARIO = {
    "covers": ["C2"],
    "space": {"seeded": 6},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "reset_counts"},
        {"op": "call", "fn": blocked},
    ],
    "expect": {"page_count": 7},
}
