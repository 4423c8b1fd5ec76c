"""The user saves again while syncd pushes the previous save (bisync's test_concurrent,
push side): the second save is not recorded as synced; the next run pushes it."""


def save_after_put(ctx, client):
    real = client.update_page
    state = ctx.captured.setdefault("saved", {"done": False})

    async def put_then_save(page_id, **kwargs):
        page = await real(page_id, **kwargs)
        if not state["done"] and page_id == ctx.pid("a"):
            state["done"] = True
            from scenarios.runner import read_doc

            from syncd.local import frontmatter

            path = ctx.must_file("a")
            doc = read_doc(path)
            path.write_text(
                frontmatter.render(doc.meta, doc.body + "\nSecond save during the push.\n")
            )
        return page

    client.update_page = put_then_save


def arm(ctx):
    ctx.client_hooks.append(save_after_put)
    ctx.edits.append("Second save during the push.")


def disarm(ctx):
    assert ctx.captured["saved"]["done"]
    ctx.client_hooks.clear()


SCENARIO = {
    "covers": ["B5", "E2"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "a", "append": "First save."},
        {"op": "call", "fn": arm},
        {"op": "sync"},
        {"op": "call", "fn": disarm},
    ],
    "expect": {
        "files": {"a": {"contains": ["First save.", "Second save during the push."]}},
        "pages": {"a": {"version": 3, "contains": ["First save.", "Second save during the push."]}},
    },
}
