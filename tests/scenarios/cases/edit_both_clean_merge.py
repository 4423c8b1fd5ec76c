from _pages import BASIC

SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B1", "B3"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.edit",
            "page": "a",
            "replace": ["Alpha first paragraph.", "Alpha first paragraph, edited locally."],
        },
        {
            "op": "remote.edit",
            "page": "a",
            "replace": ["Alpha last paragraph.", "Alpha last paragraph, edited remotely."],
        },
        {"op": "sync", "applied": ["merged"], "in_sync": True},
    ],
    "expect": {
        "files": {"a": {"contains": ["edited locally", "edited remotely"]}},
        "pages": {"a": {"version": 3, "contains": ["edited locally", "edited remotely"]}},
        "conflict_copies": 0,
    },
}
