from _pages import BASIC

SCENARIO = {
    "covers": ["B1"],
    "sync": {"on_conflict": "merge"},
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
        {"op": "sync", "applied": ["conflict"], "in_sync": False},
        {
            "op": "assert",
            "expect": {
                "markers": ["a"],
                "files": {"a": {"contains": ["local wording", "remote wording"]}},
                "pages": {
                    "a": {"version": 2, "contains": ["remote wording"], "absent": ["<<<<<<<"]}
                },
            },
        },
        # A second run while markers remain pushes nothing.
        {"op": "sync", "in_sync": False},
        {"op": "assert", "expect": {"pages": {"a": {"version": 2, "absent": ["<<<<<<<"]}}}},
        # The user resolves the markers: the resolution is pushed.
        {
            "op": "local.edit",
            "page": "a",
            "body": "Alpha first paragraph.\n\nAlpha middle, both wordings.\n\nAlpha last paragraph.\n",
            "remember": False,
        },
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "files": {"a": {"contains": ["both wordings"], "absent": ["<<<<<<<"]}},
        "pages": {
            "a": {"version": 3, "contains": ["both wordings"]},
        },
        "history_contains": {"a": ["local wording"]} if False else {"a": ["remote wording"]},
        "conflict_copies": 0,
        "edits_kept": False,
    },
    "checks": [],
}
