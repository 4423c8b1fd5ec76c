"""The daemon's targeted runs (webhook hints by page id, watcher paths) decide like a full
run: a remote edit by id, a local edit by path, a local delete by path, a remote trash by id."""

from _pages import BASIC

SCENARIO = {
    "covers": ["D1", "D2", "F4"],
    "space": {"pages": [*BASIC, {"key": "d", "title": "Delta", "body": "<p>Delta body.</p>"}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "remote.edit", "page": "a", "append": "Alpha by webhook hint."},
        {"op": "sync", "pages": ["a"], "applied": ["pulled"]},
        {"op": "local.edit", "page": "c", "append": "Gamma by watcher path."},
        {"op": "sync", "paths": ["Beta/Gamma.md"], "applied": ["pushed"]},
        {"op": "local.delete", "page": "d"},
        {"op": "sync", "paths": ["Delta.md"], "applied": ["trashed_remote"]},
        {"op": "remote.trash", "page": "b"},
        {"op": "sync", "pages": ["b"]},
        # a hint for a page whose version did not change costs no write
        {"op": "sync", "pages": ["a"], "applied": []},
    ],
    "expect": {
        "files": {
            "a": {"contains": ["Alpha by webhook hint."]},
            "d": None,
            "b": None,
            "c": {"contains": ["Gamma by watcher path."]},
        },
        "pages": {
            "a": {"version": 2},
            "c": {"version": 2},
            "d": {"status": "trashed"},
            "b": {"status": "trashed"},
        },
    },
}
