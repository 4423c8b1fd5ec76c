"""Pagination exactly as documented: v2 cursors in ``_links.next`` and ``Link``; v1/DC
start/limit with ``_links.next`` relative to ``_links.base`` and absent on the last page."""

from __future__ import annotations

import re

import httpx

from syncd.emulator.server import EmulatorServer

PAGES = 40


def cloud(emu: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, auth=(emu.user, emu.token), timeout=10)


async def test_v2_cursor_walk_visits_every_page_once(emulator_factory):
    emu = await emulator_factory(flavor="cloud", pages=PAGES, seed=2)
    async with cloud(emu) as c:
        sid = str(emu.store.space("DEMO").id)
        url = f"/api/v2/spaces/{sid}/pages"
        params: dict | None = {"limit": 7, "body-format": "storage", "sort": "id"}
        seen: list[str] = []
        requests = 0
        while url:
            r = await c.get(url, params=params) if params else await c.get(emu.root_url + url)
            params = None
            requests += 1
            body = r.json()
            seen.extend(p["id"] for p in body["results"])
            assert all("storage" in p["body"] for p in body["results"])
            nxt = body["_links"].get("next")
            if nxt:
                assert nxt.startswith("/wiki/api/v2/spaces/"), "relative and including /wiki"
                assert "limit=7" in nxt and "body-format=storage" in nxt and "sort=id" in nxt
                link = r.headers["Link"]
                assert link.startswith(f'<{nxt}>; rel="next"')
                assert f'<{emu.base_url}>; rel="base"' in link
            else:
                assert "Link" not in r.headers
            url = nxt
        expected = [p.id for p in emu.store.listing("DEMO", "page")]
        assert seen == expected and len(seen) == PAGES + 1
        assert requests == -(-(PAGES + 1) // 7)


async def test_v2_sorted_walk_and_cross_space_listing(emulator_factory):
    emu = await emulator_factory(flavor="cloud", pages=PAGES, seed=2)
    async with cloud(emu) as c:
        sid = str(emu.store.space("DEMO").id)
        titles: list[str] = []
        r = await c.get("/api/v2/pages", params={"space-id": sid, "sort": "-title", "limit": 9})
        while True:
            titles.extend(p["title"] for p in r.json()["results"])
            nxt = r.json()["_links"].get("next")
            if not nxt:
                break
            r = await c.get(emu.root_url + nxt)
        assert titles == sorted(titles, key=str.lower, reverse=True) and len(titles) == PAGES + 1


async def test_v2_limits_are_capped_and_validated(emulator_factory):
    emu = await emulator_factory(flavor="cloud", pages=300, seed=1)
    async with cloud(emu) as c:
        sid = str(emu.store.space("DEMO").id)
        r = await c.get(f"/api/v2/spaces/{sid}/pages", params={"limit": 1000})
        assert len(r.json()["results"]) == 250 and "next" in r.json()["_links"]
        r = await c.get(f"/api/v2/spaces/{sid}/pages")
        assert len(r.json()["results"]) == 25, "default limit"
        assert (await c.get(f"/api/v2/spaces/{sid}/pages", params={"limit": 0})).status_code == 400
        r = await c.get(f"/api/v2/spaces/{sid}/pages", params={"cursor": "%%%"})
        assert r.status_code == 400


async def test_v1_start_limit_walk_and_next_absent_on_last_page(emulator_factory):
    emu = await emulator_factory(flavor="cloud", pages=PAGES, seed=2)
    async with cloud(emu) as c:
        r = await c.get("/rest/api/content", params={"spaceKey": "DEMO", "limit": 10})
        seen: list[str] = []
        while True:
            body = r.json()
            assert body["limit"] == 10 and body["size"] == len(body["results"])
            seen.extend(p["id"] for p in body["results"])
            nxt = body["_links"].get("next")
            if not nxt:
                assert body["size"] <= 10
                break
            assert nxt.startswith("/rest/api/content?"), "relative to _links.base (no /wiki)"
            assert body["_links"]["base"] == emu.base_url
            r = await c.get(body["_links"]["base"] + nxt)
        assert seen == [p.id for p in emu.store.listing("DEMO", "page")]


async def test_v1_limit_capped_and_echoed(emulator_factory):
    emu = await emulator_factory(flavor="dc", pages=250, seed=1)
    async with httpx.AsyncClient(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.token}"}
    ) as c:
        r = await c.get("/rest/api/content", params={"spaceKey": "DEMO", "limit": 5000})
        body = r.json()
        assert body["limit"] == 200 and body["size"] == 200
        nxt = body["_links"]["next"]
        assert re.search(r"start=200", nxt) and "limit=200" in nxt
        r = await c.get(body["_links"]["base"] + nxt)
        assert r.json()["size"] == 51 and "next" not in r.json()["_links"]


async def test_cloud_cql_search_uses_a_cursor(emulator_factory):
    emu = await emulator_factory(flavor="cloud", pages=PAGES, seed=2)
    async with cloud(emu) as c:
        r = await c.get(
            "/rest/api/content/search", params={"cql": "type = page order by created", "limit": 15}
        )
        seen: list[str] = []
        while True:
            body = r.json()
            seen.extend(x["id"] for x in body["results"])
            nxt = body["_links"].get("next")
            if not nxt:
                break
            assert nxt.startswith("/rest/api/content/search?") and "cursor=" in nxt
            r = await c.get(body["_links"]["base"] + nxt)
        assert len(seen) == PAGES + 1 and len(set(seen)) == len(seen)
