from _pages import BASIC

SCENARIO = {
    "covers": ["B1", "B4"],
    "sync": {"on_conflict": "local"},
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
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "files": {"a": {"contains": ["local wording"], "absent": ["remote wording", "<<<<<<<"]}},
        # the remote wording was overridden on purpose but stays in Confluence's history (v2)
        "pages": {"a": {"version": 3, "contains": ["local wording"]}},
        "history_contains": {"a": ["remote wording"]},
        "conflict_copies": 0,
    },
}
