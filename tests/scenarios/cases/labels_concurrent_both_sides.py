"""Labels edited on both sides at once, body untouched: merged three-way like the
executor's Merge does (each side's additions and removals are applied), with label
writes for the difference only and no PUT of the page."""

from _labels import (
    ALPHA,
    body_untouched,
    labels_are,
    local_labels,
    mark_requests,
    no_page_put,
    remember_file,
    remote_labels,
    seed,
)

MERGED = ["keep", "local-new", "remote-new"]

SCENARIO = {
    "covers": ["B1", "B3"],
    "flavors": ["cloud", "dc"],
    "space": {"pages": [ALPHA]},
    "steps": [
        {"op": "call", "fn": seed("keep", "drop-local", "drop-remote")},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": remember_file},
        {"op": "call", "fn": local_labels(["keep", "drop-remote", "local-new"])},
        {"op": "call", "fn": remote_labels(add=["remote-new"], remove=["drop-remote"])},
        {"op": "call", "fn": mark_requests},
        {"op": "sync", "applied": ["merged"], "no_errors": True},
        {"op": "call", "fn": no_page_put},
        {"op": "call", "fn": body_untouched},
        {"op": "call", "fn": labels_are(MERGED)},
    ],
    "expect": {"pages": {"a": {"version": 1}}},
    "checks": [labels_are(MERGED)],
}
