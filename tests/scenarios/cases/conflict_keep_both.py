from _pages import BASIC


def no_copy_pushed(ctx):
    titles = [c.title for c in ctx.store.all_content("page")]
    assert not any("conflict" in t for t in titles), titles


def delete_copies(ctx):
    from scenarios.runner import conflict_copies

    for p in conflict_copies(ctx.docs).values():
        p.unlink()


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B1", "B6"],
    "sync": {"on_conflict": "keep-both"},
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.edit",
            "page": "a",
            "replace": ["Alpha middle.", "Alpha middle, local wording."],
        },
        {
            "op": "remote.edit",
            "page": "a",
            "replace": ["Alpha middle.", "Alpha middle, remote wording."],
        },
        {"op": "sync", "applied": ["conflict"]},
        {
            "op": "assert",
            "expect": {
                "files": {
                    "a": {"contains": ["remote wording"], "absent": ["local wording", "<<<<<<<"]}
                },
                "conflict_copies": {"count": 1, "contains": ["local wording"]},
                "pages": {"a": {"version": 2}},
            },
        },
        {"op": "sync"},
        {"op": "call", "fn": no_copy_pushed},
        {"op": "assert", "expect": {"conflict_copies": 1, "conflicts": 1}},
        {"op": "call", "fn": delete_copies},
    ],
    "expect": {
        "files": {"a": {"contains": ["remote wording"]}},
        "pages": {"a": {"version": 2}},
        "conflict_copies": 0,
        "edits_kept": False,
    },
    "checks": [no_copy_pushed],
}
