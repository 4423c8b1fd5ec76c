"""The control API under /_emulator/: request counters by route template, delivery log,
reset, clock."""

from __future__ import annotations

import asyncio

import httpx

from syncd.emulator.server import EmulatorServer


async def test_requests_are_counted_by_route_template(emulator: EmulatorServer):
    pid = emulator.store.create_page("DEMO", "Counted").id
    async with httpx.AsyncClient(
        base_url=emulator.base_url, auth=(emulator.user, emulator.token)
    ) as c:
        await c.get(f"/api/v2/pages/{pid}")
        await c.get(f"/api/v2/pages/{emulator.store.space('DEMO').homepage_id}")
        await c.put(
            f"/api/v2/pages/{pid}",
            json={
                "id": pid,
                "status": "current",
                "title": "Counted",
                "version": {"number": 2},
                "body": {"representation": "storage", "value": "<p/>"},
            },
        )
        await c.get("/rest/api/content/search", params={"cql": "type=page"})
    async with httpx.AsyncClient(base_url=emulator.root_url) as ctl:
        await ctl.get("/_emulator/deliveries")
        counts = (await ctl.get("/_emulator/requests")).json()
        assert counts["by_route"] == {
            "GET /wiki/api/v2/pages/{id}": 2,
            "PUT /wiki/api/v2/pages/{id}": 1,
            "GET /wiki/rest/api/content/search": 1,
        }
        assert counts["total"] == 4, "control calls are not counted"
        assert counts["peak_in_flight"] == dict.fromkeys(counts["by_route"], 1)  # one at a time
        assert (await ctl.post("/_emulator/reset")).status_code == 200
        assert (await ctl.get("/_emulator/requests")).json() == {
            "total": 0,
            "by_route": {},
            "peak_in_flight": {},
        }


async def test_requests_served_at_the_same_time_are_counted_as_in_flight(
    emulator: EmulatorServer,
):

    home = emulator.store.space("DEMO").homepage_id
    async with httpx.AsyncClient(base_url=emulator.root_url) as ctl:
        await ctl.post("/_emulator/faults", json={"latency_ms": 300})
        async with httpx.AsyncClient(
            base_url=emulator.base_url, auth=(emulator.user, emulator.token)
        ) as c:
            await asyncio.gather(*(c.get(f"/api/v2/pages/{home}") for _ in range(3)))
            await c.get("/api/v2/spaces")
        counts = (await ctl.get("/_emulator/requests")).json()
    assert counts["peak_in_flight"] == {
        "GET /wiki/api/v2/pages/{id}": 3,
        "GET /wiki/api/v2/spaces": 1,
    }
    assert emulator.peak_in_flight == counts["peak_in_flight"]


async def test_unauthorised_and_failed_requests_count_too(emulator: EmulatorServer):
    async with httpx.AsyncClient(base_url=emulator.base_url) as anon:
        assert (await anon.get("/api/v2/pages/1")).status_code == 401
    async with httpx.AsyncClient(base_url=emulator.root_url) as ctl:
        counts = (await ctl.get("/_emulator/requests")).json()
    assert counts["by_route"] == {"GET /wiki/api/v2/pages/{id}": 1}


async def test_delivery_log_over_http_and_reset(emulator_factory):
    emu = await emulator_factory(flavor="cloud")
    emu.store.add_webhook(
        name="x", url=f"{emu.root_url}/_emulator/health?e=1", events=["page_created", "label_added"]
    )
    page = emu.store.create_page("DEMO", "Logged")
    emu.store.add_label(page.id, "tag")
    assert await emu.deliverer.wait_for(lambda log: len(log) == 2)
    async with httpx.AsyncClient(base_url=emu.root_url) as ctl:
        log = (await ctl.get("/_emulator/deliveries")).json()["deliveries"]
        assert [d["event"] for d in log] == ["page_created", "label_added"]
        assert all(d["status"] == 405 and d["outcome"] == "failed" for d in log)
        assert all(d["url"].endswith("/_emulator/health?e=1") and d["time"] for d in log)
        assert "event" not in log[0]["payload"], "Cloud payloads carry no event name"
        only = (await ctl.get("/_emulator/deliveries", params={"event": "label_added"})).json()
        assert [d["event"] for d in only["deliveries"]] == ["label_added"]
        await ctl.post("/_emulator/faults", json={"webhooks": "drop"})
        await ctl.post("/_emulator/reset", json={"faults": True})
        assert (await ctl.get("/_emulator/deliveries")).json() == {"deliveries": []}
        assert (await ctl.get("/_emulator/faults")).json()["webhooks"] == "deliver"


async def test_clock_advance_moves_lastmodified(emulator: EmulatorServer):
    async with httpx.AsyncClient(base_url=emulator.root_url) as ctl:
        before = emulator.store.clock.peek_ms()
        r = await ctl.post("/_emulator/clock", json={"advance_s": 3600})
        assert r.json()["now_ms"] >= before + 3_600_000
        page = emulator.store.create_page("DEMO", "Later")
        assert page.modified >= before + 3_600_000
        assert (await ctl.post("/_emulator/clock", json={"advance_s": "x"})).status_code == 400
