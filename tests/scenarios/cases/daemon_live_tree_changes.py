"""The live daemon follows tree changes from both sides through its targeted runs (watcher
paths, webhook page ids): a local rename, move, create and delete; a remote rename, move,
trash and a page created under a new remote parent."""

from scenarios.runner import Ctx, until


async def wait_remote(ctx: Ctx, what: str, predicate) -> None:
    await until(lambda: predicate(), 20, what)


async def local_changes(ctx: Ctx) -> None:
    import os

    os.rename(ctx.must_file("a"), ctx.docs / "Beta" / "Alpha.md")  # move under Beta
    (ctx.docs / "Fresh.md").write_text("Fresh local page.\n")
    ctx.must_file("d").unlink()
    ctx.edits.append("Fresh local page.")
    await wait_remote(ctx, "Alpha under Beta", lambda: str(ctx.page("a").parent_id) == ctx.pid("b"))
    await wait_remote(
        ctx, "Fresh created", lambda: ctx.store.by_title(ctx.emu.space_key, "Fresh") is not None
    )
    await wait_remote(ctx, "Delta trashed", lambda: ctx.page("d").status == "trashed")


async def remote_changes(ctx: Ctx) -> None:
    with ctx.store.act_as("colleague@example.com"):
        ctx.store.update_content(ctx.pid("c"), title="Gamma Renamed")
        ctx.store.move(ctx.pid("e"), "append", ctx.pid("c"))
        parent = ctx.store.create_page(ctx.emu.space_key, "New Parent", "<p>New parent.</p>")
        child = ctx.store.create_page(
            ctx.emu.space_key, "New Child", "<p>New child.</p>", parent_id=parent.id
        )
        ctx.store.trash(ctx.pid("f"))
    ctx.keys["np"], ctx.keys["nc"] = parent.id, child.id

    def settled() -> bool:
        c, e, nc = ctx.file_of("c"), ctx.file_of("e"), ctx.file_of("nc")
        return (
            c is not None
            and c.name == "Gamma Renamed.md"
            and e is not None
            and e.parent.name == "Gamma Renamed"
            and nc is not None
            and nc.parent.name == "New Parent"
            and ctx.file_of("f") is None
        )

    try:
        await until(settled, 20, "remote tree changes to reach the folder")
    except AssertionError as exc:
        from scenarios.runner import page_files

        daemon = ctx.captured.get("daemon")
        tail = daemon.log()[-2500:] if daemon else ""
        raise AssertionError(f"{exc}: files {list(page_files(ctx.docs))}\n{tail}") from None


SCENARIO = {
    "covers": ["C5", "E5", "F4", "D1"],
    "slow": True,
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta.</p>"},
            {"key": "x", "title": "Beta Child", "body": "<p>Beta child.</p>", "parent": "b"},
            {"key": "c", "title": "Gamma", "body": "<p>Gamma.</p>"},
            {"key": "d", "title": "Delta", "body": "<p>Delta.</p>"},
            {"key": "e", "title": "Epsilon", "body": "<p>Epsilon.</p>"},
            {"key": "f", "title": "Phi", "body": "<p>Phi.</p>"},
        ]
    },
    "steps": [
        {"op": "daemon.start"},
        {"op": "wait.file", "page": "f", "contains": "Phi."},
        {"op": "wait.quiet"},
        {"op": "call", "fn": local_changes},
        {"op": "wait.quiet"},
        {"op": "call", "fn": remote_changes},
        {"op": "wait.quiet"},
        {"op": "daemon.stop"},
    ],
    "expect": {
        "files": {
            "a": {"path": "Beta/Alpha.md"},
            "d": None,
            "f": None,
            "c": {"path": "Gamma Renamed.md"},
            "e": {"path": "Gamma Renamed/Epsilon.md"},
            "nc": {"path": "New Parent/New Child.md"},
        },
        "pages": {"a": {"parent": "b", "contains": ["Alpha."]}, "d": {"status": "trashed"}},
        "titles": {"Fresh": {"contains": ["Fresh local page."]}},
    },
}
