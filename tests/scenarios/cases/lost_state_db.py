"""The state database is lost: nothing is deleted, same pages re-link, differing ones conflict.
Labels on either side of a re-linked page are kept on both (no base: the union)."""

import shutil

from _labels import labels_are, local_labels, remote_labels


def drop_state(ctx):
    shutil.rmtree(ctx.state_dir)


def drop_copies(ctx):
    from scenarios.runner import conflict_copies

    for p in conflict_copies(ctx.docs).values():
        p.unlink()


def no_deletions(ctx):
    assert all(c.status == "current" for c in ctx.store.all_content("page"))
    assert not any(k.startswith("DELETE") for k in ctx.emu.requests)
    assert not any(k.startswith("POST") and "pages" in k for k in ctx.emu.requests), (
        ctx.emu.requests
    )


SCENARIO = {
    "covers": ["A5"],
    "sync": {"on_conflict": "keep-both"},
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha same.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta base.</p>"},
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": drop_state},
        {"op": "call", "fn": local_labels(["local-label"])},
        {"op": "call", "fn": remote_labels(add=["remote-label"])},
        {"op": "local.edit", "page": "b", "replace": ["Beta base.", "Beta local."]},
        {"op": "remote.edit", "page": "b", "body": "<p>Beta remote.</p>"},
        {"op": "reset_counts"},
        {"op": "sync"},
        {"op": "call", "fn": no_deletions},
        {
            "op": "assert",
            "expect": {
                "conflict_copies": {"count": 1, "contains": ["Beta local."]},
                "files": {"b": {"contains": ["Beta remote."]}},
            },
        },
        # the user reads the copy and deletes it: the conflict ends
        {"op": "call", "fn": drop_copies},
    ],
    "expect": {
        "files": {"a": {"contains": ["Alpha same."]}},
        "pages": {"a": {"version": 1}, "b": {"status": "current"}},
        "conflict_copies": 0,
        "edits_kept": False,
    },
    "checks": [labels_are(["local-label", "remote-label"])],
}
