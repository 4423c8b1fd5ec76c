"""Shared helpers for the Confluence client tests (virtual clock, canned responses)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

TOKEN = "s3cr3t-t0ken-value"


class VirtualClock:
    """Monotonic time that only moves when the client sleeps.

    Concurrent sleepers share the timeline: two tasks sleeping 5 s from t=0 both wake at
    t=5, so elapsed virtual time measures what the client waited, not a sum of sleeps.
    """

    def __init__(self, start: float = 1000.0, wall: float = 1_800_000_000.0) -> None:
        self.now = start
        self.wall_offset = wall - start
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        target = self.now + max(0.0, delay)
        await asyncio.sleep(0)
        self.now = max(self.now, target)


def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
