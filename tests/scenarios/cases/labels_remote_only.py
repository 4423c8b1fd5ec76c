"""Labels added and removed in Confluence only (no new page version): the next sync
rewrites the front matter, leaves the body byte for byte (here a file an editor saved
with CRLF line ends), writes nothing to Confluence, and the sync after it makes no
request that writes. A targeted run (webhook hint) decides the same way."""

from _labels import (
    ALPHA,
    body_untouched,
    crlf,
    labels_are,
    mark_requests,
    no_remote_writes,
    remember_file,
    remote_labels,
    seed,
)

SCENARIO = {
    "covers": ["D1", "B1"],
    "flavors": ["cloud", "dc"],
    "space": {"pages": [ALPHA]},
    "steps": [
        {"op": "call", "fn": seed("keep", "drop-me")},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": crlf},
        {"op": "sync", "applied": [], "in_sync": True},
        {"op": "call", "fn": remember_file},
        {"op": "call", "fn": remote_labels(add=["added-remotely"], remove=["drop-me"])},
        {"op": "call", "fn": mark_requests},
        {"op": "sync", "applied": ["pulled"], "no_errors": True},
        {"op": "call", "fn": no_remote_writes},
        {"op": "call", "fn": body_untouched},
        {"op": "call", "fn": labels_are(["keep", "added-remotely"])},
        # the second sync: nothing to do, no write request
        {"op": "call", "fn": mark_requests},
        {"op": "sync", "applied": [], "in_sync": True},
        {"op": "call", "fn": no_remote_writes},
        # the last labels removed in Confluence, seen by a targeted run (a webhook hint
        # for the page): the same decision, the front matter loses them too
        {"op": "call", "fn": remote_labels(remove=["keep", "added-remotely"])},
        {"op": "call", "fn": mark_requests},
        {"op": "sync", "pages": ["a"], "applied": ["pulled"]},
        {"op": "call", "fn": no_remote_writes},
        {"op": "call", "fn": body_untouched},
        {"op": "call", "fn": labels_are([])},
    ],
    "expect": {"pages": {"a": {"version": 1}}},
}
