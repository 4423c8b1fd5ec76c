"""The same new title created on both sides before a sync: two pages are impossible
(titles are unique per space), so the local file links to the existing page or is held
with a clear error; nothing is lost."""

from _pages import BASIC

SCENARIO = {
    "covers": ["A5", "B1"],
    "sync": {"on_conflict": "keep-both"},
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {
            "op": "local.write",
            "path": "Omega.md",
            "title": "Omega",
            "body": "Omega written locally.\n",
        },
        {
            "op": "remote.create",
            "key": "o",
            "title": "Omega",
            "body": "<p>Omega written remotely.</p>",
        },
        {"op": "sync"},
        {"op": "sync"},
    ],
    "expect": {
        "titles": {"Omega": {}},
        "page_count": 5,
        "converged": False,
        "sides_equal": False,
    },
}
