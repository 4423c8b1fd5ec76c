"""`syncd sync` killed with SIGKILL while it creates pages for new local files (6 runs):
after a rerun each new file has exactly one page, linked by id, with its content."""

import random

from scenarios.runner import Ctx, conflict_copies, converge, read_doc

ITERATIONS = 6


async def kill_loop(ctx: Ctx) -> None:
    from scenarios.runner import syncd_sync_killed

    rng = random.Random(5)
    await converge(ctx)
    killed = 0
    for i in range(ITERATIONS):
        names = [f"Created {i}-{k}" for k in range(3)]
        for name in names:
            (ctx.docs / f"{name}.md").write_text(f"Body of {name}.\n")
            ctx.edits.append(f"Body of {name}.")
        await ctx.faults(latency_ms=15)
        # A run makes about 5 requests (space, listing, one POST per file; a create is
        # recorded from the POST's answer): kill within them, or the run ends first.
        killed += await syncd_sync_killed(
            ctx, after_requests=rng.randint(1, 4), jitter=rng.uniform(0, 0.05)
        )
        await ctx.faults(latency_ms=0)
        await converge(ctx)
        for name in names:
            pages = [c for c in ctx.store.all_content("page") if c.title == name]
            assert len(pages) == 1, (i, name, [c.id for c in pages])
            doc = read_doc(ctx.docs / f"{name}.md")
            assert str(doc.meta.page_id) == pages[0].id, (name, doc.meta.page_id)
            assert f"Body of {name}." in pages[0].body
        assert conflict_copies(ctx.docs) == {}
        titles = [c.title for c in ctx.store.all_content("page")]
        assert len(titles) == len(set(titles))
    assert killed >= ITERATIONS // 2, f"only {killed} runs were killed"


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["A3", "A6"],
    "slow": True,
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [{"op": "call", "fn": kill_loop}],
    "expect": {},
}
