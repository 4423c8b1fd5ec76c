from _pages import BASIC

SCENARIO = {
    "covers": ["A3", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.write",
            "path": "Delta.md",
            "title": "Delta",
            "body": "Delta written locally.\n",
        },
        {"op": "local.write", "path": "Beta/Epsilon.md", "body": "Epsilon without front matter.\n"},
        {"op": "sync"},
        {"op": "sync", "in_sync": True, "applied": []},
    ],
    "expect": {
        "titles": {
            "Delta": {"contains": ["Delta written locally."]},
            "Epsilon": {"contains": ["Epsilon without front matter."]},
        },
        "page_count": 6,
    },
}
