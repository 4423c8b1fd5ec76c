"""A label added in Confluence while the body is edited locally: both are kept. The
local edit is pushed (the Markdown changed), the remote label reaches the front matter
and no label is written back."""

from _labels import ALPHA, labels_are, mark_requests, remote_labels, seed
from scenarios.runner import Ctx, diff_counts


def one_put_no_label_write(ctx: Ctx) -> None:
    delta = diff_counts(ctx.captured["requests"], dict(ctx.emu.requests))
    puts = sum(v for k, v in delta.items() if k.startswith("PUT"))
    label_writes = {k: v for k, v in delta.items() if "label" in k and not k.startswith("GET")}
    assert puts == 1 and label_writes == {}, delta


SCENARIO = {
    "covers": ["B1"],
    "flavors": ["cloud", "dc"],
    "space": {"pages": [ALPHA]},
    "steps": [
        {"op": "call", "fn": seed("keep")},
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "a", "append": "Local body edit beside a remote label."},
        {"op": "call", "fn": remote_labels(add=["remote-label"])},
        {"op": "call", "fn": mark_requests},
        {"op": "sync", "applied": ["merged"], "no_errors": True},
        {"op": "call", "fn": one_put_no_label_write},
        {"op": "call", "fn": labels_are(["keep", "remote-label"])},
    ],
    "expect": {
        "files": {"a": {"contains": ["Local body edit beside a remote label.", "Alpha two."]}},
        "pages": {"a": {"version": 2}},
    },
    "checks": [labels_are(["keep", "remote-label"])],
}
