"""A page and its child folder deleted locally (rm -r): both pages go to Confluence's trash,
restorable; deleting only a parent's file while its children stay keeps the children."""

import shutil

from _pages import BASIC


def rm_subtree(ctx):
    ctx.must_file("b").unlink()
    shutil.rmtree(ctx.docs / "Beta")


SCENARIO = {
    "covers": ["C4", "E5"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": rm_subtree},
        {"op": "sync"},
    ],
    "expect": {
        "files": {"b": None, "c": None},
        "pages": {
            "b": {"status": "trashed"},
            "c": {"status": "trashed"},
            "a": {"status": "current"},
        },
    },
}
