"""The user saves the file while syncd pulls a newer version of it (bisync's
test_concurrent): the pull does not clobber the save; the next run merges both."""


def save_during_fetch(ctx, client):
    real = client.get_page
    state = ctx.captured.setdefault("saved", {"done": False})

    async def fetch_and_save(page_id, **kwargs):
        page = await real(page_id, **kwargs)
        if not state["done"] and page_id == ctx.pid("a"):
            state["done"] = True
            from scenarios.runner import read_doc

            from syncd.local import frontmatter

            path = ctx.must_file("a")
            doc = read_doc(path)
            body = doc.body.replace("Alpha first paragraph.", "Alpha first, saved mid-pull.")
            path.write_text(frontmatter.render(doc.meta, body))
            ctx.captured["saved_bytes"] = path.read_bytes()
        return page

    client.get_page = fetch_and_save


def arm(ctx):
    ctx.client_hooks.append(save_during_fetch)
    ctx.edits.append("Alpha first, saved mid-pull.")


def save_intact(ctx):
    assert ctx.captured["saved"]["done"]
    ctx.client_hooks.clear()
    text = ctx.must_file("a").read_text()
    assert "saved mid-pull" in text, text


SCENARIO = {
    "covers": ["B5"],
    "space": {
        "pages": [
            {
                "key": "a",
                "title": "Alpha",
                "body": "<p>Alpha first paragraph.</p><p>Alpha middle.</p><p>Alpha last paragraph.</p>",
            }
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "remote.edit",
            "page": "a",
            "replace": ["Alpha last paragraph.", "Alpha last, edited remotely."],
        },
        {"op": "call", "fn": arm},
        {"op": "sync"},
        {"op": "call", "fn": save_intact},
    ],
    "expect": {
        "files": {"a": {"contains": ["saved mid-pull", "edited remotely"]}},
        "pages": {"a": {"contains": ["saved mid-pull", "edited remotely"]}},
        "conflict_copies": 0,
    },
}
