"""An attachment file deleted locally while a new version was uploaded in Confluence: the
remote change beats the local delete, the new version comes back and nothing is deleted."""

from _attachments import attach, folder, new_remote_version, no_attachment_deleted, remote


def setup(ctx) -> None:
    attach(ctx, "a", {"diagram.txt": b"diagram v1\n"})


def both(ctx) -> None:
    (folder(ctx, "a") / "diagram.txt").unlink()
    new_remote_version(ctx, "diagram.txt", b"diagram v2 from Confluence\n")


def came_back(ctx) -> None:
    assert (folder(ctx, "a") / "diagram.txt").read_bytes() == b"diagram v2 from Confluence\n"
    assert remote(ctx, "diagram.txt").status == "current"
    no_attachment_deleted(ctx)


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B2"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": both},
        {"op": "reset_counts"},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": came_back},
    ],
    "expect": {"paths": {"Alpha.attachments/diagram.txt": {"contains": ["diagram v2"]}}},
    "checks": [came_back],
}
