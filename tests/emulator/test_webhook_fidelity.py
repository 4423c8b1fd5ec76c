"""Proof of fidelity, part 3: webhook deliveries as Confluence sends them.

A receiver (aiohttp on loopback) records every delivery with its raw body. Data Center
deliveries must be ID-only and signed with ``X-Hub-Signature: sha256=<HMAC-SHA256 of the raw
body>`` (shared/docs/confluence-api.md §5.1.3-5.1.4); Cloud deliveries carry no event name and
no signature, go to one URL per registered event with its query string verbatim (§5.2.1-5.2.2).
The fault settings drop, duplicate and reorder deliveries, seen both by the receiver and in
``GET /_emulator/deliveries``. Every wait is a bounded poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

import syncd.emulator.server as server_mod

EmulatorServer = server_mod.EmulatorServer

USER = "hooks@example.com"
TOKEN = "hooks-token"
SECRET = "s3cret-for-hmac"
SPACE = "HOOK"


# --------------------------------------------------------------------------------------------
# Receiver and helpers
# --------------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw)


@dataclass
class Receiver:
    url: str = ""
    got: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.got if r.path == path]


@pytest.fixture
async def receiver():
    rec = Receiver()

    async def handle(request: web.Request) -> web.Response:
        rec.got.append(
            Received(
                request.path,
                request.raw_path.partition("?")[2],  # undecoded, as sent
                dict(request.headers),
                await request.read(),
            )
        )
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    rec.url = f"http://127.0.0.1:{port}"
    yield rec
    await runner.cleanup()


async def until(predicate: Callable[[], Any], deadline_s: float = 5.0, what: str = "condition"):
    """Poll ``predicate`` until truthy (bounded); returns its value."""
    deadline = time.monotonic() + deadline_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        await asyncio.sleep(0.02)


async def until_async(
    fetch: Callable[[], Any], accept: Callable[[Any], bool], deadline_s: float = 5.0, what: str = ""
) -> Any:
    """Poll an async ``fetch`` until ``accept(result)`` (bounded); returns the result."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = await fetch()
        if accept(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}: {result}")
        await asyncio.sleep(0.02)


class Api:
    """Just enough REST to make Confluence fire events, in either flavor."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.flavor = emu.flavor
        self.api = "/wiki/rest/api" if self.flavor == "cloud" else "/rest/api"
        auth: Any = (USER, TOKEN) if self.flavor == "cloud" else None
        headers = {} if self.flavor == "cloud" else {"Authorization": f"Bearer {TOKEN}"}
        self.http = httpx.AsyncClient(base_url=emu.root_url, auth=auth, headers=headers, timeout=10)
        self.home_id = ""
        self._n = 0

    async def __aenter__(self) -> Api:
        r = await self.http.get(f"{self.api}/space/{SPACE}", params={"expand": "homepage"})
        r.raise_for_status()
        self.home_id = str(r.json()["homepage"]["id"])
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def create(self, parent: str | None = None, title: str | None = None) -> dict:
        self._n += 1
        r = await self.http.post(
            f"{self.api}/content",
            json={
                "type": "page",
                "title": title or f"Hook page {self._n}",
                "space": {"key": SPACE},
                "ancestors": [{"id": parent or self.home_id}],
                "body": {"storage": {"value": "<p>x</p>", "representation": "storage"}},
            },
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def update(self, page: dict, *, parent: str | None = None) -> dict:
        payload: dict = {
            "id": page["id"],
            "type": "page",
            "title": page["title"],
            "status": "current",
            "body": {"storage": {"value": "<p>y</p>", "representation": "storage"}},
            "version": {"number": page["version"]["number"] + 1},
        }
        if parent:
            payload["ancestors"] = [{"id": parent}]
        r = await self.http.put(f"{self.api}/content/{page['id']}", json=payload)
        assert r.status_code == 200, r.text
        return r.json()

    async def label(self, page_id: str, name: str) -> None:
        r = await self.http.post(
            f"{self.api}/content/{page_id}/label", json=[{"prefix": "global", "name": name}]
        )
        assert r.status_code == 200, r.text

    async def unlabel(self, page_id: str, name: str) -> None:
        r = await self.http.delete(f"{self.api}/content/{page_id}/label/{name}")
        assert r.status_code == 204, r.text

    async def attach(self, page_id: str, name: str) -> None:
        r = await self.http.post(
            f"{self.api}/content/{page_id}/child/attachment",
            files={"file": (name, b"data", "text/plain")},
            headers={"X-Atlassian-Token": "nocheck"},
        )
        assert r.status_code == 200, r.text

    async def trash(self, page_id: str) -> None:
        r = await self.http.delete(f"{self.api}/content/{page_id}")
        assert r.status_code in (200, 204), r.text

    async def purge(self, page_id: str) -> None:
        r = await self.http.delete(f"{self.api}/content/{page_id}", params={"status": "trashed"})
        assert r.status_code == 204, r.text

    async def restore(self, page: dict) -> dict:
        r = await self.http.put(
            f"{self.api}/content/{page['id']}",
            json={
                "id": page["id"],
                "type": "page",
                "title": page["title"],
                "status": "current",
                "version": {"number": page["version"]["number"] + 1},
            },
        )
        assert r.status_code == 200, r.text
        return r.json()

    async def faults(self, **settings: Any) -> None:
        r = await self.http.post("/_emulator/faults", json=settings)
        assert r.status_code == 200, r.text

    async def deliveries(self) -> list[dict]:
        r = await self.http.get("/_emulator/deliveries")
        r.raise_for_status()
        return r.json()["deliveries"]


def emulator(flavor: str, **kwargs: Any) -> Any:
    return EmulatorServer(flavor=flavor, space=SPACE, pages=0, user=USER, token=TOKEN, **kwargs)


DC_EVENTS = [
    "page_created",
    "page_updated",
    "page_moved",
    "page_trashed",
    "page_restored",
    "page_removed",
    "label_added",
    "label_removed",
    "attachment_created",
]


async def register_dc(api: Api, url: str, events: list[str], secret: str | None = SECRET) -> dict:
    body: dict = {
        "name": "syncd test",
        "events": events,
        "url": url,
        "active": True,
        "configuration": {"secret": secret} if secret else {},
    }
    r = await api.http.post("/rest/api/webhooks", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def register_cloud(api: Api, url: str, event: str) -> dict:
    r = await api.http.post(
        "/wiki/rest/webhooks/1.0/webhook",
        json={
            "name": f"syncd {event}",
            "url": url,
            "events": [event],
            "excludeBody": False,
            "filters": {},
            "secret": "Cloud ignores this",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


# --------------------------------------------------------------------------------------------
# Data Center: signed, ID-only
# --------------------------------------------------------------------------------------------


def _signature_ok(delivery: Received, secret: str) -> bool:
    header = delivery.headers.get("X-Hub-Signature", "")
    expected = "sha256=" + hmac.new(secret.encode(), delivery.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header, expected)


async def test_dc_deliveries_are_signed_and_id_only(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/dc", DC_EVENTS)
        parent = await api.create(title="Parent")
        page = await api.create()
        page = await api.update(page)
        page = await api.update(page, parent=parent["id"])
        await api.label(page["id"], "synced")
        await api.unlabel(page["id"], "synced")
        await api.attach(page["id"], "diagram.txt")
        await api.trash(page["id"])
        page = await api.restore(page)
        await api.trash(page["id"])
        await api.purge(page["id"])

        def events() -> set[str]:
            return {r.json["event"] for r in receiver.got}

        await until(lambda: set(DC_EVENTS) <= events(), what=f"all of {DC_EVENTS}")

        pid = int(page["id"])
        for d in receiver.got:
            assert d.headers["Content-Type"] == "application/json; charset=utf-8"
            assert _signature_ok(d, SECRET), f"{d.json['event']}: HMAC does not verify"
            assert not _signature_ok(d, SECRET + "x")
            body = d.json
            assert isinstance(body["timestamp"], int) and body["timestamp"] > 1_600_000_000_000
            assert isinstance(body["userKey"], str) and body["userKey"]
            for key in ("page", "oldParent", "newParent", "attachedTo"):
                if key in body:
                    assert set(body[key]) == {"id"} and isinstance(body[key]["id"], int), (
                        f"{body['event']}: {key} must be ID-only, got {body[key]}"
                    )

        def one(event: str) -> dict:
            return next(r.json for r in receiver.got if r.json["event"] == event)

        assert set(one("page_created")) == {"timestamp", "event", "userKey", "page"}
        assert one("page_updated")["updateTrigger"] == "edit_page"
        moved = one("page_moved")
        assert moved["page"] == {"id": pid}
        assert moved["oldParent"] == {"id": int(api.home_id)}
        assert moved["newParent"] == {"id": int(parent["id"])}
        assert one("label_added")["label"] == {"name": "synced"}
        assert one("label_added")["labeled"]["id"] == pid
        assert one("label_removed")["label"] == {"name": "synced"}
        attached = one("attachment_created")
        assert attached["attachedTo"] == {"id": pid}
        assert len(attached["attachments"]) == 1 and set(attached["attachments"][0]) == {"id"}
        # Trash fires page_trashed, purge page_removed (§5.1.2: the doc table has them swapped).
        order = [r.json["event"] for r in receiver.got if r.json.get("page") == {"id": pid}]
        assert order.index("page_trashed") < order.index("page_restored")
        assert order[-1] == "page_removed"


async def test_dc_delivery_without_secret_is_unsigned(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/plain", ["page_created"], secret=None)
        await api.create()
        [d] = await until(lambda: receiver.at("/plain"), what="an unsigned delivery")
        assert "X-Hub-Signature" not in d.headers
        assert d.json["event"] == "page_created"


async def test_dc_webhook_only_gets_its_events(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/updates", ["page_updated"])
        await register_dc(api, receiver.url + "/all", DC_EVENTS)
        page = await api.create()
        await api.update(page)
        await until(lambda: len(receiver.at("/all")) >= 2, what="both events on /all")
        await until(lambda: receiver.at("/updates"), what="the update on /updates")
        assert [d.json["event"] for d in receiver.at("/updates")] == ["page_updated"]


# --------------------------------------------------------------------------------------------
# Cloud: no event name, one registration per event, unsigned
# --------------------------------------------------------------------------------------------

CLOUD_EVENTS = ["page_created", "page_updated", "page_trashed", "label_added"]


async def test_cloud_deliveries_have_the_cloud_shape(receiver: Receiver):
    async with emulator("cloud") as emu, Api(emu) as api:
        for event in CLOUD_EVENTS:
            await register_cloud(
                api, f"{receiver.url}/cloud/{event}?token=abc%20def&e={event}", event
            )
        listed = (await api.http.get("/wiki/rest/webhooks/1.0/webhook")).json()
        assert isinstance(listed, list) and len(listed) == len(CLOUD_EVENTS)

        page = await api.create()
        page = await api.update(page)
        await api.label(page["id"], "synced")
        await api.trash(page["id"])
        await until(
            lambda: all(receiver.at(f"/cloud/{e}") for e in CLOUD_EVENTS),
            what="one delivery per registered event",
        )

        for event in CLOUD_EVENTS:
            [d] = receiver.at(f"/cloud/{event}")
            body = d.json
            assert d.query == f"token=abc%20def&e={event}", "query string must arrive verbatim"
            assert "X-Hub-Signature" not in d.headers, "Cloud ignores the secret: unsigned"
            assert "event" not in body and "webhookEvent" not in body
            assert isinstance(body["timestamp"], int)
            assert body["userAccountId"] and body["accountType"] == "customer"
            entity = body["labeled"] if event == "label_added" else body["page"]
            assert entity["id"] == int(page["id"]) and isinstance(entity["id"], int)
            assert entity["idAsString"] == page["id"]
            assert entity["spaceKey"] == SPACE and isinstance(entity["spaceId"], int)
            assert entity["contentType"] == "page" and isinstance(entity["version"], int)
            assert entity["self"].startswith(emu.base_url + f"/spaces/{SPACE}/pages/{page['id']}")
        assert receiver.at("/cloud/page_updated")[0].json["updateTrigger"] == "edit_page"
        assert receiver.at("/cloud/label_added")[0].json["label"]["name"] == "synced"
        assert len(receiver.got) == len(CLOUD_EVENTS), "each event goes to its own hook only"


async def test_cloud_webhook_delete_stops_deliveries(receiver: Receiver):
    async with emulator("cloud") as emu, Api(emu) as api:
        gone = await register_cloud(api, receiver.url + "/gone", "page_created")
        await register_cloud(api, receiver.url + "/kept", "page_created")
        hook_id = gone["self"].rstrip("/").rsplit("/", 1)[1]
        r = await api.http.delete(f"/wiki/rest/webhooks/1.0/webhook/{hook_id}")
        assert r.status_code == 204
        await api.create()
        await until(lambda: receiver.at("/kept"), what="the kept hook's delivery")
        assert receiver.at("/gone") == []


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


async def test_drop_fault_sends_nothing_but_logs_it(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/hook", ["page_created"])
        await api.faults(webhooks="drop")
        dropped = [await api.create() for _ in range(3)]
        entries = await until_async(
            api.deliveries,
            lambda log: sum(e["outcome"] == "dropped" for e in log) >= 3,
            what="three dropped deliveries in the log",
        )
        assert all(e["status_code"] is None for e in entries if e["outcome"] == "dropped")
        assert {e["payload"]["page"]["id"] for e in entries} == {int(p["id"]) for p in dropped}

        # Barrier: back to normal, one more change; once it arrives, the dropped ones never will
        # (the queue is first-in first-out and dropped deliveries were never queued).
        await api.faults(webhooks="deliver")
        later = await api.create()
        await until(lambda: receiver.got, what="the delivery after the drop window")
        assert [d.json["page"]["id"] for d in receiver.got] == [int(later["id"])]


async def test_duplicate_fault_sends_the_same_delivery_twice(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/hook", ["page_created"])
        await api.faults(webhooks="duplicate")
        page = await api.create()
        first, second = await until(
            lambda: receiver.got if len(receiver.got) >= 2 else None, what="two copies"
        )
        assert first.raw == second.raw, "a duplicate is byte-identical"
        assert first.json["page"]["id"] == int(page["id"])
        assert _signature_ok(first, SECRET) and _signature_ok(second, SECRET)
        entries = await api.deliveries()
        assert [e["duplicate"] for e in entries] == [False, True]
        assert all(e["outcome"] == "delivered" and e["status_code"] == 204 for e in entries)


async def test_reorder_fault_swaps_delivery_order(receiver: Receiver):
    async with emulator("dc") as emu, Api(emu) as api:
        await register_dc(api, receiver.url + "/hook", ["page_created"])
        await api.faults(webhooks="reorder")
        # Concurrent creations: all four events fall inside the reorder hold window even on a
        # loaded machine. Ids grow in creation order, so sorted ids are the event order.
        created = sorted(
            int(p["id"]) for p in await asyncio.gather(*[api.create() for _ in range(4)])
        )
        await until(lambda: len(receiver.got) >= 4, what="four deliveries")
        arrived = [d.json["page"]["id"] for d in receiver.got]
        assert sorted(arrived) == created, "reordering loses nothing"
        assert arrived != created, "reorder must change the order"
        assert arrived[0] != created[0], "the first event is held back behind a later one"
        logged = [e["payload"]["page"]["id"] for e in await api.deliveries()]
        assert logged == arrived, "the delivery log records the order actually sent"


async def test_normal_mode_delivers_in_order(receiver: Receiver):
    async with emulator("cloud") as emu, Api(emu) as api:
        await register_cloud(api, receiver.url + "/in-order", "page_created")
        created = [int((await api.create())["id"]) for _ in range(4)]
        await until(lambda: len(receiver.got) >= 4, what="four deliveries")
        assert [d.json["page"]["id"] for d in receiver.got] == created
        entries = await api.deliveries()
        assert [e["event"] for e in entries] == ["page_created"] * 4
        assert all(
            e["url"] == receiver.url + "/in-order" and e["status_code"] == 204 for e in entries
        )
        assert all(isinstance(e["time"], str) and e["time"] for e in entries)
