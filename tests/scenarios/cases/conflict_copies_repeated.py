"""Conflicts on one page in sequence (keep-both): each makes one copy holding the local text;
an edited conflict copy is never pushed and never makes a conflict of a conflict."""

from scenarios.runner import Ctx, conflict_copies


async def three_conflicts(ctx: Ctx) -> None:
    from scenarios.runner import STEPS

    for i in range(3):
        await STEPS["local.edit"](
            ctx, {"page": "a", "replace": ["Alpha middle", f"Alpha middle L{i}"]}
        )
        await STEPS["remote.edit"](
            ctx, {"page": "a", "replace": ["Alpha middle", f"Alpha middle R{i}"]}
        )
        await ctx.sync()
        assert len(conflict_copies(ctx.docs)) == i + 1, list(conflict_copies(ctx.docs))
    copies = conflict_copies(ctx.docs)
    for i in range(3):
        assert sum(f"L{i}" in p.read_text() for p in copies.values()) >= 1, i
    # the user edits a copy: still nothing is pushed from it
    first = next(iter(copies.values()))
    first.write_text(first.read_text() + "\nNotes in the copy.\n")
    before = len(list(ctx.store.all_content("page")))
    await ctx.sync()
    await ctx.sync()
    assert len(list(ctx.store.all_content("page"))) == before
    assert len(conflict_copies(ctx.docs)) == 3, list(conflict_copies(ctx.docs))
    assert not any("Notes in the copy." in c.body for c in ctx.store.all_content("page"))
    for p in conflict_copies(ctx.docs).values():
        ctx.captured.setdefault("archive", []).append(p.read_text())
        p.unlink()


SCENARIO = {
    "covers": ["B1", "B6"],
    "sync": {"on_conflict": "keep-both"},
    "space": {
        "pages": [
            {
                "key": "a",
                "title": "Alpha",
                "body": "<p>Alpha first.</p><p>Alpha middle.</p><p>Alpha last.</p>",
            }
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": three_conflicts},
    ],
    "expect": {"conflict_copies": 0, "pages": {"a": {"version": 4}}},
}
