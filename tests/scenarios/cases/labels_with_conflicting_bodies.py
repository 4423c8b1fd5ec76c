"""Labels added on both sides while the bodies conflict (`on_conflict: merge`): the file
gets markers and the merged labels, nothing is pushed while the markers remain, and once
they are resolved the local label goes to Confluence and the remote one stays (the
record keeps Confluence's labels as the base, so the merged set is still a local edit)."""

from _labels import ALPHA, labels_are, local_labels, remote_labels, seed
from scenarios.runner import Ctx, read_doc

MERGED = ["keep", "local-label", "remote-label"]


def local_side(ctx: Ctx) -> None:
    local_labels(["keep", "local-label"])(ctx)
    path = ctx.must_file("a")
    path.write_text(path.read_text().replace("Alpha two.", "Alpha two, local wording."))


def file_labels_merged(ctx: Ctx) -> None:
    assert set(read_doc(ctx.must_file("a")).meta.labels) == set(MERGED)
    assert set(ctx.page("a").labels) == {"keep", "remote-label"}  # nothing pushed yet


SCENARIO = {
    "covers": ["B1"],
    "flavors": ["cloud", "dc"],
    "sync": {"on_conflict": "merge"},
    "space": {"pages": [ALPHA]},
    "steps": [
        {"op": "call", "fn": seed("keep")},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": local_side},
        {"op": "remote.edit", "page": "a", "replace": ["Alpha two.", "Alpha two, remote wording."]},
        {"op": "call", "fn": remote_labels(add=["remote-label"])},
        {"op": "sync", "applied": ["conflict"], "in_sync": False},
        {"op": "call", "fn": file_labels_merged},
        {"op": "sync", "in_sync": False},  # held while the markers remain
        {"op": "call", "fn": file_labels_merged},
        {
            "op": "local.edit",
            "page": "a",
            "body": "Alpha one.\n\nAlpha two, both wordings.\n\nAlpha three.\n",
            "remember": False,
        },
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": labels_are(MERGED)},
    ],
    "expect": {
        "files": {"a": {"contains": ["both wordings"], "absent": ["<<<<<<<"]}},
        "pages": {"a": {"contains": ["both wordings"]}},
        "edits_kept": False,
    },
    "checks": [labels_are(MERGED)],
}
