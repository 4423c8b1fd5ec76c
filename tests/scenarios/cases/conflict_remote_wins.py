from _pages import BASIC

SCENARIO = {
    "covers": ["B1"],
    "sync": {"on_conflict": "remote"},
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
        {"op": "sync"},
    ],
    "expect": {
        "files": {"a": {"contains": ["remote wording"], "absent": ["local wording"]}},
        "pages": {"a": {"version": 2, "contains": ["remote wording"]}},
        # the overridden local text is kept in the local trash, never just dropped
        "local_trash": {"contains": ["local wording"]},
        "conflict_copies": 0,
    },
}
