"""The version rule (current+1 or 409 with the real body) and readable history, per API."""

from __future__ import annotations

import httpx
import pytest

from syncd.emulator.server import EmulatorServer


def cloud(emu: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, auth=(emu.user, emu.token), timeout=10)


def dc(emu: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
    )


def v2_put(pid: str, number: int, value: str) -> dict:
    return {
        "id": pid,
        "status": "current",
        "title": "Versioned",
        "body": {"representation": "storage", "value": value},
        "version": {"number": number, "message": f"v{number}"},
    }


def v1_put(number: int, value: str) -> dict:
    return {
        "type": "page",
        "title": "Versioned",
        "version": {"number": number},
        "body": {"storage": {"value": value, "representation": "storage"}},
    }


@pytest.mark.parametrize("stale", [1, 5])
async def test_v2_conflict_body_is_the_captured_envelope(emulator: EmulatorServer, stale: int):
    pid = emulator.store.create_page("DEMO", "Versioned", "<p>1</p>").id
    emulator.store.edit(pid, "<p>2</p>")
    async with cloud(emulator) as c:
        r = await c.put(f"/api/v2/pages/{pid}", json=v2_put(pid, stale, "<p>lost?</p>"))
    assert r.status_code == 409
    assert r.json() == {
        "errors": [
            {
                "status": 409,
                "code": "CONFLICT",
                "title": "Version must be incremented when updating a page. "
                f"Current Version: [2]. Provided version: [{stale}]",
                "detail": None,
            }
        ]
    }
    assert emulator.store.get(pid).body == "<p>2</p>", "nothing was written"


async def test_v1_and_dc_conflict_body_is_a_rest_error(
    emulator: EmulatorServer, emulator_dc: EmulatorServer
):
    for emu, make in ((emulator, cloud), (emulator_dc, dc)):
        pid = emu.store.create_page("DEMO", "Versioned", "<p>1</p>").id
        async with make(emu) as c:
            r = await c.put(f"/rest/api/content/{pid}", json=v1_put(1, "<p>x</p>"))
        assert r.status_code == 409
        body = r.json()
        assert body["statusCode"] == 409
        assert body["message"] == "Version must be incremented on update. Current version is: 1"
        assert body["data"]["successful"] is False and body["reason"] == "Conflict"
        assert emu.store.get(pid).version.number == 1


async def test_v2_history_is_readable_by_version_param(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Versioned", "<p>1</p>").id
    async with cloud(emulator) as c:
        for n in (2, 3):
            r = await c.put(f"/api/v2/pages/{pid}", json=v2_put(pid, n, f"<p>{n}</p>"))
            assert r.status_code == 200 and r.json()["version"]["number"] == n
        for n in (1, 2, 3):
            r = await c.get(f"/api/v2/pages/{pid}", params={"version": n, "body-format": "storage"})
            assert r.json()["body"]["storage"]["value"] == f"<p>{n}</p>"
            assert r.json()["version"]["number"] == n
        assert (await c.get(f"/api/v2/pages/{pid}", params={"version": 9})).status_code == 404
        versions = (await c.get(f"/api/v2/pages/{pid}/versions")).json()["results"]
        assert [v["number"] for v in versions] == [3, 2, 1]
        assert versions[0]["message"] == "v3"


async def test_v1_history_routes(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Versioned", "<p>1</p>").id
    async with cloud(emulator) as c:
        assert (
            await c.put(f"/rest/api/content/{pid}", json=v1_put(2, "<p>2</p>"))
        ).status_code == 200
        one = (await c.get(f"/rest/api/content/{pid}/version/1")).json()
        assert one["number"] == 1 and one["content"]["body"]["storage"]["value"] == "<p>1</p>"
        listed = (await c.get(f"/rest/api/content/{pid}/version")).json()
        assert [v["number"] for v in listed["results"]] == [2, 1]
        r = await c.get(
            f"/rest/api/content/{pid}",
            params={"status": "historical", "version": 1, "expand": "body.storage"},
        )
        assert r.json()["status"] == "historical"
        assert r.json()["body"]["storage"]["value"] == "<p>1</p>"
        history = (await c.get(f"/rest/api/content/{pid}/history")).json()
        assert history["lastUpdated"]["number"] == 2 and history["previousVersion"]["number"] == 1


async def test_dc_historical_version_by_query(emulator_dc: EmulatorServer):
    pid = emulator_dc.store.create_page("DEMO", "Versioned", "<p>1</p>").id
    async with dc(emulator_dc) as c:
        assert (
            await c.put(f"/rest/api/content/{pid}", json=v1_put(2, "<p>2</p>"))
        ).status_code == 200
        r = await c.get(
            f"/rest/api/content/{pid}",
            params={"status": "historical", "version": 1, "expand": "body.storage,version"},
        )
        assert r.json()["version"]["number"] == 1
        assert r.json()["body"]["storage"]["value"] == "<p>1</p>"


async def test_update_without_version_is_400(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Versioned").id
    async with cloud(emulator) as c:
        r = await c.put(f"/rest/api/content/{pid}", json={"type": "page", "title": "Versioned"})
        assert r.status_code == 400
        body = v2_put(pid, 2, "<p/>")
        del body["version"]
        assert (await c.put(f"/api/v2/pages/{pid}", json=body)).status_code == 400
