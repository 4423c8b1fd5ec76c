from _pages import BASIC


def trashed_not_purged(ctx):
    routes = [k for k in ctx.emu.requests if k.startswith("DELETE")]
    page = ctx.page("a")
    assert page.status == "trashed", page.status
    assert not any("purge" in k for k in routes), routes


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.delete", "page": "a"},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": trashed_not_purged},
        # Confluence's trash can give it back: restoring brings the file back.
        {"op": "remote.restore", "page": "a"},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "files": {"a": {"contains": ["Alpha middle."]}},
        "pages": {"a": {"status": "current", "version": 1}},
    },
}
