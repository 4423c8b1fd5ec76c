"""503s on a third of the requests while five edits are pushed: every edit lands once.

The 503s carry no Retry-After (Confluence sends one with some transient 5xx, not all:
confluence-api.md §4), so the client backs off on its own schedule. The Retry-After form
is honoured in tests/confluence/test_client_emulator.py (persistent 503) and here in
faults_429_storm_first_sync; with it each 503 cost a whole second of this scenario."""

MARKERS = [f"Pushed through 503s, page {i}." for i in range(5)]


def edit_five(ctx):
    from scenarios.runner import page_files, read_doc

    from syncd.local import frontmatter

    files = [p for rel, p in page_files(ctx.docs).items() if rel != "README.md"][:5]
    ctx.captured["ids"] = []
    for marker, path in zip(MARKERS, files, strict=True):
        doc = read_doc(path)
        path.write_text(frontmatter.render(doc.meta, doc.body + "\n" + marker + "\n"))
        ctx.captured["ids"].append(str(doc.meta.page_id))
        ctx.edits.append(marker)


def once_each(ctx):
    for pid, marker in zip(ctx.captured["ids"], MARKERS, strict=True):
        page = ctx.store.get(pid)
        with_marker = [v for v in page.versions if marker in v.body]
        assert page.version.number == 2, (page.title, page.version.number)
        assert len(with_marker) == 1, (page.title, [v.number for v in with_marker])


SCENARIO = {
    "covers": ["A2", "F5"],
    "space": {"seeded": 8},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": edit_five},
        {
            "op": "faults",
            "set": {"error_rate": 0.35, "error_status": 503, "error_retry_after": None},
        },
        {"op": "sync"},
        {"op": "sync"},
        {"op": "faults", "set": {"error_rate": 0}},
    ],
    "expect": {"conflict_copies": 0},
    "checks": [once_each],
}
