"""Injected faults: rate limit (429 + Retry-After), server errors, latency, webhook faults."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import httpx
import pytest
from aiohttp import web

from syncd.emulator.server import EmulatorServer


def cloud(emu: EmulatorServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=emu.base_url, auth=(emu.user, emu.token), timeout=10)


async def set_faults(emu: EmulatorServer, **settings) -> dict:
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{emu.root_url}/_emulator/faults", json=settings)
        assert r.status_code == 200, r.text
        return r.json()


async def test_rate_limit_answers_429_with_retry_after(emulator: EmulatorServer):
    await set_faults(emulator, rate_limit_per_s=2)
    async with cloud(emulator) as c:
        statuses = []
        limited = None
        for _ in range(6):
            r = await c.get("/api/v2/spaces")
            statuses.append(r.status_code)
            if r.status_code == 429:
                limited = r
        assert statuses[:2] == [200, 200] and 429 in statuses
        assert limited is not None
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-RateLimit-Limit"] == "2"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert "X-RateLimit-Reset" in limited.headers
        assert limited.json()["errors"][0]["status"] == 429
        r = await c.get("/rest/api/space/DEMO")
        assert r.status_code in (200, 429)
        if r.status_code == 429:
            assert r.json()["statusCode"] == 429, "v1 routes answer in the RestError shape"
    await set_faults(emulator, rate_limit_per_s=0)
    async with cloud(emulator) as c:
        assert (await c.get("/api/v2/spaces")).status_code == 200


async def test_error_rate_one_fails_every_rest_call_but_not_control(emulator: EmulatorServer):
    await set_faults(emulator, error_rate=1.0)
    async with cloud(emulator) as c:
        r = await c.get("/api/v2/spaces")
        assert r.status_code == 500 and r.json()["errors"][0]["status"] == 500
    await set_faults(emulator, error_rate=1.0, error_status=503)
    async with cloud(emulator) as c:
        r = await c.get("/rest/api/space/DEMO")
        assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    # Confluence sends Retry-After with some transient 503s, not all (confluence-api.md §4).
    await set_faults(emulator, error_retry_after=None)
    async with cloud(emulator) as c:
        r = await c.get("/rest/api/space/DEMO")
        assert r.status_code == 503 and "Retry-After" not in r.headers
    await set_faults(emulator, error_retry_after=7)
    async with cloud(emulator) as c:
        r = await c.get("/rest/api/space/DEMO")
        assert r.status_code == 503 and r.headers["Retry-After"] == "7"
    emulator.faults.reset()
    assert emulator.faults.error_retry_after == 1
    async with httpx.AsyncClient() as c:
        assert (await c.get(f"{emulator.root_url}/_emulator/health")).status_code == 200
    await set_faults(emulator, error_rate=0)


async def test_latency_delays_responses(emulator: EmulatorServer):
    await set_faults(emulator, latency_ms=150)
    async with cloud(emulator) as c:
        start = time.monotonic()
        assert (await c.get("/api/v2/spaces")).status_code == 200
        assert time.monotonic() - start >= 0.14


async def test_bandwidth_makes_a_large_body_slower_than_a_small_one(emulator: EmulatorServer):
    from syncd.emulator.faults import Faults

    faults = Faults()
    faults.configure({"bandwidth_kib_s": 100})
    assert faults.transfer_seconds(200 * 1024) == pytest.approx(2.0)
    assert faults.transfer_seconds(0) == 0.0
    await set_faults(emulator, bandwidth_kib_s=4)  # 4 KiB/s
    async with cloud(emulator) as c:
        start = time.monotonic()
        r = await c.get("/api/v2/spaces")
        took = time.monotonic() - start
    assert r.status_code == 200
    assert took >= len(r.content) / (4 * 1024) * 0.9
    await set_faults(emulator, bandwidth_kib_s=0)


@pytest.mark.parametrize(
    "body",
    [
        {"webhooks": "explode"},
        {"error_rate": 2},
        {"nonsense": 1},
        {"latency_ms": -5},
        {"bandwidth_kib_s": -1},
        {"error_retry_after": -1},
    ],
)
async def test_bad_fault_settings_are_rejected(emulator: EmulatorServer, body: dict):
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{emulator.root_url}/_emulator/faults", json=body)
        assert r.status_code == 400 and "error" in r.json()
        current = (await c.get(f"{emulator.root_url}/_emulator/faults")).json()
    assert current["webhooks"] == "deliver" and current["error_rate"] == 0


# ---- webhooks ------------------------------------------------------------------------


@pytest.fixture
async def sink():
    got: list[tuple[dict, bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


async def test_signed_dc_delivery_and_log(emulator_factory, sink):
    url, got = sink
    emu = await emulator_factory(flavor="dc", webhook_secret="fallback")
    hook = emu.store.add_webhook(name="s", url=url, events=["page_created"], secret="k3y")
    emu.store.create_page("DEMO", "Signed")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 1)
    headers, raw = got[0]
    expected = hmac.new(b"k3y", raw, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha256={expected}"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    payload = json.loads(raw)
    assert payload["event"] == "page_created" and set(payload["page"]) == {"id"}
    entry = emu.deliveries[0]
    assert entry["event"] == "page_created" and entry["url"] == url
    assert entry["status"] == 204 and entry["webhook_id"] == hook.id and entry["time"]
    # a registration without its own secret is signed with the server's fallback secret
    emu.store.update_webhook(hook.id, secret="")
    emu.store.create_page("DEMO", "Signed 2")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 2)
    headers, raw = got[1]
    assert (
        headers["X-Hub-Signature"]
        == "sha256=" + hmac.new(b"fallback", raw, hashlib.sha256).hexdigest()
    )


async def test_webhook_drop_duplicate_reorder_delay(emulator_factory, sink):
    url, got = sink
    emu = await emulator_factory(flavor="dc")
    emu.store.add_webhook(name="all", url=url, events=["page_created"])

    emu.faults.configure({"webhooks": "drop"})
    emu.store.create_page("DEMO", "Dropped")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 1)
    assert emu.deliveries[0]["outcome"] == "dropped" and emu.deliveries[0]["status"] is None
    await asyncio.sleep(0)  # nothing queued: the sink must stay empty
    assert got == []

    emu.faults.configure({"webhooks": "duplicate"})
    emu.store.create_page("DEMO", "Twice")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 3)
    assert got[0][1] == got[1][1], "the same body twice"
    assert [d["duplicate"] for d in emu.deliveries[1:]] == [False, True]

    emu.faults.configure({"webhooks": "reorder"})
    first = emu.store.create_page("DEMO", "First")
    second = emu.store.create_page("DEMO", "Second")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 5)
    ids = [json.loads(raw)["page"]["id"] for _, raw in got[2:4]]
    assert ids == [int(second.id), int(first.id)]

    emu.faults.configure({"webhooks": "delay", "delay_ms": 200})
    start = time.monotonic()
    emu.store.create_page("DEMO", "Late")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 6)
    assert time.monotonic() - start >= 0.19


async def test_unreachable_receiver_is_logged_and_does_not_block_rest(emulator_factory):
    emu = await emulator_factory(flavor="cloud")
    emu.store.add_webhook(name="dead", url="http://127.0.0.1:9/nowhere", events=["page_created"])
    async with cloud(emu) as c:
        sid = str(emu.store.space("DEMO").id)
        r = await c.post(
            "/api/v2/pages",
            json={
                "spaceId": sid,
                "title": "Fire",
                "body": {"representation": "storage", "value": "<p/>"},
            },
        )
        assert r.status_code == 200
    assert await emu.deliverer.wait_for(lambda log: len(log) == 1)
    assert emu.deliveries[0]["outcome"] == "error" and emu.deliveries[0]["status"] is None


async def test_dc_registration_credentials_become_basic_auth(emulator_factory, sink):
    url, got = sink
    emu = await emulator_factory(flavor="dc")
    async with httpx.AsyncClient(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.token}"}
    ) as c:
        r = await c.post(
            "/rest/api/webhooks",
            json={
                "name": "auth",
                "events": ["page_created"],
                "url": url,
                "credentials": {"username": "hook", "password": "pw"},
            },
        )
        assert r.status_code == 201 and "pw" not in r.text
    emu.store.create_page("DEMO", "Authenticated")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 1)
    assert got[0][0]["Authorization"] == "Basic aG9vazpwdw=="
    assert "Authorization" not in emu.deliveries[0]["headers"]


async def test_a_stalled_receiver_never_blocks_rest_responses(emulator_factory):
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def stall(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slow", stall)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        emu = await emulator_factory(flavor="dc")
        emu.store.add_webhook(
            name="slow",
            url=f"http://127.0.0.1:{port}/slow",
            events=["page_created", "page_updated"],
        )
        async with httpx.AsyncClient(
            base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.token}"}
        ) as c:
            r = await c.post(
                "/rest/api/content",
                json={
                    "type": "page",
                    "title": "Stalled",
                    "space": {"key": "DEMO"},
                    "body": {"storage": {"value": "<p/>", "representation": "storage"}},
                },
            )
            assert r.status_code == 200
            await asyncio.wait_for(arrived.wait(), 5)  # the receiver now holds the delivery
            start = time.monotonic()
            for n in range(2, 12):
                r = await c.put(
                    f"/rest/api/content/{r.json()['id']}",
                    json={
                        "type": "page",
                        "title": "Stalled",
                        "version": {"number": n},
                        "body": {"storage": {"value": f"<p>{n}</p>", "representation": "storage"}},
                    },
                )
                assert r.status_code == 200
            assert time.monotonic() - start < 2.0
        release.set()
        assert await emu.deliverer.wait_for(lambda log: len(log) == 11, 10)
        assert [d["event"] for d in emu.deliveries] == ["page_created"] + ["page_updated"] * 10
    finally:
        release.set()
        await runner.cleanup()
