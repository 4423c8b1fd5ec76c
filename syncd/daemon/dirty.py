"""A coalescing set of dirty pages shared by every trigger.

Webhooks, polls, the file watcher and ``syncd sync`` all do the same thing: mark page ids
dirty. The one consumer (the reconcile loop) takes everything marked so far as a batch.
A page marked ten times before it is taken is one entry, which is how a burst of
deliveries for one page becomes one pull. A "full scan needed" flag travels with the
batch for triggers that cannot name pages (a full webhook queue, a watcher overflow).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class DirtyEntry:
    page_id: str
    first_marked_at: float
    last_marked_at: float
    marks: int = 1
    max_version: int | None = None
    sources: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class DirtyBatch:
    entries: dict[str, DirtyEntry]
    full_scan: bool = False
    full_scan_reasons: tuple[str, ...] = ()

    @property
    def page_ids(self) -> list[str]:
        return list(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries) or self.full_scan


class DirtySet:
    """Page ids waiting for reconcile, in first-marked order, with a wake-up for the consumer.

    Single event loop; ``add`` and ``request_full_scan`` never block and may be called
    from callbacks. Use ``loop.call_soon_threadsafe(dirty.add, ...)`` from other threads
    (the watchdog observer).
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, DirtyEntry] = {}
        self._full_scan_reasons: list[str] = []
        self._event = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, page_id: object) -> bool:
        return page_id in self._entries

    @property
    def full_scan_requested(self) -> bool:
        return bool(self._full_scan_reasons)

    def add(
        self,
        page_id: str,
        *,
        source: str = "",
        version: int | None = None,
        event: str | None = None,
    ) -> bool:
        """Mark a page dirty; True if it was not already waiting (False: coalesced)."""
        now = self._clock()
        entry = self._entries.get(page_id)
        new = entry is None
        if entry is None:
            entry = DirtyEntry(page_id=page_id, first_marked_at=now, last_marked_at=now, marks=0)
            self._entries[page_id] = entry
        entry.marks += 1
        entry.last_marked_at = now
        if version is not None and (entry.max_version is None or version > entry.max_version):
            entry.max_version = version
        if source:
            entry.sources.add(source)
        if event:
            entry.events.add(event)
        self._event.set()
        return new

    def request_full_scan(self, reason: str) -> None:
        """Ask for a full listing (a trigger lost track of which pages changed)."""
        if reason not in self._full_scan_reasons:
            self._full_scan_reasons.append(reason)
        self._event.set()

    def take(self) -> DirtyBatch:
        """Everything marked so far; the set is empty afterwards."""
        batch = DirtyBatch(
            entries=self._entries,
            full_scan=bool(self._full_scan_reasons),
            full_scan_reasons=tuple(self._full_scan_reasons),
        )
        self._entries = {}
        self._full_scan_reasons = []
        self._event.clear()
        return batch

    async def wait(self) -> None:
        """Wait until something is marked (wrap in ``asyncio.timeout`` to bound it)."""
        while not (self._entries or self._full_scan_reasons):
            self._event.clear()
            await self._event.wait()

    async def next_batch(self, *, settle: float = 0.0) -> DirtyBatch:
        """Wait for marks, let a burst settle for ``settle`` seconds, then take the batch."""
        await self.wait()
        if settle > 0:
            await asyncio.sleep(settle)
        return self.take()
