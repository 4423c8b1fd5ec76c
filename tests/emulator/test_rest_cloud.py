"""Cloud flavor over HTTP: v2 and v1 routes, auth, error bodies in the real shapes."""

from __future__ import annotations

import httpx
import pytest

from syncd.emulator.server import EmulatorServer


def client(emu: EmulatorServer, **kw) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, auth=(emu.user, emu.token), timeout=10, **kw)


async def space_id(c: httpx.AsyncClient) -> str:
    r = await c.get("/api/v2/spaces", params={"keys": "DEMO"})
    assert r.status_code == 200
    return r.json()["results"][0]["id"]


async def test_wrong_or_missing_credentials_get_401(emulator: EmulatorServer):
    async with httpx.AsyncClient(base_url=emulator.base_url) as anon:
        r = await anon.get("/api/v2/spaces")
        assert r.status_code == 401
        assert r.text == "Client must be authenticated to access this resource."
        r = await anon.get("/rest/api/space/DEMO", auth=(emulator.user, "wrong"))
        assert r.status_code == 401
        r = await anon.get("/rest/api/space/DEMO", headers={"Authorization": "Bearer demo-token"})
        assert r.status_code == 401, "Cloud takes basic auth with an API token"


async def test_space_by_key_and_its_home_page(emulator: EmulatorServer):
    async with client(emulator) as c:
        r = await c.get("/api/v2/spaces", params={"keys": "DEMO,NOPE"})
        [space] = r.json()["results"]
        assert space["key"] == "DEMO" and isinstance(space["id"], str)
        assert r.json()["_links"]["base"] == emulator.base_url
        home = (await c.get(f"/api/v2/pages/{space['homepageId']}")).json()
        assert home["spaceId"] == space["id"]
        # explicit nulls, as real answers (tests/data/realapi/cloud_v2_page_home_null_parent.json)
        assert home["parentId"] is None and home["parentType"] is None
        v1 = (await c.get("/rest/api/space/DEMO", params={"expand": "homepage"})).json()
        assert v1["id"] == int(space["id"]) and v1["homepage"]["id"] == space["homepageId"]


async def test_create_returns_200_and_page_is_readable_in_both_apis(emulator: EmulatorServer):
    async with client(emulator) as c:
        sid = await space_id(c)
        r = await c.post(
            "/api/v2/pages",
            json={
                "spaceId": sid,
                "status": "current",
                "title": "Fresh",
                "body": {"representation": "storage", "value": "<p>Hi</p>"},
            },
        )
        assert r.status_code == 200
        page = r.json()
        assert page["version"]["number"] == 1
        assert page["parentId"] == emulator.store.space("DEMO").homepage_id
        v1 = (
            await c.get(
                f"/rest/api/content/{page['id']}",
                params={"expand": "body.storage,version,ancestors,space"},
            )
        ).json()
        assert v1["body"]["storage"]["value"] == "<p>Hi</p>"
        assert v1["ancestors"][-1]["id"] == page["parentId"]
        assert v1["space"]["key"] == "DEMO" and v1["_links"]["context"] == "/wiki"


async def test_duplicate_title_is_400_in_both_envelopes(emulator: EmulatorServer):
    async with client(emulator) as c:
        sid = await space_id(c)
        first = {
            "spaceId": sid,
            "title": "Twice",
            "body": {"value": "<p/>", "representation": "storage"},
        }
        assert (await c.post("/api/v2/pages", json=first)).status_code == 200
        r = await c.post("/api/v2/pages", json=first)
        assert r.status_code == 400
        [err] = r.json()["errors"]
        assert err["status"] == 400 and "title already exists" in err["title"]
        r = await c.post(
            "/rest/api/content",
            json={
                "type": "page",
                "title": "Twice",
                "space": {"key": "DEMO"},
                "body": {"storage": {"value": "<p/>", "representation": "storage"}},
            },
        )
        assert r.status_code == 400
        body = r.json()
        assert body["statusCode"] == 400 and "already exists" in body["message"]


async def test_not_found_bodies(emulator: EmulatorServer):
    async with client(emulator) as c:
        r = await c.get("/api/v2/pages/123")
        assert r.status_code == 404
        assert r.json() == {
            "errors": [{"status": 404, "code": "NOT_FOUND", "title": "Not Found", "detail": None}]
        }
        r = await c.get("/rest/api/content/123")
        assert r.status_code == 404
        body = r.json()
        assert body["statusCode"] == 404 and body["reason"] == "Not Found"
        assert body["message"] == "No content found with id: ContentId{id=123}"
        assert set(body["data"]) >= {"authorized", "valid", "errors", "successful"}


async def test_put_normalises_macros_so_get_differs_from_put(emulator: EmulatorServer):
    async with client(emulator) as c:
        sid = await space_id(c)
        page = (
            await c.post(
                "/api/v2/pages",
                json={
                    "spaceId": sid,
                    "title": "Norm",
                    "body": {"value": "<p/>", "representation": "storage"},
                },
            )
        ).json()
        sent = (
            '<ac:structured-macro ac:name="toc" /><ac:task-list><ac:task>'
            "<ac:task-status>incomplete</ac:task-status><ac:task-body>do</ac:task-body>"
            "</ac:task></ac:task-list>"
        )
        r = await c.put(
            f"/api/v2/pages/{page['id']}",
            json={
                "id": page["id"],
                "status": "current",
                "title": "Norm",
                "body": {"representation": "storage", "value": sent},
                "version": {"number": 2},
            },
        )
        assert r.status_code == 200
        got = (
            await c.get(f"/api/v2/pages/{page['id']}", params={"body-format": "storage"})
        ).json()["body"]["storage"]["value"]
        assert got != sent
        assert 'ac:macro-id="' in got and "<ac:task-id>1</ac:task-id>" in got


async def test_trash_purge_restore_over_v2(emulator: EmulatorServer):
    async with client(emulator) as c:
        sid = await space_id(c)
        page = (
            await c.post(
                "/api/v2/pages",
                json={
                    "spaceId": sid,
                    "title": "Bin",
                    "body": {"value": "<p/>", "representation": "storage"},
                },
            )
        ).json()
        pid = page["id"]
        r = await c.delete(f"/api/v2/pages/{pid}", params={"purge": "true"})
        assert r.status_code == 400, "only a trashed page can be purged"
        assert (await c.delete(f"/api/v2/pages/{pid}")).status_code == 204
        assert (await c.get(f"/api/v2/pages/{pid}")).json()["status"] == "trashed"
        listed = (await c.get(f"/api/v2/spaces/{sid}/pages", params={"limit": 250})).json()
        assert pid not in {p["id"] for p in listed["results"]}
        trashed = (await c.get(f"/api/v2/spaces/{sid}/pages", params={"status": "trashed"})).json()[
            "results"
        ]
        assert [p["id"] for p in trashed] == [pid]
        r = await c.put(
            f"/api/v2/pages/{pid}",
            json={
                "id": pid,
                "status": "current",
                "title": "Bin",
                "version": {"number": 2},
                "body": {"representation": "storage", "value": "<p/>"},
            },
        )
        assert r.status_code == 200 and r.json()["status"] == "current"
        assert r.json()["version"]["number"] == 1, "restore changes the status only"
        await c.delete(f"/api/v2/pages/{pid}")
        assert (await c.delete(f"/api/v2/pages/{pid}", params={"purge": "true"})).status_code == 204
        assert (await c.get(f"/api/v2/pages/{pid}")).status_code == 404


async def test_v1_delete_trashes_then_purges_with_status_trashed(emulator: EmulatorServer):
    async with client(emulator) as c:
        pid = emulator.store.create_page("DEMO", "Old").id
        assert (await c.delete(f"/rest/api/content/{pid}")).status_code == 204
        assert (await c.get(f"/rest/api/content/{pid}")).status_code == 404
        r = await c.get(f"/rest/api/content/{pid}", params={"status": "trashed"})
        assert r.json()["status"] == "trashed"
        assert (await c.delete(f"/rest/api/content/{pid}")).status_code == 404
        r = await c.delete(f"/rest/api/content/{pid}", params={"status": "trashed"})
        assert r.status_code == 204 and emulator.store.find(pid) is None


async def test_move_endpoint_and_children_and_ancestors(emulator: EmulatorServer):
    store = emulator.store
    a = store.create_page("DEMO", "Mover A")
    b = store.create_page("DEMO", "Mover B")
    async with client(emulator) as c:
        r = await c.put(f"/rest/api/content/{a.id}/move/append/{b.id}")
        assert r.status_code == 200 and r.json() == {"pageId": a.id}
        kids = (await c.get(f"/api/v2/pages/{b.id}/children")).json()["results"]
        assert [k["id"] for k in kids] == [a.id]
        anc = (await c.get(f"/api/v2/pages/{a.id}/ancestors")).json()["results"]
        assert [x["id"] for x in anc] == [store.space("DEMO").homepage_id, b.id]
        r = await c.put(f"/rest/api/content/{b.id}/move/append/{a.id}")
        assert r.status_code == 400, "a move may not create a loop"
        r = await c.put(f"/rest/api/content/{a.id}/move/sideways/{b.id}")
        assert r.status_code == 400
        v1kids = (await c.get(f"/rest/api/content/{b.id}/child/page")).json()
        assert [k["id"] for k in v1kids["results"]] == [a.id] and "next" not in v1kids["_links"]


async def test_attachment_upload_needs_the_xsrf_header(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "With files").id
    files = {"file": ("notes.txt", b"hello", "text/plain")}
    async with client(emulator) as c:
        r = await c.post(f"/rest/api/content/{pid}/child/attachment", files=files)
        assert r.status_code == 403 and r.text == "XSRF check failed"
        for token in ("nocheck", "no-check"):
            r = await c.put(
                f"/rest/api/content/{pid}/child/attachment",
                files=files,
                headers={"X-Atlassian-Token": token},
            )
            assert r.status_code == 200
        [att] = r.json()["results"]
        assert att["id"].startswith("att") and att["version"]["number"] == 2
        r = await c.post(
            f"/rest/api/content/{pid}/child/attachment",
            files=files,
            headers={"X-Atlassian-Token": "nocheck"},
        )
        assert r.status_code == 400, "POST refuses a second file of the same name"
        r = await c.post(
            f"/rest/api/content/{pid}/child/attachment/{att['id']}/data",
            files={"file": ("notes.txt", b"third", "text/plain")},
            headers={"X-Atlassian-Token": "nocheck"},
        )
        assert r.status_code == 200 and r.json()["version"]["number"] == 3
        listed = (await c.get(f"/api/v2/pages/{pid}/attachments")).json()["results"]
        assert [(a["title"], a["fileSize"]) for a in listed] == [("notes.txt", 5)]
        got = await c.get(listed[0]["downloadLink"])
        assert got.status_code == 200 and got.content == b"third"
        old = await c.get(f"/download/attachments/{pid}/notes.txt", params={"version": 1})
        assert old.content == b"hello"
        r = await c.get(f"/rest/api/content/{pid}/child/attachment/{att['id']}/download")
        assert r.status_code == 302
        assert (await c.delete(f"/api/v2/attachments/{att['id']}")).status_code == 204
        assert (await c.get(f"/api/v2/pages/{pid}/attachments")).json()["results"] == []


async def test_labels_written_over_v1_read_over_v2(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Tagged").id
    async with client(emulator) as c:
        r = await c.post(
            f"/rest/api/content/{pid}/label",
            json=[{"prefix": "global", "name": "synced"}, {"prefix": "global", "name": "docs"}],
        )
        assert r.status_code == 200 and r.json()["size"] == 2
        v2 = (await c.get(f"/api/v2/pages/{pid}/labels")).json()["results"]
        assert sorted(lb["name"] for lb in v2) == ["docs", "synced"]
        assert (await c.delete(f"/rest/api/content/{pid}/label/docs")).status_code == 204
        assert (
            await c.delete(f"/rest/api/content/{pid}/label", params={"name": "synced"})
        ).status_code == 204
        assert (await c.get(f"/rest/api/content/{pid}/label")).json()["results"] == []


async def test_cql_search_filters_and_orders(emulator: EmulatorServer):
    store = emulator.store
    a = store.create_page("DEMO", "Searched A")
    store.clock.advance(120)
    b = store.create_page("DEMO", "Searched B")
    store.add_label(b.id, "needle")
    async with client(emulator) as c:

        async def cql(q: str) -> list[str]:
            r = await c.get("/rest/api/content/search", params={"cql": q, "limit": 100})
            assert r.status_code == 200, r.text
            return [x["id"] for x in r.json()["results"]]

        assert await cql(f"id in ({a.id}, {b.id}) order by lastmodified desc") == [b.id, a.id]
        assert await cql('title = "Searched A"') == [a.id]
        assert await cql("label = needle") == [b.id]
        home = store.space("DEMO").homepage_id
        assert a.id in await cql(f"ancestor = {home} and type = page")
        assert await cql('space = "NOPE"') == []
        r = await c.get("/rest/api/content/search", params={"cql": "title = "})
        assert r.status_code == 400


async def test_blogposts_over_v2(emulator: EmulatorServer):
    async with client(emulator) as c:
        sid = await space_id(c)
        r = await c.post(
            "/api/v2/blogposts",
            json={
                "spaceId": sid,
                "title": "News",
                "body": {"representation": "storage", "value": "<p>n</p>"},
            },
        )
        assert r.status_code == 200
        bid = r.json()["id"]
        listed = (await c.get(f"/api/v2/spaces/{sid}/blogposts")).json()["results"]
        assert [b["id"] for b in listed] == [bid]
        r = await c.put(
            f"/api/v2/blogposts/{bid}",
            json={
                "id": bid,
                "status": "current",
                "title": "News",
                "version": {"number": 2},
                "body": {"representation": "storage", "value": "<p>m</p>"},
            },
        )
        assert r.status_code == 200 and r.json()["version"]["number"] == 2
        assert (await c.get(f"/api/v2/pages/{bid}")).status_code == 404, "a blog is not a page"


@pytest.mark.parametrize("path", ["/api/v2/nothing", "/rest/api/nothing"])
async def test_unknown_routes_are_404(emulator: EmulatorServer, path: str):
    async with client(emulator) as c:
        assert (await c.get(path)).status_code == 404


async def test_attachment_is_content_addressable_with_its_att_id(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Att ids").id
    att = emulator.store.add_attachment(pid, "x.txt", b"x")
    async with client(emulator) as c:
        for ref in (att.id, att.id[3:]):
            r = await c.get(f"/rest/api/content/{ref}")
            assert r.status_code == 200 and r.json()["type"] == "attachment"
            assert r.json()["title"] == "x.txt"
        assert (await c.delete(f"/rest/api/content/{att.id}")).status_code == 204
    assert att.status == "trashed"


async def test_v1_status_filter_accepts_repeated_and_comma_forms(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Status forms").id
    emulator.store.trash(pid)
    async with client(emulator) as c:
        for params in (
            [("status", "current"), ("status", "trashed")],
            [("status", "current,trashed")],
            [("status", "any")],
        ):
            r = await c.get(f"/rest/api/content/{pid}", params=params)
            assert r.status_code == 200, params
        r = await c.get("/rest/api/content", params=[("spaceKey", "DEMO"), ("status", "trashed")])
        assert [p["id"] for p in r.json()["results"]] == [pid]


async def test_edits_by_another_user_show_in_version_by(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Two hands").id
    with emulator.store.act_as("colleague@example.com") as other:
        emulator.store.edit(pid, "<p>theirs</p>")
    async with client(emulator) as c:
        v1 = (await c.get(f"/rest/api/content/{pid}", params={"expand": "version,history"})).json()
        assert v1["version"]["by"]["accountId"] == other.account_id
        assert v1["history"]["createdBy"]["accountId"] == emulator.store.user.account_id
        v2 = (await c.get(f"/api/v2/pages/{pid}")).json()
        assert v2["version"]["authorId"] == other.account_id
