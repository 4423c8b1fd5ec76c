from _pages import BASIC


def keep_bytes(ctx):
    ctx.captured["bytes"] = ctx.must_file("a").read_bytes()


def bytes_in_trash(ctx):
    found = [p for p in ctx.trash.rglob("*.md") if p.read_bytes() == ctx.captured["bytes"]]
    assert found, list(ctx.trash.rglob("*"))


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C4", "F4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": keep_bytes},
        {"op": "remote.trash", "page": "a"},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": bytes_in_trash},
    ],
    "expect": {"files": {"a": None}, "pages": {"a": {"status": "trashed"}}},
}
