"""The webhook receiver over real HTTP on loopback (aiohttp test server)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable

import pytest

from syncd.daemon.dirty import DirtySet
from syncd.daemon.events import Flavor, RemoteHint, parse_delivery
from syncd.daemon.receiver import (
    RECEIVER_KEY,
    DeliveryDeduper,
    ReceiverConfig,
    create_webhook_app,
    sign_body,
    verify_signature,
)

SECRET = "It's a Secret to Everybody"
TOKEN = "tok-3f9a8c1e5d7b2a64"


def dc_body(
    page_id: int = 1015810, event: str = "page_updated", ts: int = 1768241233603, **more
) -> bytes:
    doc = {"timestamp": ts, "event": event, "userKey": "ff80", "page": {"id": page_id}}
    doc.update(more)
    return json.dumps(doc).encode()


def cloud_body(
    page_id: str = "10000001", version: int = 2, ts: int = 1788716539192, space: str = "ENG"
) -> bytes:
    doc = {
        "page": {"id": page_id, "idAsString": page_id, "spaceKey": space, "version": version},
        "timestamp": ts,
        "userAccountId": "712020:actor",
    }
    return json.dumps(doc).encode()


async def until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Bounded wait for a condition (no fixed sleeps as synchronisation)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (polling a plain predicate, bounded)
            await asyncio.sleep(0.005)


class Recorder:
    def __init__(self) -> None:
        self.hints: list[RemoteHint] = []
        self.overflows: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def on_hint(self, hint: RemoteHint) -> None:
        await self.release.wait()
        self.hints.append(hint)

    def on_overflow(self, reason: str) -> None:
        self.overflows.append(reason)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_client(aiohttp_client, recorder):
    async def make(flavor: str = "dc", **kwargs):
        receiver_kwargs = {
            k: kwargs.pop(k)
            for k in list(kwargs)
            if k in ("known_version", "mode", "on_delivery", "persist")
        }
        config = ReceiverConfig(
            flavor=Flavor(flavor),
            secret=SECRET if flavor == "dc" else TOKEN,
            path=kwargs.pop("path", "/webhook"),
            **kwargs,
        )
        app = create_webhook_app(
            config, recorder.on_hint, on_overflow=recorder.on_overflow, **receiver_kwargs
        )
        client = await aiohttp_client(app)
        client.receiver = app[RECEIVER_KEY]
        return client

    return make


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature": sign_body(secret, body), "Content-Type": "application/json"}


def test_github_hmac_test_vector():
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign_body(SECRET, b"Hello, World!") == "sha256=" + expected
    assert verify_signature(SECRET, b"Hello, World!", "sha256=" + expected)
    assert not verify_signature(SECRET, b"Hello, World!", expected)  # prefix required
    assert not verify_signature(SECRET, b"Hello, World!", "sha256=" + expected.upper())
    assert not verify_signature(SECRET, b"Hello, World!", "sha256=é")
    assert not verify_signature(SECRET, b"Hello, World!", None)


async def test_dc_signed_delivery_is_accepted_and_dispatched(make_client, recorder):
    client = await make_client("dc")
    body = dc_body()
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 200
    assert (await resp.json())["result"] == "accepted"
    await until(lambda: len(recorder.hints) == 1)
    assert recorder.hints[0].page_id == "1015810"
    assert recorder.hints[0].event == "page_updated"
    assert client.receiver.stats.last_event_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature": ""},
        {"X-Hub-Signature": "sha256=" + "0" * 64},
        {"X-Hub-Signature": "sha1=abc"},
    ],
    ids=["missing", "empty", "wrong", "other-algorithm"],
)
async def test_dc_bad_or_missing_signature_is_401_and_nothing_processed(
    make_client, recorder, headers
):
    client = await make_client("dc")
    resp = await client.post("/webhook", data=dc_body(), headers=headers)
    assert resp.status == 401
    assert client.receiver.stats.unauthorized == 1
    assert client.receiver.queue.qsize() == 0
    assert client.receiver.stats.last_event_at is None
    assert recorder.hints == []


async def test_dc_signature_over_other_secret_or_altered_body_is_401(make_client, recorder):
    client = await make_client("dc")
    body = dc_body()
    resp = await client.post("/webhook", data=body, headers=signed(body, "another secret"))
    assert resp.status == 401
    # signature of the original bytes, body re-serialised (spaces): must fail
    altered = json.dumps(json.loads(body), indent=1).encode()
    resp = await client.post("/webhook", data=altered, headers=signed(body))
    assert resp.status == 401
    assert recorder.hints == [] and client.receiver.queue.qsize() == 0


async def test_dc_unsigned_malformed_json_is_401_not_400(make_client):
    client = await make_client("dc")
    resp = await client.post("/webhook", data=b"{not json")
    assert resp.status == 401


async def test_dc_signed_malformed_json_is_400(make_client, recorder):
    client = await make_client("dc")
    for body in (b"{not json", b"[1, 2]", b"\xff"):
        resp = await client.post("/webhook", data=body, headers=signed(body))
        assert resp.status == 400
    assert client.receiver.stats.malformed == 3
    assert recorder.hints == []


async def test_cloud_token_in_query_and_event_in_path(make_client, recorder):
    client = await make_client("cloud", space_key="ENG")
    resp = await client.post(f"/webhook/page_updated?token={TOKEN}", data=cloud_body())
    assert resp.status == 200 and (await resp.json())["result"] == "accepted"
    await until(lambda: len(recorder.hints) == 1)
    hint = recorder.hints[0]
    assert (hint.event, hint.page_id, hint.version) == ("page_updated", "10000001", 2)


async def test_cloud_event_in_query(make_client, recorder):
    client = await make_client("cloud")
    resp = await client.post(
        "/webhook", params={"token": TOKEN, "event": "page_trashed"}, data=cloud_body()
    )
    assert resp.status == 200
    await until(lambda: len(recorder.hints) == 1)
    assert recorder.hints[0].event == "page_trashed"


@pytest.mark.parametrize(
    "query",
    ["", "?token=", "?token=wrong", f"?token={TOKEN}x", f"?token={TOKEN[:-1]}", "?tok=" + TOKEN],
)
async def test_cloud_wrong_or_missing_token_is_401(make_client, recorder, query):
    client = await make_client("cloud")
    resp = await client.post("/webhook/page_updated" + query, data=cloud_body())
    assert resp.status == 401
    assert recorder.hints == [] and client.receiver.queue.qsize() == 0


async def test_cloud_dc_signature_does_not_replace_token(make_client):
    client = await make_client("cloud")
    body = cloud_body()
    resp = await client.post("/webhook/page_updated", data=body, headers=signed(body, TOKEN))
    assert resp.status == 401


async def test_oversized_body_is_413_by_length(make_client, recorder):
    client = await make_client("dc", max_body=1024)
    body = dc_body(extra="x" * 2000)
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 413
    assert recorder.hints == [] and client.receiver.stats.too_large == 1


async def test_oversized_chunked_body_is_413_by_streaming_guard(make_client, recorder):
    client = await make_client("dc", max_body=1024)
    body = dc_body(extra="x" * 5000)

    async def chunks():
        for i in range(0, len(body), 500):
            yield body[i : i + 500]

    resp = await client.post("/webhook", data=chunks(), headers=signed(body))
    assert resp.status == 413
    assert recorder.hints == []


async def test_chunked_body_within_limit_is_accepted(make_client, recorder):
    client = await make_client("dc", max_body=4096)
    body = dc_body()

    async def chunks():
        yield body[:10]
        yield body[10:]

    resp = await client.post("/webhook", data=chunks(), headers=signed(body))
    assert resp.status == 200
    await until(lambda: len(recorder.hints) == 1)


async def test_irrelevant_event_is_acknowledged_and_ignored(make_client, recorder):
    client = await make_client("dc")
    body = json.dumps(
        {"timestamp": 1, "event": "user_created", "userProfile": {"userKey": "u"}}
    ).encode()
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 200 and (await resp.json())["result"] == "ignored"
    assert client.receiver.stats.ignored == 1
    # an authenticated delivery still proves deliveries flow
    assert client.receiver.stats.last_event_at is not None
    assert recorder.hints == []


async def test_other_space_is_ignored(make_client, recorder):
    client = await make_client("cloud", space_key="DEMO")
    resp = await client.post(f"/webhook/page_updated?token={TOKEN}", data=cloud_body(space="OTHER"))
    assert (await resp.json())["result"] == "ignored"
    assert recorder.hints == []


async def test_duplicate_delivery_is_dropped(make_client, recorder):
    client = await make_client("dc")
    body = dc_body()
    results = []
    for _ in range(3):
        resp = await client.post("/webhook", data=body, headers=signed(body))
        results.append((await resp.json())["result"])
    assert results == ["accepted", "duplicate", "duplicate"]
    await until(lambda: len(recorder.hints) == 1)
    assert client.receiver.stats.duplicates == 2


async def test_same_page_version_with_different_bytes_is_a_replay(make_client, recorder):
    client = await make_client("cloud")
    url = f"/webhook/page_updated?token={TOKEN}"
    first = await client.post(url, data=cloud_body(version=7, ts=1))
    again = await client.post(url, data=cloud_body(version=7, ts=2))
    assert (await first.json())["result"] == "accepted"
    assert (await again.json())["result"] == "duplicate"


async def test_out_of_order_versions_v7_v6_v7_v7(make_client, recorder):
    client = await make_client("cloud")
    url = f"/webhook/page_updated?token={TOKEN}"
    results = []
    for version, ts in ((7, 1), (6, 2), (7, 3), (7, 1)):
        resp = await client.post(url, data=cloud_body(version=version, ts=ts))
        results.append((await resp.json())["result"])
    assert results == ["accepted", "stale", "duplicate", "duplicate"]
    await until(lambda: len(recorder.hints) == 1)
    assert recorder.hints[0].version == 7


async def test_version_known_to_the_state_is_stale(make_client, recorder):
    known = {"10000001": 5}
    client = await make_client("cloud", known_version=known.get)
    url = f"/webhook/page_updated?token={TOKEN}"
    r1 = await client.post(url, data=cloud_body(version=5))
    r2 = await client.post(url, data=cloud_body(version=6))
    assert [(await r.json())["result"] for r in (r1, r2)] == ["stale", "accepted"]
    assert client.receiver.stats.stale == 1


async def test_trash_with_current_version_is_not_stale(make_client, recorder):
    client = await make_client("cloud", known_version=lambda _: 7)
    resp = await client.post(f"/webhook/page_trashed?token={TOKEN}", data=cloud_body(version=7))
    assert (await resp.json())["result"] == "accepted"


async def test_full_queue_requests_full_scan_and_never_blocks(make_client, recorder, caplog):
    recorder.release.clear()  # the consumer is stuck
    client = await make_client("dc", queue_size=2)
    results = []
    with caplog.at_level("WARNING", logger="syncd.daemon.receiver"):
        for i in range(5):
            body = dc_body(page_id=100 + i)
            resp = await asyncio.wait_for(
                client.post("/webhook", data=body, headers=signed(body)), 2
            )
            results.append((await resp.json())["result"])
    # regression: one log line for the whole overflow, not one per delivery
    assert len([r for r in caplog.records if "queue full" in r.getMessage()]) == 1
    # one is taken by the stuck dispatcher, two wait in the queue, the rest overflow
    assert results.count("overflow") >= 2
    assert recorder.overflows and recorder.overflows[0] == "webhook queue full"
    # a retried overflowed delivery is not mistaken for a duplicate
    body = dc_body(page_id=104)
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert (await resp.json())["result"] in ("overflow", "accepted")
    recorder.release.set()
    await until(lambda: len(recorder.hints) >= 3)


async def test_response_does_not_wait_for_processing(make_client, recorder):
    recorder.release.clear()
    client = await make_client("dc")
    body = dc_body()
    resp = await asyncio.wait_for(client.post("/webhook", data=body, headers=signed(body)), 2)
    assert resp.status == 200
    assert recorder.hints == []
    recorder.release.set()
    await until(lambda: len(recorder.hints) == 1)


async def test_handler_exception_does_not_stop_dispatch(aiohttp_client):
    seen: list[str] = []

    async def flaky(hint: RemoteHint) -> None:
        if hint.page_id == "1":
            raise RuntimeError("boom")
        seen.append(hint.page_id or "")

    app = create_webhook_app(ReceiverConfig(flavor=Flavor.DC, secret=SECRET), flaky)
    client = await aiohttp_client(app)
    for pid in (1, 2):
        body = dc_body(page_id=pid)
        assert (await client.post("/webhook", data=body, headers=signed(body))).status == 200
    await until(lambda: seen == ["2"])
    assert app[RECEIVER_KEY].stats.handler_errors == 1


async def test_stopping_receiver_answers_503(make_client, recorder):
    client = await make_client("dc")
    client.receiver.stop_accepting()
    body = dc_body()
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 503 and recorder.hints == []
    health = await client.get("/health")
    assert health.status == 503 and (await health.json())["status"] == "stopping"


async def test_health_reports_mode_uptime_and_last_event_age(make_client):
    mode = {"value": "webhook"}
    client = await make_client("dc", mode=lambda: mode["value"])
    resp = await client.get("/health")
    doc = await resp.json()
    assert resp.status == 200
    assert doc["status"] == "ok" and doc["mode"] == "webhook"
    assert doc["uptime"] >= 0 and doc["last_event_age"] is None
    body = dc_body()
    await client.post("/webhook", data=body, headers=signed(body))
    mode["value"] = "polling"
    doc = await (await client.get("/health")).json()
    assert doc["mode"] == "polling"
    assert 0 <= doc["last_event_age"] < 5


async def test_on_delivery_sees_every_authenticated_delivery(make_client):
    seen: list[RemoteHint | None] = []
    client = await make_client("dc", on_delivery=seen.append)
    good = dc_body()
    ignored = json.dumps({"event": "user_created"}).encode()
    await client.post("/webhook", data=good, headers=signed(good))
    await client.post("/webhook", data=ignored, headers=signed(ignored))
    await client.post("/webhook", data=good)  # unauthenticated: not seen
    assert len(seen) == 2 and seen[0] is not None and seen[1] is None


async def test_custom_path_and_unknown_paths(make_client):
    client = await make_client("dc", path="/hooks/syncd")
    body = dc_body()
    assert (await client.post("/hooks/syncd", data=body, headers=signed(body))).status == 200
    assert (await client.post("/webhook", data=body, headers=signed(body))).status == 404
    assert (await client.get("/hooks/syncd")).status == 405
    assert (
        await client.post("/hooks/syncd/..%2F..", data=body, headers=signed(body))
    ).status == 404


async def test_burst_for_one_page_coalesces_in_dirty_set(aiohttp_client):
    dirty = DirtySet()

    async def mark(hint: RemoteHint) -> None:
        if hint.page_id:
            dirty.add(hint.page_id, source="webhook", version=hint.version, event=hint.event)

    app = create_webhook_app(ReceiverConfig(flavor=Flavor.CLOUD, secret=TOKEN), mark)
    client = await aiohttp_client(app)
    for version in range(2, 12):
        resp = await client.post(
            f"/webhook/page_updated?token={TOKEN}", data=cloud_body(version=version)
        )
        assert resp.status == 200
    resp = await client.post(f"/webhook/page_updated?token={TOKEN}", data=cloud_body("555", 1))
    await until(lambda: len(dirty) == 2 and dirty._entries["10000001"].marks == 10)
    batch = dirty.take()
    assert batch.page_ids == ["10000001", "555"]
    assert batch.entries["10000001"].max_version == 11
    assert len(dirty) == 0


def test_deduper_ttl_and_size_bounds():
    now = [0.0]
    d = DeliveryDeduper(maxsize=4, ttl=10, clock=lambda: now[0])
    hints = [parse_delivery(dc_body(page_id=i), flavor="dc") for i in range(6)]
    assert all(h is not None for h in hints)
    for h in hints:
        assert d.check(h) is None
        d.remember(h)
    assert len(d) == 4
    assert d.check(hints[0]) is None  # evicted by size: new again
    assert d.check(hints[5]) == "duplicate"
    now[0] = 11.0
    assert d.check(hints[5]) is None  # expired by TTL


def test_deduper_check_alone_remembers_nothing():
    d = DeliveryDeduper()
    v7 = parse_delivery(cloud_body(version=7), flavor="cloud", event="page_updated")
    assert v7 is not None
    assert d.check(v7) is None
    assert d.check(v7) is None  # not handed on yet: a retry must not be lost
    d.remember(v7)
    assert d.check(v7) == "duplicate"
    v6 = parse_delivery(cloud_body(version=6), flavor="cloud", event="page_updated")
    assert v6 is not None and d.check(v6) == "stale"


async def test_overflowed_versioned_delivery_is_accepted_on_retry(make_client, recorder):
    recorder.release.clear()
    client = await make_client("cloud", queue_size=1)
    url = f"/webhook?token={TOKEN}&event=page_updated"
    results = []
    for pid in ("1", "2", "3"):
        resp = await client.post(url, data=cloud_body(page_id=pid, version=7))
        results.append((await resp.json())["result"])
    assert results[-1] == "overflow"
    recorder.release.set()
    await until(lambda: client.receiver.queue.qsize() == 0 and len(recorder.hints) == 2)
    resp = await client.post(url, data=cloud_body(page_id="3", version=7))
    assert (await resp.json())["result"] == "accepted"  # not "stale", not "duplicate"


def test_hmac_helper_matches_stdlib():
    body = dc_body()
    assert sign_body("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


async def test_persist_runs_before_the_answer_and_failure_is_503(make_client, recorder):
    recorded: list[str] = []
    broken = {"on": True}

    def persist(hint: RemoteHint) -> None:
        if broken["on"]:
            raise OSError("database is locked")
        recorded.append(hint.page_id or "")

    client = await make_client("dc", persist=persist)
    body = dc_body()
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 503
    assert client.receiver.stats.persist_errors == 1 and recorder.hints == []
    broken["on"] = False
    # the same delivery again is not treated as a duplicate: it was never recorded
    resp = await client.post("/webhook", data=body, headers=signed(body))
    assert resp.status == 200 and recorded == ["1015810"]
    await until(lambda: len(recorder.hints) == 1)


async def test_start_receiver_serves_on_a_real_port_without_access_log(caplog):
    import aiohttp

    from syncd.daemon.receiver import bound_port, start_receiver

    got: list[RemoteHint] = []

    async def on_hint(hint: RemoteHint) -> None:
        got.append(hint)

    app = create_webhook_app(ReceiverConfig(flavor=Flavor.CLOUD, secret=TOKEN), on_hint)
    runner = await start_receiver(app, "127.0.0.1", 0)
    try:
        port = bound_port(runner)
        assert port
        with caplog.at_level("DEBUG"):
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}/webhook?token={TOKEN}&event=page_updated"
                async with session.post(url, data=cloud_body()) as resp:
                    assert resp.status == 200
        await until(lambda: len(got) == 1)
        assert TOKEN not in caplog.text
    finally:
        await runner.cleanup()


async def test_time_limits_come_from_the_config_and_cut_slow_clients_off():
    """body_timeout answers a dribbled body with 408; idle_timeout closes a connection whose
    request head never ends (the defaults are 10 s and 15 s; here fractions of a second)."""
    from syncd.daemon.receiver import (
        CONNECTION_IDLE_TIMEOUT,
        DEFAULT_BODY_TIMEOUT,
        bound_port,
        start_receiver,
    )

    default = ReceiverConfig(flavor=Flavor.DC, secret=SECRET)
    assert (default.body_timeout, default.idle_timeout) == (
        DEFAULT_BODY_TIMEOUT,
        CONNECTION_IDLE_TIMEOUT,
    )
    for bad in ({"body_timeout": 0}, {"idle_timeout": -1.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ReceiverConfig(flavor=Flavor.DC, secret=SECRET, **bad)

    async def on_hint(hint: RemoteHint) -> None:
        pass

    config = ReceiverConfig(flavor=Flavor.DC, secret=SECRET, body_timeout=0.3, idle_timeout=0.6)
    app = create_webhook_app(config, on_hint)
    runner = await start_receiver(app, "127.0.0.1", 0)
    try:
        port = bound_port(runner)
        assert port
        loop = asyncio.get_running_loop()
        started = loop.time()
        body_r, body_w = await asyncio.open_connection("127.0.0.1", port)
        body_w.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{")
        head_r, head_w = await asyncio.open_connection("127.0.0.1", port)
        head_w.write(b"POST /webhook HTTP/1.1\r\nHost: x\r\n")
        answer = await asyncio.wait_for(body_r.readline(), 10)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert loop.time() - started >= 0.3
        assert await asyncio.wait_for(head_r.read(), 10) == b""  # closed, nothing sent
        assert loop.time() - started >= 0.6
        assert app[RECEIVER_KEY].stats.too_slow == 1
        for writer in (body_w, head_w):
            writer.close()
            await writer.wait_closed()
    finally:
        await runner.cleanup()


async def test_unauthorized_flood_is_logged_once_a_minute(make_client, caplog):
    client = await make_client("dc")
    with caplog.at_level("WARNING", logger="syncd.daemon.receiver"):
        for _ in range(20):
            assert (await client.post("/webhook", data=dc_body())).status == 401
    lines = [r for r in caplog.records if "401" in r.getMessage()]
    assert len(lines) == 1 and "missing or bad signature" in lines[0].getMessage()
    assert client.receiver.stats.unauthorized == 20


def test_rate_limited_log_counts_what_it_suppressed(caplog):
    from syncd.daemon.receiver import RateLimitedLog

    now = [0.0]
    limited = RateLimitedLog(
        logging.getLogger("syncd.test.ratelimit"), interval=60, clock=lambda: now[0]
    )
    with caplog.at_level("WARNING", logger="syncd.test.ratelimit"):
        assert limited.warning("bad %s", "x")
        assert not limited.warning("bad %s", "y")
        assert not limited.warning("bad %s", "z")
        now[0] = 61.0
        assert limited.warning("bad %s", "w")
    assert [r.getMessage() for r in caplog.records] == [
        "bad x",
        "bad w (2 more like this since the last report)",
    ]


async def test_trash_restore_trash_at_one_version_all_get_through(make_client, recorder):
    # regression: the (page, version) replay key must not swallow repeated lifecycle events
    client = await make_client("cloud")
    results = []
    for ts, event in ((1, "page_trashed"), (2, "page_restored"), (3, "page_trashed")):
        resp = await client.post(
            f"/webhook?token={TOKEN}&event={event}", data=cloud_body(version=4, ts=ts)
        )
        results.append((await resp.json())["result"])
    assert results == ["accepted", "accepted", "accepted"]
    await until(
        lambda: (
            [h.event for h in recorder.hints] == ["page_trashed", "page_restored", "page_trashed"]
        )
    )
    # the very same bytes again are still a duplicate
    resp = await client.post(
        f"/webhook?token={TOKEN}&event=page_trashed", data=cloud_body(version=4, ts=3)
    )
    assert (await resp.json())["result"] == "duplicate"


async def test_blog_and_attachment_events_ignored_when_not_synced(make_client, recorder):
    client = await make_client("dc", blog_posts=False, attachments=False)
    blog = json.dumps({"timestamp": 1, "event": "blog_updated", "blog": {"id": 5}}).encode()
    att = json.dumps(
        {
            "timestamp": 1,
            "event": "attachment_created",
            "attachedTo": {"id": 6},
            "attachments": [{"id": 7}],
        }
    ).encode()
    page = dc_body(page_id=8)
    results = []
    for body in (blog, att, page):
        resp = await client.post("/webhook", data=body, headers=signed(body))
        results.append((await resp.json())["result"])
    assert results == ["ignored", "ignored", "accepted"]
    await until(lambda: [h.page_id for h in recorder.hints] == ["8"])
