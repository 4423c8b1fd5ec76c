"""The scheduler that drives the mode machine: polls, checks, full scans, registration."""

from __future__ import annotations

import asyncio
import logging

import pytest

from syncd.daemon.dirty import DirtySet
from syncd.daemon.events import parse_delivery
from syncd.daemon.modes import Mode, ModeMachine, ModeSettings, RemoteChange, Task
from syncd.daemon.scheduler import ModeScheduler, delivery_listener


class FakeClock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


class Feed:
    def __init__(self) -> None:
        self.changes: list[RemoteChange] = []
        self.calls: list[float] = []
        self.fail: Exception | None = None

    async def __call__(self, since: float) -> list[RemoteChange]:
        self.calls.append(since)
        if self.fail is not None:
            raise self.fail
        return list(self.changes)


SETTINGS = ModeSettings(silence_timeout=900, poll_interval=60, grace=120)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def feed():
    return Feed()


def make(clock, feed, *, register=None, known=None, transitions=None, watermarks=None):
    machine = ModeMachine(SETTINGS, clock=clock)
    dirty = DirtySet()
    sched = ModeScheduler(
        machine,
        changes_since=feed,
        dirty=dirty,
        watermark=clock.now - 10,
        known_version=known,
        register=register,
        on_transition=(transitions.append if transitions is not None else None),
        on_watermark=(watermarks.append if watermarks is not None else None),
        clock=clock,
        retry_delay=30,
    )
    return machine, dirty, sched


async def ok_register() -> None:
    return None


async def test_register_success_enters_webhook_mode(clock, feed):
    transitions = []
    machine, _, sched = make(clock, feed, register=ok_register, transitions=transitions)
    assert await sched.register_now() is True
    assert machine.mode is Mode.WEBHOOK
    assert [t.log_line for t in transitions] == ["mode polling -> webhook: webhook registered"]


async def test_register_failure_says_so_once_and_retries_with_backoff(clock, feed, caplog):
    attempts = []

    async def refuse() -> None:
        attempts.append(clock.now)
        raise PermissionError("403: not allowed to manage webhooks")

    machine, _, sched = make(clock, feed, register=refuse)
    with caplog.at_level(logging.DEBUG, logger="syncd.daemon.scheduler"):
        assert await sched.register_now() is False
        assert machine.mode is Mode.POLLING and "403" in machine.reason
        clock.now += 60
        assert Task.REGISTER in await sched.run_due()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([r for r in warnings if "403" in r.getMessage()]) == 1
    assert len([r for r in warnings if "polling mode" in r.getMessage()]) == 1
    assert len(attempts) == 2
    assert machine.schedule().next_register_at == clock.now + 120  # backed off


async def test_no_register_callable_means_polling_by_choice(clock, feed):
    machine, _, sched = make(clock, feed, register=None)
    assert await sched.register_now() is False
    assert machine.mode is Mode.POLLING and "disabled" in machine.reason
    assert machine.schedule().next_register_at is None


async def test_freshness_check_marks_new_changes_and_advances_watermark(clock, feed):
    watermarks = []
    known = {"1": 5, "2": 3}
    machine, dirty, sched = make(
        clock, feed, register=ok_register, known=known.get, watermarks=watermarks
    )
    await sched.register_now()
    machine.delivery_received("2", 4)
    clock.now += 900
    feed.changes = [
        RemoteChange("1", 5, clock.now - 600),  # already synced: not new
        RemoteChange("2", 4, clock.now - 600),  # delivered, not pulled yet
    ]
    assert await sched.run_due() == [Task.FRESHNESS_CHECK]
    assert machine.mode is Mode.WEBHOOK
    assert dirty.take().page_ids == ["2"]
    assert watermarks == [clock.now] and sched.watermark == clock.now


async def test_undelivered_change_falls_back_and_requests_full_scan(clock, feed):
    transitions = []
    machine, dirty, sched = make(clock, feed, register=ok_register, transitions=transitions)
    await sched.register_now()
    clock.now += 900
    feed.changes = [RemoteChange("9", 2, clock.now - 500)]
    await sched.run_due()
    assert machine.mode is Mode.POLLING
    assert transitions[-1].switched and "page 9 v2" in transitions[-1].reason
    assert "9" in dirty
    assert await sched.run_due() == [Task.FULL_SCAN]
    batch = dirty.take()
    assert batch.full_scan and batch.full_scan_reasons == ("scheduled full scan",)
    clock.now += 60
    assert await sched.run_due() == [Task.POLL]


async def test_feed_failure_is_deferred_not_spun(clock, feed, caplog):
    machine, _, sched = make(clock, feed, register=ok_register)
    await sched.register_now()
    clock.now += 900
    feed.fail = ConnectionError("connection refused")
    with caplog.at_level(logging.WARNING):
        await sched.run_due()
    assert machine.mode is Mode.WEBHOOK
    assert sched.last_error and "connection refused" in sched.last_error
    assert await sched.run_due() == []  # not retried in a hot loop
    assert machine.schedule().next_freshness_check_at == clock.now + 30
    feed.fail = None
    clock.now += 30
    assert await sched.run_due() == [Task.FRESHNESS_CHECK]
    assert sched.last_error is None


async def test_the_same_feed_failure_is_said_once(clock, feed, caplog):
    """A poll failing the same way every retry (a scoped token lacking the search scope, a
    server down) is one warning, not one per retry; a different failure is said again."""
    from syncd.confluence import ScopeMissing

    machine, _, sched = make(clock, feed)
    machine.registration_failed("polling")
    feed.fail = ScopeMissing(
        "scope does not match", scope="read:content-details:confluence", operation="search"
    )
    with caplog.at_level(logging.DEBUG, logger="syncd.daemon.scheduler"):
        for _ in range(3):
            clock.now += 61
            await sched.run_due()
        feed.fail = ConnectionError("connection refused")
        clock.now += 61
        await sched.run_due()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.getMessage().startswith("poll failed")
    ]
    assert len(feed.calls) == 4
    assert len(warnings) == 2, warnings
    assert "missing scope read:content-details:confluence" in warnings[0]
    assert "connection refused" in warnings[1]


async def test_delivery_listener_feeds_the_machine(clock):
    machine = ModeMachine(SETTINGS, clock=clock)
    listen = delivery_listener(machine)
    body = b'{"page":{"id":"5","spaceKey":"K","version":3},"timestamp":1}'
    listen(parse_delivery(body, flavor="cloud", event="page_updated"))
    assert machine.last_delivery_at == clock.now
    assert machine._delivered["5"] == (clock.now, 3)
    trashed = parse_delivery(body, flavor="cloud", event="page_trashed")
    listen(trashed)  # a trash repeats the version; it is not a content version
    assert machine._delivered["5"] == (clock.now, 3)
    listen(None)
    assert machine.last_delivery_at == clock.now


async def test_run_loop_polls_on_real_time_and_stops_promptly(feed):
    machine = ModeMachine(ModeSettings(poll_interval=0.02, silence_timeout=10))
    dirty = DirtySet()
    feed.changes = [RemoteChange("3", 1)]
    sched = ModeScheduler(machine, changes_since=feed, dirty=dirty, watermark=0.0)
    machine.registration_failed("no public URL")
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run(stop))
    async with asyncio.timeout(5):
        while len(feed.calls) < 3:  # noqa: ASYNC110 (bounded wait for polls)
            await asyncio.sleep(0.01)
    stop.set()
    async with asyncio.timeout(2):
        await task
    assert "3" in dirty
    assert feed.calls[0] == 0.0 and feed.calls[1] > 0.0  # the watermark moves on


async def test_wake_re_evaluates_at_once(feed):
    machine = ModeMachine(ModeSettings(poll_interval=3600, silence_timeout=3600))
    sched = ModeScheduler(machine, changes_since=feed, dirty=DirtySet(), watermark=0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run(stop))
    await asyncio.sleep(0)
    machine.defer(Task.POLL, 0)
    sched.wake()
    async with asyncio.timeout(3):
        while not feed.calls:  # noqa: ASYNC110 (bounded)
            await asyncio.sleep(0.01)
    stop.set()
    async with asyncio.timeout(2):
        await task


async def test_failing_callback_neither_stops_nor_spins_the_loop(feed):
    machine = ModeMachine(ModeSettings(poll_interval=0.01, silence_timeout=10))
    machine.registration_failed("x")
    feed.changes = [RemoteChange("3", 1)]

    def broken_known(page_id: str) -> int | None:
        raise RuntimeError("state db closed")

    sched = ModeScheduler(
        machine,
        changes_since=feed,
        dirty=DirtySet(),
        watermark=0.0,
        known_version=broken_known,
        retry_delay=0.2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(sched.run(stop))
    async with asyncio.timeout(5):
        while len(feed.calls) < 2:  # noqa: ASYNC110 (bounded)
            await asyncio.sleep(0.01)
    stop.set()
    async with asyncio.timeout(2):
        await task
    # two passes took at least one retry delay: no hot loop despite a 10 ms poll interval
    assert len(feed.calls) <= 3


async def test_attachment_changes_mark_their_page_although_its_version_is_known(clock, feed):
    known = {"1": 5}
    _machine, dirty, sched = make(clock, feed, register=None, known=known.get)
    await sched.register_now()  # polling by choice
    clock.now += 120
    feed.changes = [
        RemoteChange("1", 5, clock.now - 30),  # the page itself: already synced
        RemoteChange("1", None, clock.now - 30, attachment="att7 v2"),  # its attachment
        RemoteChange("1", None, clock.now - 30, known=True, attachment="att8 v1"),  # ours
    ]
    assert await sched.run_due() == [Task.POLL]
    batch = dirty.take()
    assert batch.page_ids == ["1"] and batch.entries["1"].sources == {"poll"}
    assert batch.entries["1"].marks == 1  # the attachment change, not the known ones
    clock.now += 60
    feed.changes = [RemoteChange("1", None, clock.now - 30, known=True, attachment="att8 v1")]
    await sched.run_due()
    assert not dirty  # an attachment version the state has is not work
