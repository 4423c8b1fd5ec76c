"""Helpers for the client's unit tests: a virtual clock and clients on httpx.MockTransport."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from confluence_testkit import TOKEN, VirtualClock

from syncd.confluence import ConfluenceClient, ConnectionSettings


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


Handler = Callable[[httpx.Request], Any]


@pytest.fixture
async def make_client(clock: VirtualClock):
    """``await make_client(handler, deployment="cloud", **settings)`` -> ConfluenceClient."""
    opened: list[ConfluenceClient] = []

    async def factory(
        handler: Handler,
        *,
        deployment: str = "cloud",
        base_url: str | None = None,
        **overrides: Any,
    ) -> ConfluenceClient:
        if base_url is None:
            base_url = (
                "http://confluence.test/wiki" if deployment == "cloud" else "http://confluence.test"
            )
        options: dict[str, Any] = {
            "base_url": base_url,
            "token": TOKEN,
            "email": "me@example.com",
            "deployment": deployment,
            "backoff_base": 1.0,
            "backoff_cap": 8.0,
            "max_attempts": 4,
        }
        options.update(overrides)
        client = await ConfluenceClient.open(
            ConnectionSettings(**options),
            transport=httpx.MockTransport(handler),
            sleep=clock.sleep,
            clock=clock.monotonic,
            wall_clock=clock.wall,
            rng=random.Random(7),
        )
        opened.append(client)
        return client

    yield factory
    for client in opened:
        await client.aclose()
