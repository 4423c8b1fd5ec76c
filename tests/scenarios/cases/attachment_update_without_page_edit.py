"""A new version of an attachment uploaded in Confluence without editing the page (the
"upload a new version" button): the local file must follow on the next full run (the
attachment change feed names the page), on Cloud and Data Center."""

from scenarios.runner import Ctx


def add_remote(ctx: Ctx) -> None:
    with ctx.store.act_as("colleague@example.com"):
        att = ctx.store.add_attachment(ctx.pid("a"), "diagram.txt", b"diagram v1\n")
        c = ctx.store.get(ctx.pid("a"))
        ctx.store.update_content(c.id, body=c.body + "<p>See the diagram.</p>")
    ctx.captured["att"] = att.id


def remote_new_version(ctx: Ctx) -> None:
    with ctx.store.act_as("colleague@example.com"):
        ctx.store.update_attachment_data(ctx.captured["att"], b"diagram v2 from Confluence\n")


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["F4"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": add_remote},
        {"op": "sync"},
        {"op": "call", "fn": remote_new_version},
        {"op": "sync"},
        {"op": "sync"},
    ],
    "expect": {"paths": {"Alpha.attachments/diagram.txt": {"contains": ["diagram v2"]}}},
}
