"""A page with attachments trashed in Confluence, then restored there: its file and its
attachments come back, and no attachment is read as deleted on the way."""

from _attachments import attach, no_attachment_deleted


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n"})


def in_local_trash(ctx) -> None:
    assert not (ctx.docs / "Alpha.attachments").exists()
    assert [p.read_bytes() for p in ctx.trash.rglob("diagram.txt")] == [b"diagram v1\n"]


def back(ctx) -> None:
    assert (ctx.docs / "Alpha.attachments" / "diagram.txt").read_bytes() == b"diagram v1\n"
    no_attachment_deleted(ctx)


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C4"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "reset_counts"},
        {"op": "remote.trash", "page": "a"},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": in_local_trash},
        {"op": "remote.restore", "page": "a"},
        {"op": "sync", "in_sync": True},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": back},
    ],
    "expect": {
        "files": {"a": {"path": "Alpha.md"}},
        "pages": {"a": {"status": "current"}},
        "paths": {"Alpha.attachments/diagram.txt": {"contains": ["diagram v1"]}},
    },
    "checks": [back],
}
