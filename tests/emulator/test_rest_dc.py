"""Data Center flavor over HTTP: bearer PAT, /rest/api at the root, DC's own status codes."""

from __future__ import annotations

import httpx

from syncd.emulator.server import EmulatorServer


def client(emu: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
    )


async def test_bearer_token_required(emulator_dc: EmulatorServer):
    assert emulator_dc.base_url == emulator_dc.root_url
    async with httpx.AsyncClient(base_url=emulator_dc.base_url) as anon:
        r = await anon.get("/rest/api/space/DEMO")
        assert r.status_code == 401 and r.json()["statusCode"] == 401
        r = await anon.get("/rest/api/space/DEMO", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
    async with client(emulator_dc) as c:
        assert (await c.get("/rest/api/space/DEMO")).status_code == 200


async def test_cloud_paths_do_not_exist_on_dc(emulator_dc: EmulatorServer):
    async with client(emulator_dc) as c:
        assert (await c.get("/wiki/api/v2/spaces")).status_code == 404
        assert (await c.get("/wiki/rest/api/space/DEMO")).status_code == 404
        home = emulator_dc.store.space("DEMO").homepage_id
        r = await c.put(f"/rest/api/content/{home}/move/append/{home}")
        assert r.status_code in (404, 405), "DC has no page move endpoint"


async def test_space_has_integer_id_and_dc_user_shape(emulator_dc: EmulatorServer):
    async with client(emulator_dc) as c:
        space = (await c.get("/rest/api/space/DEMO")).json()
        assert isinstance(space["id"], int) and space["key"] == "DEMO"
        home = space["_expandable"]["homepage"].rsplit("/", 1)[1]
        page = (await c.get(f"/rest/api/content/{home}")).json()
        by = page["version"]["by"]
        assert "userKey" in by and "accountId" not in by
        assert page["_links"]["context"] == "" and page["_links"]["base"] == emulator_dc.base_url


async def test_delete_is_200_for_trash_and_204_for_purge(emulator_dc: EmulatorServer):
    pid = emulator_dc.store.create_page("DEMO", "DC bin").id
    async with client(emulator_dc) as c:
        assert (await c.delete(f"/rest/api/content/{pid}")).status_code == 200
        r = await c.delete(f"/rest/api/content/{pid}", params={"status": "trashed"})
        assert r.status_code == 204
        assert (
            await c.get(f"/rest/api/content/{pid}", params={"status": "any"})
        ).status_code == 404


async def test_restore_with_the_spec_example_body(emulator_dc: EmulatorServer):
    pid = emulator_dc.store.create_page("DEMO", "DC restore").id
    async with client(emulator_dc) as c:
        await c.delete(f"/rest/api/content/{pid}")
        r = await c.put(
            f"/rest/api/content/{pid}",
            json={"id": pid, "status": "current", "version": {"number": 2}},
        )
        assert r.status_code == 200 and r.json()["status"] == "current"
        assert emulator_dc.store.get(pid).status == "current"


async def test_move_by_updating_ancestors(emulator_dc: EmulatorServer):
    store = emulator_dc.store
    a = store.create_page("DEMO", "DC parent")
    b = store.create_page("DEMO", "DC child")
    async with client(emulator_dc) as c:
        r = await c.put(
            f"/rest/api/content/{b.id}",
            json={
                "type": "page",
                "title": "DC child",
                "ancestors": [{"id": int(a.id)}],
                "version": {"number": 2},
                "body": {"storage": {"value": "<p>moved</p>", "representation": "storage"}},
            },
        )
        assert r.status_code == 200
        assert r.json()["ancestors"][-1]["id"] == a.id
    assert b.parent_id == a.id and b.version.number == 2


async def test_webhook_crud_and_shapes(emulator_dc: EmulatorServer):
    async with client(emulator_dc) as c:
        r = await c.post(
            "/rest/api/webhooks",
            json={
                "name": "sync",
                "events": ["page_created", "page_updated"],
                "configuration": {"secret": "s3cret"},
                "url": "http://127.0.0.1:9/hook",
                "active": True,
            },
        )
        assert r.status_code == 201
        created = r.json()
        assert created["events"][0] == {
            "id": "page_created",
            "i18nKey": "confluence.webhooks.event.page_created",
        }
        assert "s3cret" not in r.text, "the secret is never echoed"
        hid = created["id"]
        listed = (await c.get("/rest/api/webhooks")).json()
        assert listed["totalCount"] == 1 and listed["results"][0]["events"] == [
            "page_created",
            "page_updated",
        ]
        r = await c.put(f"/rest/api/webhooks/{hid}", json={"events": ["page_removed"]})
        assert r.status_code == 200 and r.json()["events"] == ["page_removed"]
        assert (await c.get(f"/rest/api/webhooks/{hid}")).json()["url"] == "http://127.0.0.1:9/hook"
        r = await c.post(
            "/rest/api/webhooks",
            json={"name": "bad", "events": ["nope"], "url": "http://127.0.0.1:9/"},
        )
        assert r.status_code == 400
        assert (await c.delete(f"/rest/api/webhooks/{hid}")).status_code == 204
        assert (await c.get(f"/rest/api/webhooks/{hid}")).status_code == 404
        assert (await c.delete(f"/rest/api/webhooks/{hid}")).status_code == 404
    assert emulator_dc.store.webhooks == {}


async def test_webhook_test_endpoint_reports_the_receiver_status(emulator_dc: EmulatorServer):
    async with client(emulator_dc) as c:
        target = f"{emulator_dc.root_url}/_emulator/health"  # answers 405 to a POST
        r = await c.post("/rest/api/webhooks/test", params={"url": target})
        assert r.status_code == 200 and r.json()["statusCode"] == 405


async def test_search_pages_with_start_and_limit(emulator_dc: EmulatorServer):
    async with client(emulator_dc) as c:
        seen: list[str] = []
        params = {"cql": "space = DEMO and type = page order by id", "limit": 5}
        r = await c.get("/rest/api/content/search", params=params)
        while True:
            body = r.json()
            seen.extend(x["id"] for x in body["results"])
            nxt = body["_links"].get("next")
            if not nxt:
                break
            assert "start=" in nxt and "cursor=" not in nxt
            r = await c.get(body["_links"]["base"] + nxt)
        expected = [c.id for c in emulator_dc.store.listing("DEMO", "page")]
        assert seen == expected and len(seen) == 13


async def test_space_update_comment_and_tree_routes(emulator_dc: EmulatorServer):
    store = emulator_dc.store
    events: list[str] = []
    store.listeners.append(lambda e: events.append(e.name))
    home = store.space("DEMO").homepage_id
    async with client(emulator_dc) as c:
        r = await c.put(
            "/rest/api/space/DEMO",
            json={
                "name": "Demo space",
                "description": {"plain": {"value": "About", "representation": "plain"}},
            },
        )
        assert r.status_code == 200 and r.json()["name"] == "Demo space"
        assert r.json()["description"]["plain"]["value"] == "About"
        r = await c.post(
            "/rest/api/content",
            json={
                "type": "comment",
                "container": {"id": home, "type": "page"},
                "body": {"storage": {"value": "<p>hi</p>", "representation": "storage"}},
            },
        )
        assert r.status_code == 200 and r.json()["type"] == "comment"
        comments = (await c.get(f"/rest/api/content/{home}/child/comment")).json()
        assert [x["id"] for x in comments["results"]] == [r.json()["id"]]
        child = (await c.get(f"/rest/api/content/{home}/child", params={"expand": "page"})).json()
        assert len(child["page"]["results"]) == len(store.children(home))
        desc = (
            await c.get(f"/rest/api/content/{home}/descendant/page", params={"limit": 100})
        ).json()
        assert desc["size"] == 12
        roots = (await c.get("/rest/api/space/DEMO/content/page", params={"depth": "root"})).json()
        assert [p["id"] for p in roots["results"]] == [home]
        spaces = (await c.get("/rest/api/space")).json()
        assert [s["key"] for s in spaces["results"]] == ["DEMO"]
    assert events == ["space_updated", "comment_created"]
