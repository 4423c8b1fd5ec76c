"""Confluence restarts under a running daemon (state persisted, same address): requests
in flight fail and are retried, the webhook registration survives, and a remote edit and a
local save made after the restart both go through."""

SCENARIO = {
    "covers": ["F3", "F4", "F5"],
    "slow": True,
    "persist": True,
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta.</p>"},
        ]
    },
    "steps": [
        {"op": "daemon.start"},
        {"op": "wait.file", "page": "b", "contains": "Beta."},
        {"op": "wait.quiet"},
        {"op": "emulator.restart"},
        {"op": "remote.edit", "page": "a", "append": "Remote edit after the restart."},
        {
            "op": "wait.file",
            "page": "a",
            "contains": "Remote edit after the restart.",
            "within": 30,
        },
        {"op": "local.edit", "page": "b", "append": "Local save after the restart."},
        {"op": "wait.page", "page": "b", "contains": "Local save after the restart.", "within": 30},
        {"op": "wait.quiet"},
        {"op": "daemon.status", "exit": 0},
        {"op": "daemon.stop"},
    ],
    "expect": {"pages": {"a": {"version": 2}, "b": {"version": 2}}},
}
