"""Hundreds of local files changed at once (a branch switch, a search-and-replace): one run
pushes each exactly once, and the next run does nothing.

300 files, not 1,000: the count only has to exceed every page size the runs go through
(v2 listings and bulk body reads: 250; v1: 200) and the connection ceiling (32), so that
paging, batching and bounded concurrency all take part; bench/ measures 1,000 and more.
(The file name keeps the scenario's history.)"""

import time

from scenarios.runner import Ctx, page_files, read_doc

from syncd.local import frontmatter

N = 300


def create_locally(ctx: Ctx) -> None:
    folder = ctx.docs / "Bulk"
    folder.mkdir(parents=True)
    for i in range(N):
        (folder / f"Note {i:04d}.md").write_text(f"Note {i} body.\n")


async def push_all(ctx: Ctx) -> None:
    start = time.monotonic()
    report = await ctx.sync()
    ctx.captured["create_s"] = time.monotonic() - start
    assert not report.errors, report.errors[:5]


def edit_all(ctx: Ctx) -> None:
    for rel, path in page_files(ctx.docs).items():
        if rel.startswith("Bulk/"):
            doc = read_doc(path)
            path.write_text(frontmatter.render(doc.meta, doc.body + "\nChanged at once.\n"))


async def push_edits(ctx: Ctx) -> None:
    before = dict(ctx.emu.requests)
    start = time.monotonic()
    report = await ctx.sync()
    ctx.captured["edit_s"] = time.monotonic() - start
    assert not report.errors, report.errors[:5]
    puts = sum(v - before.get(k, 0) for k, v in ctx.emu.requests.items() if k.startswith("PUT"))
    assert puts == N, puts
    notes = [c for c in ctx.store.all_content("page") if c.title.startswith("Note ")]
    assert len(notes) == N
    assert all(c.version.number == 2 and "Changed at once." in c.body for c in notes)


SCENARIO = {
    "covers": ["E4", "A3"],
    "slow": True,
    "space": {"pages": []},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": create_locally},
        {"op": "call", "fn": push_all},
        {"op": "call", "fn": edit_all},
        {"op": "call", "fn": push_edits},
    ],
    # home + the notes; Bulk/ is a Cloud folder (sync.new_directories auto), not a page
    "expect": {"page_count": N + 1, "sides_equal": True},
}
