"""Shared starting spaces for the scenario cases."""

BASIC = [
    {
        "key": "a",
        "title": "Alpha",
        "body": "<p>Alpha first paragraph.</p><p>Alpha middle.</p><p>Alpha last paragraph.</p>",
    },
    {"key": "b", "title": "Beta", "body": "<p>Beta body.</p>"},
    {"key": "c", "title": "Gamma", "body": "<p>Gamma body.</p>", "parent": "b"},
]
