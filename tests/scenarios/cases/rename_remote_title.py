from _pages import BASIC

SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["C5", "F4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "remote.rename", "page": "b", "title": "Beta From Confluence"},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "files": {
            "b": {"path": "Beta From Confluence.md", "title": "Beta From Confluence"},
            "c": {"path": "Beta From Confluence/Gamma.md", "contains": ["Gamma body."]},
        },
        "paths": {"Beta.md": None, "Beta/Gamma.md": None},
        "pages": {"b": {"version": 2}, "c": {"version": 1}},
    },
}
