"""How many requests may be on the wire at once: one adaptive budget for the process.

Over a real link a request costs its round trip, so throughput is requests in flight /
latency: a fixed 8 leaves a 100 ms link mostly idle, while too many at once trips
Confluence's burst limit (429 + Retry-After, shared/docs/confluence-api.md §4, which asks
clients to "coordinate limits across threads"). The budget therefore adapts the way TCP
does (additive increase, multiplicative decrease):

* it starts at ``initial`` and, until the first throttle, grows by one per answered
  request (it doubles every round trip: slow start);
* after a throttle it grows by one per ``limit`` answered requests (one per round trip);
* a 429 (or any ``Retry-After``) halves it, once per storm (answers to requests sent
  before the halving do not halve it again), never below ``minimum``;
* it never exceeds ``maximum`` (``confluence.max_connections``).

Every request of the client (listings, page reads, downloads, uploads) takes a slot, so
the budget is shared by the whole process, whatever part of syncd sends the request.
"""

from __future__ import annotations

import asyncio
from collections import deque


class AdaptiveLimit:
    """A semaphore whose size follows the answers (see the module docs)."""

    def __init__(self, initial: int, maximum: int, *, minimum: int = 1) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.minimum = max(1, min(minimum, maximum))
        self.limit = float(max(self.minimum, min(initial, maximum)))
        self._slow_start = True
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._decreased_at = float("-inf")
        #: Highest number of requests in flight so far (for benchmarks and tests).
        self.peak = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def current(self) -> int:
        return int(self.limit)

    async def acquire(self) -> None:
        while self._in_flight >= int(self.limit):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self._wake()  # pass the wake-up on
                raise
        self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)

    def release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        free = int(self.limit) - self._in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1

    def answered(self) -> None:
        """A request was answered without throttling: grow."""
        if self.limit >= self.maximum:
            return
        step = 1.0 if self._slow_start else 1.0 / max(1.0, self.limit)
        self.limit = min(float(self.maximum), self.limit + step)
        self._wake()

    def throttled(self, sent_at: float, now: float) -> None:
        """A 429 / Retry-After for a request sent at `sent_at`: halve, once per storm."""
        self._slow_start = False
        if sent_at <= self._decreased_at:
            return  # already halved for this storm
        self._decreased_at = now
        self.limit = max(float(self.minimum), self.limit / 2)
