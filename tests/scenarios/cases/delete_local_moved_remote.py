from _pages import BASIC

SCENARIO = {
    "covers": ["B2", "C4"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.delete", "page": "a"},
        {"op": "remote.move", "page": "a", "to": "c"},
        {"op": "sync", "allow_delete": True},
    ],
    # the remote side changed the page after the delete: syncd keeps the page and restores
    # the file at its new place rather than trash what someone else just touched
    "expect": {
        "files": {"a": {"path": "Beta/Gamma/Alpha.md", "contains": ["Alpha middle."]}},
        "pages": {"a": {"status": "current", "parent": "c"}},
    },
}
