from _pages import BASIC

SCENARIO = {
    "covers": ["B2"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.edit",
            "page": "a",
            "append": "A local edit made while the page was trashed.",
        },
        {"op": "remote.trash", "page": "a"},
        {"op": "sync"},
    ],
    "expect": {
        # edit beats delete: the page comes back from the trash carrying the edit
        "files": {"a": {"contains": ["while the page was trashed"]}},
        "pages": {"a": {"status": "current", "contains": ["while the page was trashed"]}},
    },
}
