from _pages import BASIC

SCENARIO = {
    "covers": ["C4", "F4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        # purging Beta lifts its child Gamma to the home page
        {"op": "remote.purge", "page": "b"},
        {"op": "sync"},
    ],
    "expect": {
        "files": {"b": None, "c": {"path": "Gamma.md", "contains": ["Gamma body."]}},
        "pages": {"b": None},
        "local_trash": {"contains": ["Beta body."]},
    },
}
