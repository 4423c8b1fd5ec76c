"""An attachment file deleted locally: the attachment moves to the Confluence trash
(recoverable there), the page and its other attachments stay."""

from _attachments import attach, folder, remote


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n", "keep.txt": b"stays\n"})


def delete_locally(ctx) -> None:
    (folder(ctx, "a") / "diagram.txt").unlink()
    ctx.captured["page_version"] = ctx.page("a").version.number


def trashed_in_confluence(ctx) -> None:
    assert remote(ctx, "diagram.txt").status == "trashed"
    assert remote(ctx, "keep.txt").status == "current"
    assert ctx.page("a").status == "current"
    assert ctx.page("a").version.number == ctx.captured["page_version"]
    assert not (folder(ctx, "a") / "diagram.txt").exists()
    applied = [c.event_type for c in ctx.reports[-1].applied]
    assert applied == ["attachment_trashed_remote"], applied


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C4"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": delete_locally},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": trashed_in_confluence},
        {"op": "sync", "in_sync": True, "applied": []},
    ],
    "expect": {
        "paths": {
            "Alpha.attachments/diagram.txt": None,
            "Alpha.attachments/keep.txt": {"contains": ["stays"]},
        }
    },
}
