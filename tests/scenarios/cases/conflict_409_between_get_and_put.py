"""Confluence moves on between syncd's read and its write: the PUT gets 409 and the
newer version is merged, never overwritten blind."""


def edit_before_put(ctx, client):
    real = client.update_page
    state = ctx.captured.setdefault("injected", {"done": False})

    async def racing_update(page_id, **kwargs):
        if not state["done"] and page_id == ctx.pid("a"):
            state["done"] = True
            with ctx.store.act_as("colleague@example.com"):
                c = ctx.store.get(page_id)
                ctx.store.update_content(
                    page_id,
                    body=c.body.replace("Alpha last paragraph.", "Alpha last, raced in remotely."),
                )
        return await real(page_id, **kwargs)

    client.update_page = racing_update


def arm(ctx):
    ctx.client_hooks.append(edit_before_put)
    ctx.edits.append("Alpha last, raced in remotely.")


def injected(ctx):
    assert ctx.captured["injected"]["done"]
    assert any(k.startswith("PUT") for k in ctx.emu.requests)
    ctx.client_hooks.clear()


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B4"],
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
            "op": "local.edit",
            "page": "a",
            "replace": ["Alpha first paragraph.", "Alpha first, edited locally."],
        },
        {"op": "call", "fn": arm},
        {"op": "sync"},
        {"op": "call", "fn": injected},
    ],
    "expect": {
        "files": {"a": {"contains": ["edited locally", "raced in remotely"]}},
        "pages": {"a": {"contains": ["edited locally", "raced in remotely"]}},
        "conflict_copies": 0,
    },
}
