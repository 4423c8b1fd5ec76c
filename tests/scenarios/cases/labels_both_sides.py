"""Labels changed on both sides (front matter locally, a page edit with a label remotely):
the union survives; a label removed locally is removed remotely."""

from scenarios.runner import Ctx, read_doc

from syncd.local import frontmatter


def local_labels(ctx: Ctx) -> None:
    path = ctx.must_file("a")
    doc = read_doc(path)
    meta = frontmatter.FrontMatter(
        page_id=doc.meta.page_id,
        title=doc.meta.title,
        labels=("keep", "local-label"),
        extra=doc.meta.extra,
    )
    path.write_text(frontmatter.render(meta, doc.body + "\nBody edit with labels.\n"))
    ctx.edits.append("Body edit with labels.")


def remote_labels(ctx: Ctx) -> None:
    with ctx.store.act_as("colleague@example.com"):
        ctx.store.add_label(ctx.pid("a"), "remote-label")
        c = ctx.store.get(ctx.pid("a"))
        ctx.store.update_content(c.id, body="<p>Remote body edit.</p>" + c.body)
    ctx.edits.append("Remote body edit.")


def labels_merged(ctx: Ctx) -> None:
    remote = set(ctx.store.get(ctx.pid("a")).labels)
    local = set(read_doc(ctx.must_file("a")).meta.labels)
    assert {"keep", "local-label", "remote-label"} <= local, local
    assert {"keep", "local-label", "remote-label"} <= remote, remote
    assert "drop-me" not in local | remote, (local, remote)


def seed_labels(ctx: Ctx) -> None:
    ctx.store.add_label(ctx.pid("a"), "keep")
    ctx.store.add_label(ctx.pid("a"), "drop-me")


SCENARIO = {
    "covers": ["B1", "B3"],
    "space": {
        "pages": [
            {
                "key": "a",
                "title": "Alpha",
                "body": "<p>Alpha one.</p><p>Alpha two.</p><p>Alpha three.</p>",
            }
        ]
    },
    "steps": [
        {"op": "call", "fn": seed_labels},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": local_labels},
        {"op": "call", "fn": remote_labels},
        {"op": "sync"},
        {"op": "call", "fn": labels_merged},
    ],
    "expect": {},
    "checks": [labels_merged],
}
