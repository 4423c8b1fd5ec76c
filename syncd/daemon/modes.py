"""The webhook / polling mode machine: pure logic, an injected clock, no I/O.

Confluence webhooks are best effort (no retries on Cloud or Data Center), so syncd never
trusts silence. In ``webhook`` mode a cheap freshness check runs every
``silence_timeout``: it lists changes since a watermark, and a change older than
``grace`` that no delivery reported means deliveries are being lost, so the daemon falls
back to ``polling`` every ``poll_interval`` (with a full scan on entry, since the lost
deliveries may have been deletes or moves). In ``polling`` mode, once deliveries arrive
again and every change a poll finds had been delivered, it returns to ``webhook`` mode. A
full listing runs every ``full_scan_interval`` in either mode.

The main loop feeds inputs (``registration_*``, ``delivery_received``,
``freshness_checked``, ``polled``, ``*_done``), asks :meth:`ModeMachine.due` what to run,
and sleeps until :meth:`ModeMachine.next_wakeup`. Every input returns a
:class:`Transition`; a switch carries a ``log_line`` stating the reason.

All times are epoch seconds (the freshness logic compares with the server's
``lastModified`` times), taken from the injected ``clock``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    WEBHOOK = "webhook"
    POLLING = "polling"


class Task(StrEnum):
    FRESHNESS_CHECK = "freshness_check"
    POLL = "poll"
    FULL_SCAN = "full_scan"
    REGISTER = "register"


@dataclass(frozen=True, slots=True)
class ModeSettings:
    silence_timeout: float = 900.0
    poll_interval: float = 60.0
    full_scan_interval: float = 6 * 3600.0
    # How long a delivery may lag behind the change it reports before it counts as missed.
    grace: float = 120.0
    # Tolerated difference between the server's clock and ours when matching deliveries.
    clock_skew: float = 30.0
    # Misses (freshness checks with an undelivered change) before falling back.
    misses_before_fallback: int = 1
    # Back-off for re-registering a webhook that could not be registered.
    register_retry_min: float = 60.0
    register_retry_max: float = 3600.0
    # Memory for "which page was delivered when" (bounded; oldest forgotten first).
    delivery_memory: int = 10_000

    def __post_init__(self) -> None:
        for name in ("silence_timeout", "poll_interval", "full_scan_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.misses_before_fallback < 1:
            raise ValueError("misses_before_fallback must be at least 1")


@dataclass(frozen=True, slots=True)
class RemoteChange:
    """One change a freshness check or poll found (page, version).

    ``modified_at`` is the server's modification time (epoch seconds) when known. Without
    it the machine times the change from when a check first saw it, and re-judges it at a
    follow-up check ``grace`` later. ``known`` says the sync state already has this version:
    in webhook mode such a change proves nothing (it was synced somehow); in polling mode
    every change counts, since only deliveries prove that webhooks work again.
    """

    page_id: str
    version: int | None
    modified_at: float | None = None
    # The sync state already has this version (synced by a delivery, a poll or our push).
    known: bool = False
    #: Set for an attachment change ("att123 v2"): ``page_id`` is its container, whose
    #: version did not change, so the page is looked at whatever version is known.
    attachment: str | None = None


@dataclass(slots=True)
class _Pending:
    change: RemoteChange
    first_seen: float
    window_start: float  # start of the period the check that found it covered

    @property
    def changed_at(self) -> float:
        m = self.change.modified_at
        return m if m is not None else self.first_seen


@dataclass(frozen=True, slots=True)
class Transition:
    mode: Mode
    reason: str
    switched: bool = False
    log_line: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    next_freshness_check_at: float | None
    next_poll_at: float | None
    next_full_scan_at: float
    next_register_at: float | None


class ModeMachine:
    """Decides between webhook and polling mode; see the module docstring."""

    def __init__(
        self,
        settings: ModeSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        full_scan_done_at: float | None = None,
    ) -> None:
        self.settings = settings or ModeSettings()
        self._clock = clock
        now = clock()
        # Until a webhook is registered the daemon can only poll.
        self.mode = Mode.POLLING
        self.reason = "webhook not registered yet"
        self.since = now
        self.registered = False
        self.last_delivery_at: float | None = None
        self.last_poll_at: float | None = None
        self.last_check_at: float | None = None
        self.last_full_scan_at = full_scan_done_at if full_scan_done_at is not None else now
        self._misses = 0
        self._deliveries_since_fallback = 0
        self._register_failures = 0
        self._next_check: float | None = None
        self._next_poll: float | None = now + self.settings.poll_interval
        self._next_full: float = self.last_full_scan_at + self.settings.full_scan_interval
        self._next_register: float | None = None
        # page id -> (latest receipt time, highest version delivered)
        self._delivered: OrderedDict[str, tuple[float, int | None]] = OrderedDict()
        # changes seen by a check but too recent to judge yet, by (page id, version)
        self._pending: OrderedDict[tuple[str, int | None, str | None], _Pending] = OrderedDict()
        # (page id, version) already judged covered or missed, so overlaps don't recount
        self._judged: OrderedDict[tuple[str, int | None, str | None], float] = OrderedDict()
        self._last_observed_at = now  # the previous check or poll

    # ---- inputs -------------------------------------------------------------------

    def registration_succeeded(self) -> Transition:
        """The webhook is registered (or an earlier registration was reused).

        Webhook mode follows at once; if deliveries do not actually arrive (an unreachable
        public URL), the next freshness check finds the misses and falls back again, and
        the machine then waits for deliveries rather than for another registration.
        """
        self.registered = True
        self._register_failures = 0
        self._next_register = None
        if self.mode is Mode.POLLING:
            return self._switch(Mode.WEBHOOK, "webhook registered", full_scan=False)
        return self._stay()

    def registration_failed(self, reason: str) -> Transition:
        """Registration is impossible (not an admin, endpoint missing, no public URL...)."""
        self.registered = False
        self._register_failures += 1
        delay = min(
            self.settings.register_retry_max,
            self.settings.register_retry_min * 2 ** (self._register_failures - 1),
        )
        self._next_register = self._clock() + delay
        return self._switch(Mode.POLLING, f"webhook registration failed: {reason}", full_scan=False)

    def webhooks_disabled(
        self, reason: str = "webhooks disabled in the configuration"
    ) -> Transition:
        """Polling only, by choice: no registration attempts, no return to webhook mode."""
        self.registered = False
        self._register_failures = 0
        self._next_register = None
        return self._switch(Mode.POLLING, reason, full_scan=False)

    def webhook_lost(self, reason: str) -> Transition:
        """The registration vanished or was disabled (seen on a health check)."""
        self.registered = False
        self._next_register = self._clock()
        return self._switch(Mode.POLLING, f"webhook lost: {reason}", full_scan=True)

    def delivery_received(
        self, page_id: str | None = None, version: int | None = None
    ) -> Transition:
        """An authenticated delivery arrived (proof that deliveries flow)."""
        now = self._clock()
        self.last_delivery_at = now
        if self.mode is Mode.POLLING:
            self._deliveries_since_fallback += 1
        if page_id is not None:
            _, old_version = self._delivered.pop(page_id, (now, None))
            if version is None or (old_version is not None and old_version > version):
                version = old_version
            self._delivered[page_id] = (now, version)
            while len(self._delivered) > self.settings.delivery_memory:
                self._delivered.popitem(last=False)
        return self._stay()

    def freshness_checked(self, changes: Iterable[RemoteChange]) -> Transition:
        """Result of the webhook-mode freshness check.

        ``changes``: everything the change feed reported since the watermark, with
        ``known`` set for versions the sync state already has (those are skipped here). A
        change older than ``grace`` that no delivery reported is a miss; too-recent ones
        are kept and judged at a follow-up check, scheduled ``grace`` later.
        """
        now = self._clock()
        self.last_check_at = now
        self._next_check = now + self.settings.silence_timeout
        if self.mode is not Mode.WEBHOOK:
            self._last_observed_at = now
            return self._stay()
        missed, _ = self._judge(changes, now)
        self._schedule_follow_up(now)
        if not missed:
            self._misses = 0
            return self._stay()
        self._misses += 1
        if self._misses < self.settings.misses_before_fallback:
            return self._stay()
        first = missed[0]
        version = f" v{first.version}" if first.version is not None else ""
        reason = (
            f"{len(missed)} remote change(s) were not delivered by webhook "
            f"(e.g. page {first.page_id}{version})"
        )
        return self._switch(Mode.POLLING, reason, full_scan=True)

    def silence_elapsed(self) -> bool:
        """True when no delivery has arrived for ``silence_timeout`` (for status/logging)."""
        since = self.last_delivery_at if self.last_delivery_at is not None else self.since
        return self._clock() - since >= self.settings.silence_timeout

    def polled(self, changes: Iterable[RemoteChange]) -> Transition:
        """Result of a polling-mode poll (same ``changes`` contract; known ones count too).

        Returns to webhook mode once a delivery has arrived since the fallback and the
        changes judged by this poll were all delivered (none missed, at least one covered).
        """
        now = self._clock()
        self.last_poll_at = now
        self._next_poll = now + self.settings.poll_interval
        if self.mode is not Mode.POLLING:
            self._last_observed_at = now
            return self._stay()
        missed, covered = self._judge(changes, now)
        if not self.registered or self._deliveries_since_fallback == 0:
            return self._stay()
        if missed or not covered or self._pending:
            return self._stay()
        return self._switch(
            Mode.WEBHOOK,
            f"deliveries resumed and covered all {covered} change(s) found by polling",
            full_scan=False,
        )

    def full_scan_done(self) -> None:
        now = self._clock()
        self.last_full_scan_at = now
        self._next_full = now + self.settings.full_scan_interval
        # In polling mode a full listing subsumes the poll that was due with it.
        if self.mode is Mode.POLLING:
            self.last_poll_at = now
            self._next_poll = now + self.settings.poll_interval

    def defer(self, task: Task, seconds: float) -> None:
        """A due task could not run (e.g. the server is unreachable): retry it later."""
        at = self._clock() + seconds
        if task is Task.POLL:
            self._next_poll = at
        elif task is Task.FRESHNESS_CHECK:
            self._next_check = at
        elif task is Task.FULL_SCAN:
            self._next_full = at
        elif task is Task.REGISTER and not self.registered:
            self._next_register = at

    def register_attempted(self) -> None:
        """A re-registration attempt is running; its outcome comes as registration_*."""
        self._next_register = None

    # ---- outputs ------------------------------------------------------------------

    def schedule(self) -> Schedule:
        return Schedule(
            next_freshness_check_at=self._next_check if self.mode is Mode.WEBHOOK else None,
            next_poll_at=self._next_poll if self.mode is Mode.POLLING else None,
            next_full_scan_at=self._next_full,
            next_register_at=self._next_register if not self.registered else None,
        )

    def due(self) -> list[Task]:
        """What should run now, in order. A due full scan replaces a due poll."""
        now = self._clock()
        sched = self.schedule()
        tasks: list[Task] = []
        if sched.next_full_scan_at <= now:
            tasks.append(Task.FULL_SCAN)
        full = bool(tasks)
        if not full and sched.next_poll_at is not None and sched.next_poll_at <= now:
            tasks.append(Task.POLL)
        if sched.next_freshness_check_at is not None and sched.next_freshness_check_at <= now:
            tasks.append(Task.FRESHNESS_CHECK)
        if sched.next_register_at is not None and sched.next_register_at <= now:
            tasks.append(Task.REGISTER)
        return tasks

    def next_wakeup(self) -> float:
        """The earliest scheduled time (epoch seconds); the main loop sleeps until then."""
        sched = self.schedule()
        times = [
            t
            for t in (
                sched.next_freshness_check_at,
                sched.next_poll_at,
                sched.next_full_scan_at,
                sched.next_register_at,
            )
            if t is not None
        ]
        return min(times)

    def snapshot(self) -> dict[str, object]:
        """Mode facts for ``syncd status`` and ``/health``."""
        return {
            "mode": self.mode.value,
            "reason": self.reason,
            "since": self.since,
            "registered": self.registered,
            "last_delivery_at": self.last_delivery_at,
            "last_poll_at": self.last_poll_at,
            "last_full_scan_at": self.last_full_scan_at,
        }

    # ---- internals ----------------------------------------------------------------

    def _judge(self, changes: Iterable[RemoteChange], now: float) -> tuple[list[RemoteChange], int]:
        """Sort new and pending changes into missed / covered / still pending.

        A (page, version) is judged once: a feed that reports it again (overlapping
        windows) does not count it twice.
        """
        window_start = self._last_observed_at
        self._last_observed_at = now
        polling = self.mode is Mode.POLLING
        for change in changes:
            key = (change.page_id, change.version, change.attachment)
            if key in self._pending or key in self._judged:
                continue
            if change.known and not polling:
                continue
            if polling and change.modified_at is not None and change.modified_at < self.since:
                continue  # from before the fallback: the full scan on entry covered it
            self._pending[key] = _Pending(change, first_seen=now, window_start=window_start)
        while len(self._pending) > self.settings.delivery_memory:
            self._pending.popitem(last=False)
        missed: list[RemoteChange] = []
        covered = 0
        for key, pending in list(self._pending.items()):
            if self._covered(pending):
                covered += 1
            elif pending.changed_at <= now - self.settings.grace:
                missed.append(pending.change)
            else:
                continue
            del self._pending[key]
            self._judged[key] = now
        while len(self._judged) > self.settings.delivery_memory:
            self._judged.popitem(last=False)
        return missed, covered

    def _covered(self, pending: _Pending) -> bool:
        seen = self._delivered.get(pending.change.page_id)
        if seen is None:
            return False
        received_at, delivered_version = seen
        change = pending.change
        if change.version is not None and delivered_version is not None:
            return delivered_version >= change.version
        # No versions to compare (Data Center's ID-only payloads): go by time.
        if change.modified_at is not None:
            return received_at >= change.modified_at - self.settings.clock_skew
        return received_at >= pending.window_start - self.settings.grace

    def _schedule_follow_up(self, now: float) -> None:
        """Judge pending changes soon after their grace ends rather than a whole period later."""
        if not self._pending or self._next_check is None:
            return
        due = min(p.changed_at for p in self._pending.values()) + self.settings.grace + 1.0
        self._next_check = min(self._next_check, max(due, now + 1.0))

    def _stay(self) -> Transition:
        return Transition(mode=self.mode, reason=self.reason)

    def _switch(self, mode: Mode, reason: str, *, full_scan: bool) -> Transition:
        now = self._clock()
        previous = self.mode
        self.mode = mode
        self.reason = reason
        self.since = now
        self._misses = 0
        self._pending.clear()
        self._last_observed_at = now
        if mode is Mode.POLLING:
            self._deliveries_since_fallback = 0
            self._next_poll = now if full_scan else now + self.settings.poll_interval
            self._next_check = None
            if full_scan:
                self._next_full = now
        else:
            self._next_poll = None
            self._next_check = now + self.settings.silence_timeout
        if previous is mode:
            line = f"mode stays {mode.value}: {reason}"
        else:
            line = f"mode {previous.value} -> {mode.value}: {reason}"
        return Transition(mode=mode, reason=reason, switched=previous is not mode, log_line=line)
