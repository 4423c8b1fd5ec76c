from _pages import BASIC

SCENARIO = {
    "covers": ["E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "remote.rename", "page": "b", "title": "BETA"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {"b": {"path": "BETA.md", "title": "BETA"}, "c": {"path": "BETA/Gamma.md"}},
        "paths": {"Beta.md": None},
        "page_count": 4,
    },
}
