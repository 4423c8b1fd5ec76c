"""Both sides change while a run is under way (bisync's test_volatile): a remote edit to a
page already pulled, a remote page created, a local file created and a local edit, all in
the middle of the run. None is lost; the next runs pick them all up."""

from scenarios.runner import Ctx, read_doc

from syncd.local import frontmatter


def meddle_mid_run(ctx: Ctx, client) -> None:
    real = client.get_page
    state = ctx.captured.setdefault("meddled", {"done": False})

    async def get_and_meddle(page_id, **kwargs):
        page = await real(page_id, **kwargs)
        if not state["done"] and page_id == ctx.pid("c"):
            state["done"] = True
            with ctx.store.act_as("colleague@example.com"):
                a = ctx.store.get(ctx.pid("a"))
                ctx.store.update_content(a.id, body=a.body + "<p>Remote edit mid-run.</p>")
                ctx.store.create_page(
                    ctx.emu.space_key, "Born Mid-run", "<p>Remote page mid-run.</p>"
                )
            (ctx.docs / "Local Mid-run.md").write_text("Local file mid-run.\n")
            path = ctx.file_of("b")
            if path is not None:
                doc = read_doc(path)
                path.write_text(frontmatter.render(doc.meta, doc.body + "\nLocal edit mid-run.\n"))
        return page

    client.get_page = get_and_meddle


def arm(ctx: Ctx) -> None:
    ctx.client_hooks.append(meddle_mid_run)
    ctx.edits += ["Remote edit mid-run.", "Remote page mid-run.", "Local file mid-run."]


def disarm(ctx: Ctx) -> None:
    assert ctx.captured["meddled"]["done"]
    ctx.client_hooks.clear()


SCENARIO = {
    "covers": ["B5", "F4", "E4"],
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta.</p>"},
            {"key": "c", "title": "Gamma", "body": "<p>Gamma.</p>"},
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "remote.edit", "page": "c", "append": "Gamma edited before the run."},
        {"op": "call", "fn": arm},
        {"op": "sync"},
        {"op": "call", "fn": disarm},
    ],
    "expect": {
        "files": {
            "a": {"contains": ["Remote edit mid-run."]},
            "c": {"contains": ["Gamma edited before the run."]},
        },
        "titles": {"Born Mid-run": {}, "Local Mid-run": {"contains": ["Local file mid-run."]}},
        "page_count": 6,
    },
}
