"""`syncd sync` killed with SIGKILL at seeded random points of a burst of pushes (10 runs).

Each run edits five files; after the kill a rerun converges. Every edit reaches Confluence
exactly once (one new version per page per run, never a duplicate with the same content),
no conflict copy appears, and every file stays whole.
"""

import random

from scenarios.runner import Ctx, conflict_copies, converge, page_files, read_doc

from syncd.local import frontmatter

ITERATIONS = 10


async def kill_loop(ctx: Ctx) -> None:
    from scenarios.runner import syncd_sync_killed

    rng = random.Random(11)
    await converge(ctx)
    files = [p for rel, p in page_files(ctx.docs).items() if rel != "README.md"][:5]
    ids = [str(read_doc(p).meta.page_id) for p in files]
    killed = 0
    for i in range(ITERATIONS):
        versions = {pid: ctx.store.get(pid).version.number for pid in ids}
        markers = {}
        for pid in ids:
            path = ctx.must_file(pid)
            doc = read_doc(path)
            markers[pid] = f"Burst {i} edit of page {pid}."
            path.write_text(frontmatter.render(doc.meta, doc.body + "\n" + markers[pid] + "\n"))
            ctx.edits.append(markers[pid])
        await ctx.faults(latency_ms=15)
        n = rng.randint(1, 16)
        killed += await syncd_sync_killed(ctx, after_requests=n, jitter=rng.uniform(0, 0.05))
        await ctx.faults(latency_ms=0)
        await converge(ctx)
        for pid in ids:
            page = ctx.store.get(pid)
            assert page.version.number == versions[pid] + 1, (i, page.title, page.version.number)
            assert markers[pid] in page.body, (i, page.title)
            assert markers[pid] in read_doc(ctx.must_file(pid)).body
            with_marker = [v.number for v in page.versions if markers[pid] in v.body]
            assert len(with_marker) == 1, (i, page.title, with_marker)
        assert conflict_copies(ctx.docs) == {}, (i, list(conflict_copies(ctx.docs)))
    assert killed >= ITERATIONS // 2, f"only {killed} runs were killed before finishing"


SCENARIO = {
    "covers": ["A2", "A6", "G1"],
    "slow": True,
    "space": {"seeded": 8},
    "steps": [{"op": "call", "fn": kill_loop}],
    "expect": {},
}
