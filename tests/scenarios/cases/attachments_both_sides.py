"""Attachments (with page edits, as an editor's upload makes): a remote attachment is
downloaded beside its page; a new remote version replaces the local file; a file added
locally is uploaded; unchanged files are never uploaded again."""

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
        c = ctx.store.get(ctx.pid("a"))
        ctx.store.update_content(c.id, body=c.body + "<p>Diagram updated.</p>")


def add_local(ctx: Ctx) -> None:
    folder = ctx.must_file("a").with_suffix(".attachments")
    assert (folder / "diagram.txt").read_bytes() == b"diagram v2 from Confluence\n"
    (folder / "notes.txt").write_bytes(b"notes written locally\n")


def uploaded(ctx: Ctx) -> None:
    names = {a.filename: a for a in ctx.store.attachments_of(ctx.pid("a"))}
    assert "notes.txt" in names, sorted(names)
    assert names["notes.txt"].versions[-1].data == b"notes written locally\n"
    assert len(names["diagram.txt"].versions) == 2, len(names["diagram.txt"].versions)


SCENARIO = {
    "covers": ["D2", "C4"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": add_remote},
        {"op": "sync"},
        {
            "op": "assert",
            "expect": {"paths": {"Alpha.attachments/diagram.txt": {"contains": ["diagram v1"]}}},
        },
        {"op": "call", "fn": remote_new_version},
        {"op": "sync"},
        {"op": "call", "fn": add_local},
        {"op": "sync"},
        {"op": "call", "fn": uploaded},
    ],
    "expect": {"paths": {"Alpha.attachments/notes.txt": {"contains": ["notes written locally"]}}},
    "checks": [uploaded],
}
