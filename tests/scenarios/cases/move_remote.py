from _pages import BASIC

SCENARIO = {
    "covers": ["F4", "C5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "a", "append": "Local edit before the remote move."},
        {"op": "remote.move", "page": "a", "to": "c"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {"a": {"path": "Beta/Gamma/Alpha.md", "contains": ["before the remote move"]}},
        "pages": {"a": {"parent": "c", "contains": ["before the remote move"]}},
        "paths": {"Alpha.md": None},
    },
}
