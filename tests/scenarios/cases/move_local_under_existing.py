from _pages import BASIC

SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C5", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.rename", "page": "a", "to": "Beta/Alpha.md"},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "files": {"a": {"path": "Beta/Alpha.md"}},
        "pages": {"a": {"parent": "b", "contains": ["Alpha middle."]}},
        "page_count": 4,
    },
}
