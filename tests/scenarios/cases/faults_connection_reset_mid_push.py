"""Connections reset mid-push, half of them after Confluence applied the PUT: no edit is lost,
none is applied twice, and no false conflict appears."""

import random

import httpx

MARKERS = [f"Pushed through resets, page {i}." for i in range(5)]


class ResettingTransport(httpx.AsyncBaseTransport):
    """Resets every other PUT: before sending (alternately) or after the server answered."""

    def __init__(self, seed: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rng = random.Random(seed)
        self.resets = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and self.rng.random() < 0.5:
            self.resets += 1
            if self.rng.random() < 0.5:
                raise httpx.ConnectError("connection reset by peer (injected)", request=request)
            response = await self.inner.handle_async_request(request)
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset by peer (injected)", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


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
    ctx.transport = ResettingTransport(seed=3)


def stop_resets(ctx):
    assert ctx.transport.resets > 0
    ctx.transport = None


def once_each(ctx):
    for pid, marker in zip(ctx.captured["ids"], MARKERS, strict=True):
        page = ctx.store.get(pid)
        with_marker = [v.number for v in page.versions if marker in v.body]
        assert len(with_marker) == 1 and page.version.number == 2, (page.title, with_marker)


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["A2", "F5"],
    "space": {"seeded": 8},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": edit_five},
        {"op": "sync"},
        {"op": "sync"},
        {"op": "sync"},
        {"op": "call", "fn": stop_resets},
    ],
    "expect": {"conflict_copies": 0},
    "checks": [once_each],
}
