"""A page file renamed locally takes its attachments folder along (no attachment is
deleted), and so does a rename made in Confluence and pulled."""

import os

from _attachments import attach, no_attachment_deleted


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n", "notes.txt": b"notes\n"})


def rename_file(ctx) -> None:
    os.rename(ctx.docs / "Alpha.md", ctx.docs / "Alpha renamed.md")


def followed(ctx, stem: str) -> None:
    assert not (ctx.docs / "Alpha.attachments").exists()
    got = sorted(p.name for p in (ctx.docs / f"{stem}.attachments").iterdir())
    assert got == ["diagram.txt", "notes.txt"], got
    no_attachment_deleted(ctx)


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C5"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "reset_counts"},
        {"op": "call", "fn": rename_file},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": lambda ctx: followed(ctx, "Alpha renamed")},
        {"op": "sync", "in_sync": True, "applied": []},
        {"op": "remote.rename", "page": "a", "title": "Beta"},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": lambda ctx: followed(ctx, "Beta")},
    ],
    "expect": {
        "files": {"a": {"path": "Beta.md"}},
        "paths": {"Beta.attachments/diagram.txt": {"contains": ["diagram v1"]}},
    },
}
