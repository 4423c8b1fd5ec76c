from _pages import BASIC

SCENARIO = {
    "covers": ["B2"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.delete", "page": "a"},
        {
            "op": "remote.edit",
            "page": "a",
            "append": "A remote edit made while the file was deleted.",
        },
        {"op": "sync"},
    ],
    "expect": {
        "files": {"a": {"contains": ["while the file was deleted"]}},
        "pages": {"a": {"status": "current", "version": 2}},
    },
}
