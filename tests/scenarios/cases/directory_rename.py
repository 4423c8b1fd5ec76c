"""A folder of 20 pages renamed locally (file and folder): pages keep their ids and bodies,
nothing is trashed on either side."""

import os

from scenarios.runner import Ctx

CHILDREN = [
    {"key": f"k{i}", "title": f"Child {i:02d}", "body": f"<p>Child {i} body.</p>", "parent": "p"}
    for i in range(20)
]


def rename_folder(ctx: Ctx) -> None:
    os.rename(ctx.docs / "Parent.md", ctx.docs / "Renamed Parent.md")
    os.rename(ctx.docs / "Parent", ctx.docs / "Renamed Parent")


def nothing_trashed(ctx: Ctx) -> None:
    assert all(c.status == "current" for c in ctx.store.all_content("page"))
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests), ctx.emu.requests
    for i in range(20):
        c = ctx.page(f"k{i}")
        assert str(c.parent_id) == ctx.pid("p"), (c.title, c.parent_id)
        path = ctx.must_file(f"k{i}")
        assert f"Child {i} body." in path.read_text()
        assert path.parent.name == "Renamed Parent", path


SCENARIO = {
    "covers": ["C5", "E5"],
    "space": {"pages": [{"key": "p", "title": "Parent", "body": "<p>Parent.</p>"}, *CHILDREN]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": rename_folder},
        {"op": "sync"},
        {"op": "call", "fn": nothing_trashed},
    ],
    "expect": {"page_count": 22},
    "checks": [nothing_trashed],
}
