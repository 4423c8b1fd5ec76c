"""An attachment deleted in Confluence (no page edit; the attachment_trashed webhook hints
its page): the unchanged local file moves to the local trash, `syncd restore` brings it
back, and the next sync uploads it again."""

from _attachments import attach, folder, remote, syncd_restore, trash_remote


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n", "keep.txt": b"stays\n"})


def delete_in_confluence(ctx) -> None:
    assert (folder(ctx, "a") / "diagram.txt").read_bytes() == b"diagram v1\n"
    trash_remote(ctx, "diagram.txt")


def in_local_trash(ctx) -> None:
    assert not (folder(ctx, "a") / "diagram.txt").exists()
    assert (folder(ctx, "a") / "keep.txt").read_bytes() == b"stays\n"
    found = [p for p in ctx.trash.rglob("diagram.txt") if p.read_bytes() == b"diagram v1\n"]
    assert found, list(ctx.trash.rglob("*"))
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests
    applied = [c.event_type for c in ctx.reports[-1].applied]
    assert applied == ["attachment_trashed_local"], applied


def restore_it(ctx) -> None:
    printed = syncd_restore(ctx, "Alpha.attachments/diagram.txt")
    assert "uploads the attachment again" in printed, printed
    assert (folder(ctx, "a") / "diagram.txt").read_bytes() == b"diagram v1\n"


def back_in_confluence(ctx) -> None:
    att = remote(ctx, "diagram.txt")
    assert att.status == "current" and att.versions[-1].data == b"diagram v1\n"


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C4"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": delete_in_confluence},
        {"op": "reset_counts"},
        {"op": "sync", "pages": ["a"], "in_sync": True},  # the webhook's hint
        {"op": "call", "fn": in_local_trash},
        {"op": "sync", "in_sync": True, "applied": []},
        {"op": "call", "fn": restore_it},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": back_in_confluence},
    ],
    "expect": {"paths": {"Alpha.attachments/diagram.txt": {"contains": ["diagram v1"]}}},
    "checks": [back_in_confluence],
}
