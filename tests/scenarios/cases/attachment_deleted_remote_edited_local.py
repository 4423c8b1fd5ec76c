"""An attachment deleted in Confluence while its file was edited locally: the edit beats
the delete, the edited file is uploaded again and stays."""

from _attachments import attach, folder, trash_remote


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n"})


def both(ctx) -> None:
    (folder(ctx, "a") / "diagram.txt").write_bytes(b"diagram edited locally\n")
    trash_remote(ctx, "diagram.txt")


def uploaded_again(ctx) -> None:
    path = folder(ctx, "a") / "diagram.txt"
    assert path.read_bytes() == b"diagram edited locally\n"
    current = [
        a
        for a in ctx.store.attachments_of(ctx.pid("a"))
        if a.filename == "diagram.txt" and a.status == "current"
    ]
    assert len(current) == 1 and current[0].versions[-1].data == b"diagram edited locally\n"
    trash = list(ctx.trash.rglob("diagram.txt")) if ctx.trash.is_dir() else []
    assert trash == [], trash


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B2"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": both},
        {"op": "sync", "pages": ["a"], "in_sync": True},  # the webhook's hint
        {"op": "call", "fn": uploaded_again},
        {"op": "sync", "in_sync": True, "applied": []},
    ],
    "expect": {"paths": {"Alpha.attachments/diagram.txt": {"contains": ["edited locally"]}}},
    "checks": [uploaded_again],
}
