def trash_most(ctx):
    pages = [c for c in ctx.store.all_content("page") if c.id != ctx.keys["home"]]
    ctx.captured["n"] = len(pages)
    ctx.captured["files"] = len(__import__("scenarios.runner").runner.page_files(ctx.docs))
    with ctx.store.act_as("colleague@example.com"):
        for c in pages[: len(pages) * 2 // 3]:
            ctx.store.trash(c.id)


def no_local_removal(ctx):
    from scenarios.runner import page_files

    assert len(page_files(ctx.docs)) == ctx.captured["files"]
    assert not (ctx.trash.is_dir() and any(ctx.trash.rglob("*.md")))


SCENARIO = {
    "covers": ["C2"],
    "sync": {"max_delete": 5},
    "space": {"seeded": 15},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": trash_most},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": no_local_removal},
        {"op": "sync", "allow_delete": True, "blocked": False},
    ],
    "expect": {"local_trash": {"contains": ["page_id"]}, "sides_equal": False},
}
