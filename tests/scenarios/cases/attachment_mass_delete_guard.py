"""More than max_delete attachment files deleted locally: nothing is deleted in Confluence,
the run says why, and the deletions wait for allow_delete."""

from _attachments import attach, folder

NAMES = [f"file-{i}.txt" for i in range(4)]


def setup(ctx) -> None:
    attach(ctx, "a", {name: f"{name} body\n".encode() for name in NAMES})


def delete_all(ctx) -> None:
    for name in NAMES:
        (folder(ctx, "a") / name).unlink()


def nothing_deleted(ctx) -> None:
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests
    assert all(a.status == "current" for a in ctx.store.attachments_of(ctx.pid("a")))
    report = ctx.reports[-1]
    assert "4 attachments would be moved to the Confluence trash" in report.blocked_deletions
    assert "max_delete=2" in report.blocked_deletions
    assert len(report.blocked_attachments) == 4, report.blocked_attachments


def all_trashed(ctx) -> None:
    assert [a.status for a in ctx.store.attachments_of(ctx.pid("a"))] == ["trashed"] * 4
    assert (
        sorted(c.event_type for c in ctx.reports[-1].applied) == ["attachment_trashed_remote"] * 4
    )


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C1"],
    "sync": {"max_delete": 2},
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": setup},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": delete_all},
        {"op": "reset_counts"},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": nothing_deleted},
        {"op": "sync", "blocked": True, "in_sync": False},
        {"op": "call", "fn": nothing_deleted},
        {"op": "sync", "allow_delete": True, "blocked": False, "in_sync": True},
        {"op": "call", "fn": all_trashed},
    ],
    "expect": {"paths": {f"Alpha.attachments/{n}": None for n in NAMES}},
}
