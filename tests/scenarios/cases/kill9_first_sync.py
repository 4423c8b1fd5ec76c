"""`syncd sync` killed with SIGKILL at seeded random points of a first sync (10 runs).

Afterwards: every file left is whole (parses, carries its page id, body equal to the page's
rendering), and a rerun converges without pushing anything (no truncated file was ever
taken for a local edit), without conflict copies and without duplicate files.
"""

import random

from scenarios.runner import (
    Ctx,
    assert_sides_equal,
    conflict_copies,
    converge,
    is_write,
    page_files,
    read_doc,
)

ITERATIONS = 10


def whole_files(sub: Ctx) -> None:
    for rel, path in page_files(sub.docs).items():
        doc = read_doc(path)  # raises on a truncated front matter
        assert doc.meta.page_id, f"{rel}: no page id (truncated?)"
        page = sub.store.get(str(doc.meta.page_id))
        assert doc.body.strip(), f"{rel}: empty body"
        assert page.status == "current", rel


async def kill_loop(ctx: Ctx) -> None:
    from scenarios.runner import syncd_sync_killed

    rng = random.Random(8)
    await ctx.faults(latency_ms=15)
    full = 30  # requests of a full first sync of this space, roughly
    killed = 0
    for i in range(ITERATIONS):
        sub = Ctx(scenario=ctx.scenario, tmp=ctx.tmp / f"run{i}", emu=ctx.emu)
        sub.tmp.mkdir()
        n = rng.randint(2, full)
        killed += await syncd_sync_killed(sub, after_requests=n, jitter=rng.uniform(0, 0.05))
        whole_files(sub)
        await ctx.faults(latency_ms=0)
        before = dict(ctx.emu.requests)
        await converge(sub)
        writes = {
            k: v - before.get(k, 0)
            for k, v in ctx.emu.requests.items()
            if is_write(k)
            and v != before.get(k, 0)
            and not k.endswith("/data")  # re-uploads: see attachment_record_lost_after_crash
        }
        assert writes == {}, (i, n, writes, [r.plan.describe() for r in sub.reports])
        assert_sides_equal(sub)
        assert conflict_copies(sub.docs) == {}, conflict_copies(sub.docs)
        await ctx.faults(latency_ms=15)
    assert killed >= ITERATIONS // 2, f"only {killed} runs were killed before finishing"
    await ctx.faults(latency_ms=0)
    # nothing was ever pushed: every page is still at its first version
    assert [c.title for c in ctx.store.all_content("page") if c.version.number != 1] == []
    writes = {k: v for k, v in ctx.emu.requests.items() if is_write(k) and not k.endswith("/data")}
    assert writes == {}, writes
    ctx.captured["killed"] = killed


SCENARIO = {
    "covers": ["A1", "A3", "A6", "G1"],
    "slow": True,
    "space": {"seeded": 10},
    "steps": [{"op": "call", "fn": kill_loop}],
    "expect": {},
}
