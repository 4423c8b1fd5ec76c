"""`iter_page_tree(..., with_labels=True)`: every listed page's global labels, or None
when they could not be loaded completely (never a shorter list), in both flavors."""

from __future__ import annotations

import httpx
import pytest

from syncd.confluence import ConfluenceClient, ConnectionSettings
from syncd.emulator.server import EmulatorServer

FLAVORS = ["cloud", "dc"]


def settings_for(emu) -> ConnectionSettings:
    return ConnectionSettings(
        base_url=emu.base_url,
        email=emu.user,
        token=emu.token,
        deployment="auto",
        backoff_base=0.01,
        backoff_cap=0.05,
        max_attempts=2,
        page_size=5,  # several server pages per listing
    )


async def labelled_space(emu) -> dict[str, str]:
    """Three fresh pages: a has two labels, b one, c only a team label."""
    store = emu.store
    ids = {}
    for key in ("a", "b", "c"):
        ids[key] = store.create_page(emu.space_key, f"Labelled {key}", "<p>x</p>").id
    store.add_label(ids["a"], "alpha")
    store.add_label(ids["a"], "beta")
    store.add_label(ids["b"], "beta")
    store.add_label(ids["c"], "mine", prefix="team")
    return ids


@pytest.mark.parametrize("flavor", FLAVORS)
async def test_listing_carries_global_labels_only_when_asked(flavor: str):
    async with EmulatorServer(flavor=flavor, pages=12, seed=5) as emu:
        ids = await labelled_space(emu)
        expected = {
            c.id: tuple(sorted(lb.name for lb in c.labels.values() if lb.prefix == "global"))
            for c in emu.store.all_content("page")
            if c.status == "current"
        }
        async with await ConfluenceClient.open(settings_for(emu)) as client:
            plain = [r async for r in client.iter_page_tree(emu.space_key)]
            assert plain and all(r.labels is None for r in plain)
            refs = [r async for r in client.iter_page_tree(emu.space_key, with_labels=True)]
            got = {r.id: tuple(sorted(r.labels)) for r in refs if r.labels is not None}
            assert [r.id for r in refs] == [r.id for r in plain]  # same tree, same order
            assert got == expected
            assert got[ids["a"]] == ("alpha", "beta") and got[ids["b"]] == ("beta",)
            assert got[ids["c"]] == ()  # a team label is not managed by the front matter
            page = await client.get_page(ids["c"], ancestors=False)
            assert page.labels == ()  # the same rule when a page is fetched


async def test_cloud_sweep_costs_one_request_per_label_in_use():
    async with EmulatorServer(flavor="cloud", pages=12, seed=5) as emu:
        await labelled_space(emu)
        in_use = {
            lb.id
            for c in emu.store.all_content("page")
            for lb in c.labels.values()
            if c.status == "current" and lb.prefix == "global"
        }
        async with await ConfluenceClient.open(settings_for(emu)) as client:
            emu.requests.clear()
            _ = [r async for r in client.iter_page_tree(emu.space_key, with_labels=True)]
        per_label = sum(v for k, v in emu.requests.items() if "/labels/" in k and "/pages" in k)
        sweeps = sum(v for k, v in emu.requests.items() if "/content/labels" in k)
        assert per_label == len(in_use) and sweeps == 1, dict(emu.requests)


class FailLabelPages(httpx.AsyncBaseTransport):
    """Answers 403 to one label's page listing; everything else goes to the emulator."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/api/v2/labels/" in path and path.endswith("/pages") and not self.failed:
            self.failed += 1
            return httpx.Response(403, json={"errors": [{"status": 403, "title": "no"}]})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_cloud_sweep_failure_reports_every_page_unknown_not_unlabelled():
    async with EmulatorServer(flavor="cloud", pages=12, seed=5) as emu:
        await labelled_space(emu)
        transport = FailLabelPages()
        client = await ConfluenceClient.open(settings_for(emu), transport=transport)
        try:
            refs = [r async for r in client.iter_page_tree(emu.space_key, with_labels=True)]
        finally:
            await client.aclose()
        assert transport.failed == 1
        assert len(refs) == 16 and all(r.labels is None for r in refs)


async def test_dc_truncated_label_expansion_is_completed_or_unknown():
    async with EmulatorServer(flavor="dc", pages=3, seed=5) as emu:
        ids = await labelled_space(emu)
        async with await ConfluenceClient.open(settings_for(emu)) as client:
            backend = client._backend
            full = {"results": [{"prefix": "global", "name": "alpha"}], "limit": 200, "size": 1}
            assert await backend._listed_labels(
                {"metadata": {"labels": full}}, ids["a"], "page"
            ) == ("alpha",)
            # As many results as the limit: the server may have cut it; the page's own
            # label listing completes it.
            cut = {"results": [{"prefix": "global", "name": "alpha"}], "limit": 1, "size": 1}
            item = {"metadata": {"labels": cut}}
            assert await backend._listed_labels(item, ids["a"], "page") == ("alpha", "beta")
            nxt = {**full, "_links": {"next": "/rest/api/content/x/label?start=1"}}
            item = {"metadata": {"labels": nxt}}
            assert await backend._listed_labels(item, ids["a"], "page") == ("alpha", "beta")
            # Completion fails (the page is gone): unknown, never the shorter list.
            assert await backend._listed_labels(item, "999999", "page") is None
            assert await backend._listed_labels({}, ids["a"], "page") is None


async def test_cloud_sweep_gives_up_on_a_space_with_too_many_labels(monkeypatch):
    """A sweep costs a request per label; past the cap the labels are unknown (None),
    never empty, and no per-label request is made."""
    from syncd.confluence import cloud

    monkeypatch.setattr(cloud, "MAX_SWEPT_LABELS", 1)
    async with EmulatorServer(flavor="cloud", pages=12, seed=5) as emu:
        await labelled_space(emu)
        async with await ConfluenceClient.open(settings_for(emu)) as client:
            emu.requests.clear()
            refs = [r async for r in client.iter_page_tree(emu.space_key, with_labels=True)]
        assert refs and all(r.labels is None for r in refs)
        per_label = sum(v for k, v in emu.requests.items() if "/labels/" in k and "/pages" in k)
        assert per_label == 0, dict(emu.requests)
