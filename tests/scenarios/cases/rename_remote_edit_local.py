from _pages import BASIC

SCENARIO = {
    "covers": ["B1", "C5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "b", "append": "Beta edited locally while renamed remotely."},
        {"op": "remote.rename", "page": "b", "title": "Beta Renamed Remotely"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {
            "b": {"title": "Beta Renamed Remotely", "contains": ["while renamed remotely"]},
            "c": {"contains": ["Gamma body."]},
        },
        "pages": {"b": {"title": "Beta Renamed Remotely", "contains": ["while renamed remotely"]}},
        "page_count": 4,
        "conflict_copies": 0,
    },
}
