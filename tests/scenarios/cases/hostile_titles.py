"""Titles built to escape the folder or to hit reserved names stay inside it."""

TITLES = [
    "../../escape",
    "..",
    "/etc/passwd",
    "CON",
    "nul.txt",
    "a\\b\\c",
    ".hidden",
    "trailing dot.",
    "x" * 300,
    "Ünïcödé ☃ title",
    "tab\there",
]


def inside(ctx):
    root = ctx.docs.resolve()
    outside = [
        p
        for p in ctx.tmp.rglob("*")
        if p.is_file()
        and p.suffix == ".md"
        and not p.resolve().is_relative_to(root)
        and "state" not in p.parts
    ]
    assert outside == [], outside
    for i, _ in enumerate(TITLES):
        path = ctx.must_file(f"h{i}")
        assert path.resolve().is_relative_to(root), path
        assert len(path.name.encode()) <= 255, path.name
        assert not path.name.startswith("."), path.name


SCENARIO = {
    "covers": ["E5"],
    "space": {
        "pages": [
            {"key": f"h{i}", "title": t, "body": f"<p>hostile {i}</p>"}
            for i, t in enumerate(TITLES)
        ]
    },
    "steps": [
        {"op": "sync"},
        {"op": "call", "fn": inside},
        {"op": "local.edit", "page": "h0", "append": "Edited under a hostile title."},
        {"op": "sync"},
    ],
    "expect": {"pages": {"h0": {"version": 2, "contains": ["Edited under a hostile title."]}}},
    "checks": [inside],
}
