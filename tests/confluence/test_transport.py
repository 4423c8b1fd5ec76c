"""Retries, Retry-After, shared backoff, bounded attempts and error mapping (MockTransport)."""

from __future__ import annotations

import asyncio
import email.utils
import json

import httpx
import pytest
from confluence_testkit import json_response

from syncd.confluence import (
    AuthFailed,
    Gone,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TitleExists,
    Unreachable,
    VersionConflict,
)
from syncd.confluence.transport import parse_retry_after

SPACES = {"results": [{"id": "1", "key": "ENG", "name": "Eng", "homepageId": "10"}]}


def counting(responses):
    """A handler answering from a list (last one repeats); records request times."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = responses[min(len(calls) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


async def test_429_retry_after_seconds_is_waited_then_succeeds(make_client, clock):
    handler, calls = counting(
        [
            json_response(429, {"message": "slow down"}, {"Retry-After": "7"}),
            json_response(200, SPACES),
        ]
    )
    client = await make_client(handler)
    start = clock.now
    space = await client.get_space("ENG")
    assert space.id == "1"
    assert len(calls) == 2
    assert clock.now - start >= 7.0
    assert client.stats.throttled == 1


async def test_retry_after_http_date_is_honoured(make_client, clock):
    when = email.utils.formatdate(clock.wall() + 12, usegmt=True)
    handler, calls = counting(
        [json_response(429, {}, {"Retry-After": when}), json_response(200, SPACES)]
    )
    client = await make_client(handler)
    start = clock.now
    await client.get_space("ENG")
    assert len(calls) == 2
    # HTTP dates have second resolution: at least 11 s of the 12 remain after rounding.
    assert clock.now - start >= 11.0


def test_parse_retry_after_forms():
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    now = 1_800_000_000.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


async def test_503_without_retry_after_backs_off_exponentially_with_jitter(make_client, clock):
    handler, calls = counting(
        [json_response(503, {}), json_response(503, {}), json_response(200, SPACES)]
    )
    client = await make_client(handler, backoff_base=2.0, backoff_cap=30.0)
    await client.get_space("ENG")
    assert len(calls) == 3
    first, second = clock.sleeps[:2]
    assert 2.0 * 0.7 <= first <= 2.0 * 1.3
    assert 4.0 * 0.7 <= second <= 4.0 * 1.3


async def test_backoff_is_capped(make_client, clock):
    handler, _ = counting([json_response(502, {})] * 5 + [json_response(200, SPACES)])
    client = await make_client(handler, backoff_base=1.0, backoff_cap=3.0, max_attempts=6)
    await client.get_space("ENG")
    assert max(clock.sleeps) <= 3.0 * 1.3


async def test_gives_up_after_bounded_attempts_with_typed_error(make_client):
    handler, calls = counting([json_response(503, {"message": "down for maintenance"})])
    client = await make_client(handler, max_attempts=3)
    with pytest.raises(ServerError) as info:
        await client.get_space("ENG")
    assert len(calls) == 3
    assert info.value.status == 503
    assert info.value.attempts == 3
    assert "maintenance" in str(info.value)


async def test_persistent_429_ends_in_rate_limited(make_client):
    handler, calls = counting([json_response(429, {}, {"Retry-After": "2"})])
    client = await make_client(handler, max_attempts=4)
    with pytest.raises(RateLimited) as info:
        await client.get_space("ENG")
    assert len(calls) == 4
    assert info.value.retry_after == 2.0


async def test_retry_after_longer_than_the_limit_is_not_slept(make_client, clock):
    handler, calls = counting([json_response(429, {}, {"Retry-After": "1847"})])
    client = await make_client(handler, max_retry_after=60)
    with pytest.raises(RateLimited) as info:
        await client.get_space("ENG")
    assert len(calls) == 1
    assert info.value.retry_after == 1847
    assert clock.sleeps == []


async def test_connection_errors_are_retried(make_client):
    request = httpx.Request("GET", "http://confluence.test/")
    handler, calls = counting(
        [
            httpx.ConnectError("refused", request=request),
            httpx.ReadTimeout("slow", request=request),
            json_response(200, SPACES),
        ]
    )
    client = await make_client(handler)
    await client.get_space("ENG")
    assert len(calls) == 3


async def test_unreachable_after_bounded_attempts(make_client):
    request = httpx.Request("GET", "http://confluence.test/")
    handler, calls = counting([httpx.ConnectError("refused", request=request)])
    client = await make_client(handler, max_attempts=2)
    with pytest.raises(Unreachable):
        await client.get_space("ENG")
    assert len(calls) == 2


async def test_non_idempotent_request_is_not_resent_after_an_ambiguous_failure(make_client):
    """A POST whose connection broke may have been applied: it is not blindly re-sent."""
    request = httpx.Request("POST", "http://confluence.test/")
    handler, calls = counting([httpx.ReadTimeout("slow", request=request)])
    client = await make_client(handler)
    with pytest.raises(Unreachable):
        await client._transport.request("POST", "/rest/api/whatever", json_body={})
    assert len(calls) == 1


async def test_non_idempotent_request_is_resent_after_429(make_client):
    handler, _ = counting(
        [json_response(429, {}, {"Retry-After": "1"}), json_response(200, {"ok": True})]
    )
    client = await make_client(handler)
    reply = await client._transport.request("POST", "/rest/api/whatever", json_body={})
    assert reply.json() == {"ok": True}
    assert reply.attempts == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"message": "Unauthorized"}, AuthFailed),
        (
            403,
            {"errors": [{"status": 403, "code": "FORBIDDEN", "title": "nope"}]},
            PermissionDenied,
        ),
        (404, {"statusCode": 404, "message": "No space with key"}, NotFound),
        (410, {"message": "This deprecated endpoint has been removed"}, Gone),
        (400, {"message": "bad cql"}, InvalidRequest),
        (413, "too big", InvalidRequest),
    ],
)
async def test_status_mapping(make_client, status, body, error):
    handler, calls = counting([json_response(status, body)])
    client = await make_client(handler)
    with pytest.raises(error) as info:
        await client.get_space("ENG")
    assert info.value.status == status
    assert len(calls) == 1  # client errors are never retried


async def test_invalid_request_carries_the_server_message(make_client):
    body = {
        "errors": [{"status": 400, "code": "INVALID_REQUEST_PARAMETER", "title": "limit too big"}]
    }
    handler, _ = counting([json_response(400, body)])
    client = await make_client(handler)
    with pytest.raises(InvalidRequest) as info:
        await client.get_space("ENG")
    assert info.value.message == "limit too big"


@pytest.mark.parametrize(
    ("body", "current"),
    [
        (
            {
                "errors": [
                    {
                        "status": 409,
                        "code": "CONFLICT",
                        "title": "Version must be incremented when updating a page. Current Version: [6]. Provided version: [5]",
                        "detail": None,
                    }
                ]
            },
            6,
        ),
        (
            {
                "statusCode": 409,
                "data": {"authorized": False, "valid": True, "errors": [], "successful": False},
                "message": "com.atlassian.confluence.api.service.exceptions.ConflictException: Version must be incremented on update. Current version is: 5",
            },
            5,
        ),
    ],
)
async def test_409_maps_to_version_conflict_with_current_version(make_client, body, current):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return json_response(409, body)
        return json_response(200, {"id": "9", "title": "T", "version": {"number": current}})

    client = await make_client(handler)
    with pytest.raises(VersionConflict) as info:
        await client.update_page("9", title="T", body="<p>x</p>", base_version=current - 1)
    assert info.value.current_version == current


async def test_409_without_a_version_number_is_filled_by_rereading(make_client):
    body = {
        "statusCode": 409,
        "message": "javax.persistence.OptimisticLockException: row was updated",
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return json_response(409, body)
        return json_response(200, {"id": "9", "title": "T", "version": {"number": 8}, "body": {}})

    client = await make_client(handler, deployment="datacenter")
    with pytest.raises(VersionConflict) as info:
        await client.update_page("9", title="T", body="<p>x</p>", base_version=3)
    assert info.value.current_version == 8


async def test_title_clash_is_title_exists(make_client):
    body = {
        "statusCode": 400,
        "message": "A page with this title already exists: A page already exists with the title X in this space",
    }
    handler, _ = counting([json_response(200, SPACES), json_response(400, body)])
    client = await make_client(handler)
    with pytest.raises(TitleExists):
        await client.create_page("ENG", "X", "<p/>")


async def test_a_429_storm_slows_every_call_through_the_shared_gate(make_client, clock):
    """One call's 429 makes a concurrent, unrelated call wait for the same Retry-After."""
    throttled = asyncio.Event()
    sent_at: dict[str, list[float]] = {"a": [], "b": []}

    async def handler(request: httpx.Request) -> httpx.Response:
        name = "a" if request.url.path.endswith("/a") else "b"
        sent_at[name].append(clock.now)
        if name == "a" and len(sent_at["a"]) == 1:
            throttled.set()
            return json_response(429, {}, {"Retry-After": "5"})
        return json_response(200, {})

    client = await make_client(handler)
    start = clock.now

    async def call_b() -> None:
        await throttled.wait()
        await client._transport.request("GET", "/b")

    await asyncio.gather(client._transport.request("GET", "/a"), call_b())
    assert sent_at["b"][0] - start >= 5.0
    assert sent_at["a"][1] - start >= 5.0


async def test_one_storm_escalates_the_delay_once_not_per_response(make_client, clock):
    """Concurrent 429s without Retry-After from one burst close the gate once."""
    state = {"throttle": True, "count": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        state["count"] += 1
        await asyncio.sleep(0)
        if state["throttle"] and state["count"] <= 4:
            return json_response(429, {})
        return json_response(200, {})

    client = await make_client(handler, backoff_base=4.0, backoff_cap=64.0)
    start = clock.now
    await asyncio.gather(*(client._transport.request("GET", f"/{i}") for i in range(4)))
    # One step of 4 s (x jitter 0.7..1.3), not 4 + 8 + 16 + 32.
    assert clock.now - start <= 4.0 * 1.3 + 0.01


async def test_concurrency_is_bounded(make_client):
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return json_response(200, {})

    client = await make_client(handler, concurrency=3, max_connections=3)
    await asyncio.gather(*(client._transport.request("GET", f"/{i}") for i in range(20)))
    assert peak == 3


async def test_error_bodies_in_html_are_summarised(make_client):
    handler, _ = counting(
        [httpx.Response(502, content=b"<html><body><h1>Bad Gateway</h1></body></html>")]
    )
    client = await make_client(handler, max_attempts=1)
    with pytest.raises(ServerError) as info:
        await client.get_space("ENG")
    assert info.value.message == "Bad Gateway"
    json.dumps(str(info.value))


async def test_redirects_and_non_json_answers_are_typed_errors(make_client):
    handler, _ = counting(
        [httpx.Response(302, headers={"Location": "https://sso.example.com/login"})]
    )
    client = await make_client(handler)
    with pytest.raises(InvalidRequest) as info:
        await client.get_space("ENG")
    assert "sso.example.com" in str(info.value) and "base_url" in str(info.value)

    handler, _ = counting([httpx.Response(200, content=b"<html>maintenance</html>")])
    client = await make_client(handler)
    with pytest.raises(ServerError):
        await client.get_space("ENG")


async def test_a_500_on_a_read_is_retried_with_the_same_backoff(make_client, clock):
    # Confluence Cloud answers 500 now and then on any GET (issue 13); a read is safe to
    # send again, so one 500 must not fail the page.
    handler, calls = counting([json_response(500, {}), json_response(200, SPACES)])
    client = await make_client(handler, backoff_base=2.0, backoff_cap=30.0)
    await client.get_space("ENG")
    assert len(calls) == 2
    assert 2.0 * 0.7 <= clock.sleeps[0] <= 2.0 * 1.3


async def test_a_500_on_a_page_update_is_not_sent_again(make_client):
    # A 500 on a write is as often the server refusing that body as a hiccup: the PUT
    # is not repeated (a 502/503/504 is, and its lost answer is reconciled as a 409).
    puts = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            puts.append(request)
            return json_response(500, {"message": "conversion failed"})
        return json_response(200, {"id": "9", "title": "T", "version": {"number": 3}})

    client = await make_client(handler)
    with pytest.raises(ServerError) as info:
        await client.update_page("9", title="T", body="<p>x</p>", base_version=3)
    assert len(puts) == 1 and info.value.status == 500
