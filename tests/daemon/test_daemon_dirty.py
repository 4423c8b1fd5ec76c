"""DirtySet: coalescing marks from every trigger, waking one consumer."""

from __future__ import annotations

import asyncio

import pytest

from syncd.daemon.dirty import DirtySet


def test_same_page_twice_is_one_entry_with_merged_facts():
    now = [10.0]
    d = DirtySet(clock=lambda: now[0])
    assert d.add("1", source="webhook", version=3, event="page_updated") is True
    now[0] = 11.0
    assert d.add("1", source="watcher") is False
    assert d.add("1", source="poll", version=2) is False
    assert d.add("2", source="poll") is True
    assert len(d) == 2 and "1" in d
    batch = d.take()
    entry = batch.entries["1"]
    assert entry.marks == 3
    assert entry.max_version == 3
    assert entry.sources == {"webhook", "watcher", "poll"}
    assert entry.events == {"page_updated"}
    assert (entry.first_marked_at, entry.last_marked_at) == (10.0, 11.0)
    assert batch.page_ids == ["1", "2"]  # first-marked order
    assert not batch.full_scan
    assert len(d) == 0 and not d.take()


def test_marks_after_take_start_a_new_batch():
    d = DirtySet()
    d.add("1")
    d.take()
    assert d.add("1") is True
    assert d.take().entries["1"].marks == 1


def test_full_scan_request_travels_with_the_batch():
    d = DirtySet()
    d.request_full_scan("webhook queue full")
    d.request_full_scan("webhook queue full")
    d.request_full_scan("watcher overflow")
    assert d.full_scan_requested
    batch = d.take()
    assert batch and batch.full_scan and batch.page_ids == []
    assert batch.full_scan_reasons == ("webhook queue full", "watcher overflow")
    assert not d.full_scan_requested


async def test_wait_wakes_on_add_and_is_bounded():
    d = DirtySet()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await d.wait()
    waiter = asyncio.create_task(d.next_batch())
    await asyncio.sleep(0)
    assert not waiter.done()
    d.add("7")
    d.add("7")
    async with asyncio.timeout(2):
        batch = await waiter
    assert batch.page_ids == ["7"] and batch.entries["7"].marks == 2


async def test_wait_returns_at_once_when_already_marked():
    d = DirtySet()
    d.request_full_scan("startup")
    async with asyncio.timeout(1):
        batch = await d.next_batch()
    assert batch.full_scan


async def test_settle_lets_a_burst_coalesce():
    d = DirtySet()
    d.add("1")

    async def burst():
        for _ in range(5):
            d.add("1")
            d.add("2")
            await asyncio.sleep(0)

    task = asyncio.create_task(burst())
    async with asyncio.timeout(2):
        batch = await d.next_batch(settle=0.05)
    await task
    assert batch.page_ids == ["1", "2"]
    assert batch.entries["1"].marks == 6


async def test_threadsafe_marking_from_another_thread():
    d = DirtySet()
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(lambda: loop.call_soon_threadsafe(lambda: d.add("9", source="watcher")))
    async with asyncio.timeout(2):
        batch = await d.next_batch()
    assert batch.page_ids == ["9"]
