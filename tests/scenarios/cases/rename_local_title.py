from _pages import BASIC

SCENARIO = {
    "covers": ["C5", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "b", "title": "Beta Renamed"},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "pages": {"b": {"title": "Beta Renamed", "version": 2}, "c": {"parent": "b", "version": 1}},
        # the file keeps the name the user gave it; its front matter carries the new title
        "files": {"b": {"title": "Beta Renamed"}, "c": {"contains": ["Gamma body."]}},
    },
}
