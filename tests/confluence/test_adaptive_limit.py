"""The request budget: grows while answers come, halves on a 429 (AIMD), one per process.

Atlassian asks clients to back off on 429 / Retry-After and to "coordinate limits across
threads" (shared/docs/confluence-api.md §4)."""

from __future__ import annotations

import asyncio

import httpx
from confluence_testkit import json_response

from syncd.confluence.limit import AdaptiveLimit


def test_slow_start_then_halving_once_per_storm_then_additive_growth():
    budget = AdaptiveLimit(8, 32)
    for _ in range(8):
        budget.answered()
    assert budget.current == 16  # one more per answer before any throttle
    budget.throttled(sent_at=1.0, now=2.0)
    assert budget.current == 8
    budget.throttled(sent_at=1.5, now=2.1)  # sent before the halving: same storm
    assert budget.current == 8
    for _ in range(9):
        budget.answered()
    assert budget.current == 9  # after a throttle: about one per round of answers
    for _ in range(1000):
        budget.answered()
    assert budget.current == 32  # never above the ceiling
    for i in range(10):
        budget.throttled(sent_at=10.0 + i, now=10.5 + i)
    assert budget.current == 1


async def test_more_than_eight_requests_fly_when_answers_come(make_client):
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return json_response(200, {})

    client = await make_client(handler, concurrency=8, max_connections=24)
    for _ in range(3):
        await asyncio.gather(*(client._transport.request("GET", f"/{i}") for i in range(40)))
    assert peak == 24


async def test_a_429_shrinks_the_budget_for_every_caller(make_client):
    answers = iter([json_response(429, {}, {"Retry-After": "0"})])

    async def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or json_response(200, {})

    client = await make_client(handler, concurrency=8, max_connections=8)
    await client._transport.request("GET", "/a")
    assert client._transport.budget.current == 4


async def test_connections_are_spread_over_small_pools_of_max_connections_in_all(
    emulator_factory,
):
    """httpcore scans every connection of its pool once per connection on each request
    (cost quadratic in the pool's size), so 32 connections live in pools of 8 at most and
    requests take the pools in turn; the budget still caps what is on the wire."""
    from syncd.confluence import ConfluenceClient
    from syncd.confluence.settings import ConnectionSettings
    from syncd.confluence.transport import POOL_SHARD

    emu = await emulator_factory(flavor="cloud", pages=3)
    settings = ConnectionSettings(
        base_url=emu.base_url, token=emu.token, email=emu.user, max_connections=20
    )
    client = await ConfluenceClient.open(settings)
    try:
        transport = client._transport
        sizes = [c._transport._pool._max_connections for c in transport._clients]
        assert len(sizes) == 3 and max(sizes) <= POOL_SHARD and sum(sizes) == 20
        page_id = str(emu.store.create_page(emu.space_key, "Read often", "<p>x</p>").id)
        await asyncio.gather(*(client.get_page(page_id) for _ in range(30)))
        used = [len(c._transport._pool.connections) for c in transport._clients]
        assert all(n > 0 for n in used) and sum(used) <= 20
    finally:
        await client.aclose()
