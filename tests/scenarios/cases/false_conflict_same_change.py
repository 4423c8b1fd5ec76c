from _pages import BASIC


def no_put(ctx):
    puts = {k: v for k, v in ctx.captured["delta"].items() if k.startswith("PUT")}
    assert puts == {}, ctx.captured["delta"]


def mark(ctx):
    ctx.captured["before"] = dict(ctx.emu.requests)


def measure(ctx):
    from scenarios.runner import diff_counts

    ctx.captured["delta"] = diff_counts(ctx.captured["before"], dict(ctx.emu.requests))


SCENARIO = {
    "covers": ["B3"],
    "space": {"pages": BASIC},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "local.edit", "page": "b", "replace": ["Beta body.", "Beta body, same change."]},
        {"op": "remote.edit", "page": "b", "body": "<p>Beta body, same change.</p>"},
        {"op": "call", "fn": mark},
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": measure},
        {"op": "call", "fn": no_put},
    ],
    "expect": {
        "files": {"b": {"contains": ["same change"]}},
        "pages": {"b": {"version": 2}},
        "conflict_copies": 0,
    },
}
