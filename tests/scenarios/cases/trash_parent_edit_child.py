from _pages import BASIC

SCENARIO = {
    "covers": ["B2", "C4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "c", "append": "Gamma edited while its parent was trashed."},
        {"op": "remote.trash", "page": "b"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {
            "b": None,
            "c": {"path": "Gamma.md", "contains": ["while its parent was trashed"]},
        },
        "pages": {"b": {"status": "trashed"}, "c": {"parent": "home", "version": 2}},
        "local_trash": {"contains": ["Beta body."]},
    },
}
