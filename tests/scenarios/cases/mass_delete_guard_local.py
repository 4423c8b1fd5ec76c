def delete_most(ctx):
    from scenarios.runner import page_files

    files = [
        p
        for rel, p in page_files(ctx.docs).items()
        if rel != "README.md" and not p.with_suffix("").is_dir()  # leaves only
    ]
    ctx.captured["deleted"] = len(files) * 2 // 3
    for p in files[: ctx.captured["deleted"]]:
        p.unlink()


def nothing_trashed(ctx):
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests
    trashed = [c for c in ctx.store.all_content("page") if c.status == "trashed"]
    assert trashed == []


def all_trashed(ctx):
    trashed = [c for c in ctx.store.all_content("page") if c.status == "trashed"]
    assert len(trashed) == ctx.captured["deleted"], len(trashed)


SCENARIO = {
    "covers": ["C1"],
    "sync": {"max_delete": 5},
    "space": {"seeded": 15},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": delete_most},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": nothing_trashed},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": nothing_trashed},
        # the user confirms
        {"op": "sync", "allow_delete": True, "blocked": False},
        {"op": "call", "fn": all_trashed},
    ],
    # links to the trashed pages stay as the user wrote them locally: compare no bodies
    "expect": {"sides_equal": False},
}
