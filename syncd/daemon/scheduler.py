"""Runs the mode machine's timers: freshness checks, polls, full scans, re-registration.

This is the poller. Like every trigger it only marks pages dirty (and asks for full
scans); the reconcile path decides what happens. The remote side is injected as two small
callables so this module needs nothing from the client or the sync engine:

* ``changes_since(since_epoch) -> Sequence[RemoteChange]``: pages changed since a time
  (the feed applies its own overlap, e.g. ``ConfluenceClient.changes_since``), and pages
  whose attachments changed (``RemoteChange.attachment`` set: never dropped as known);
* ``register() -> None``: (re-)register the webhook, raising with a human-readable reason
  when that is impossible.

Wiring (sketch)::

    machine = ModeMachine(ModeSettings(silence_timeout=cfg.webhook.silence_timeout, ...))
    sched = ModeScheduler(machine, changes_since=feed, dirty=dirty,
                          known_version=state.remote_version, register=register,
                          watermark=started_at, on_transition=lambda t: notifier.status(...))
    receiver kwargs: on_delivery=delivery_listener(machine), mode=lambda: machine.mode.value
    await sched.register_now()        # after the receiver is listening
    task = asyncio.create_task(sched.run(stop_event))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from syncd.daemon.credentials import TokenStillRefused
from syncd.daemon.dirty import DirtySet
from syncd.daemon.events import RemoteHint
from syncd.daemon.modes import Mode, ModeMachine, RemoteChange, Task, Transition

log = logging.getLogger(__name__)

ChangeFeed = Callable[[float], Awaitable[Sequence[RemoteChange]]]
Register = Callable[[], Awaitable[object]]


def delivery_listener(machine: ModeMachine) -> Callable[[RemoteHint | None], None]:
    """The receiver's ``on_delivery``: every authenticated delivery tells the machine."""

    def on_delivery(hint: RemoteHint | None) -> None:
        if hint is None:
            machine.delivery_received()
            return
        version = hint.version if hint.version_is_content else None
        machine.delivery_received(hint.page_id, version)

    return on_delivery


class ModeScheduler:
    def __init__(
        self,
        machine: ModeMachine,
        *,
        changes_since: ChangeFeed,
        dirty: DirtySet,
        watermark: float,
        known_version: Callable[[str], int | None] | None = None,
        register: Register | None = None,
        on_transition: Callable[[Transition], None] | None = None,
        on_watermark: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        retry_delay: float = 30.0,
        max_sleep: float = 60.0,
    ) -> None:
        self.machine = machine
        self._changes_since = changes_since
        self.dirty = dirty
        self.watermark = watermark
        self._known_version = known_version
        self._register = register
        self._on_transition = on_transition
        self._on_watermark = on_watermark
        self._clock = clock
        self.retry_delay = retry_delay
        self.max_sleep = max_sleep
        self._wake = asyncio.Event()
        self._last_register_error: str | None = None
        self.last_error: str | None = None

    def wake(self) -> None:
        """Re-evaluate the schedule now (e.g. after a manual ``syncd sync``)."""
        self._wake.set()

    async def register_now(self) -> bool:
        """Try to register the webhook now; the outcome drives the machine. Never raises."""
        if self._register is None:
            self._report(self.machine.webhooks_disabled())
            return False
        self.machine.register_attempted()
        try:
            await self._register()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            repeated = reason == self._last_register_error
            self._last_register_error = reason
            transition = self.machine.registration_failed(reason)
            if repeated:
                log.debug("webhook registration still impossible: %s", reason)
            else:
                self._report(transition)
                retry = self.machine.schedule().next_register_at
                wait = f"{max(0, round(retry - self._clock()))}s" if retry else "later"
                # The advice follows the cause: a busy port is not fixed by a public URL.
                fix = getattr(exc, "fix", None) or (
                    "to receive webhooks, make webhook.public_url reachable from Confluence and "
                    "use an account allowed to manage webhooks"
                )
                retry_now = (
                    " (`syncd webhook register` to retry now)"
                    if getattr(exc, "retry_by_hand", True)
                    else ""
                )
                log.warning(
                    "running in polling mode; syncd will retry registering the webhook in %s. "
                    "Fix: %s%s",
                    wait,
                    fix,
                    retry_now,
                )
            return False
        self._last_register_error = None
        self._report(self.machine.registration_succeeded())
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Run due tasks until ``stop`` is set; sleeps (no CPU) between them."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:
                # A failing callback must neither end the poller nor make it spin.
                log.exception("scheduler pass failed; retrying in %.0fs", self.retry_delay)
                for task in self.machine.due():
                    self.machine.defer(task, self.retry_delay)
            delay = min(self.max_sleep, max(0.0, self.machine.next_wakeup() - self._clock()))
            self._wake.clear()
            stop_wait = asyncio.ensure_future(stop.wait())
            wake_wait = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait(
                    {stop_wait, wake_wait}, timeout=delay, return_when="FIRST_COMPLETED"
                )
            finally:
                for fut in (stop_wait, wake_wait):
                    fut.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await fut

    async def run_due(self) -> list[Task]:
        """Run every task that is due now, once; returns what ran."""
        ran: list[Task] = []
        for task in self.machine.due():
            if task is Task.FULL_SCAN:
                self.dirty.request_full_scan("scheduled full scan")
                self.machine.full_scan_done()
            elif task is Task.REGISTER:
                await self.register_now()
            else:
                await self._check(task)
            ran.append(task)
        return ran

    async def _check(self, task: Task) -> None:
        started = self._clock()
        try:
            changes = await self._changes_since(self.watermark)
        except asyncio.CancelledError:
            raise
        except TokenStillRefused as exc:  # said once where it was noticed
            self.last_error = f"{task.value} waits: {exc}"
            self.machine.defer(task, self.retry_delay)
            return
        except Exception as exc:
            error = f"{task.value} failed: {exc}"
            # The same failure again (a missing scope, a server down) is said once.
            say = log.debug if error == self.last_error else log.warning
            self.last_error = error
            say("%s failed (retrying in %.0fs): %s", task.value, self.retry_delay, exc)
            self.machine.defer(task, self.retry_delay)
            return
        self.last_error = None
        marked = [replace(c, known=not self._is_new(c)) for c in changes]
        new = [c for c in marked if not c.known]
        for change in new:
            self.dirty.add(change.page_id, source="poll", version=change.version)
        if task is Task.POLL:
            transition = self.machine.polled(marked)
        else:
            transition = self.machine.freshness_checked(marked)
        if new:
            log.info("%s found %d change(s) not yet synced", task.value, len(new))
        self.watermark = started
        self._report(transition)
        if self._on_watermark is not None:
            try:
                self._on_watermark(started)
            except Exception:
                log.exception("could not save the poll watermark")

    def _is_new(self, change: RemoteChange) -> bool:
        if change.attachment is not None:
            # The page's version says nothing about its attachments; the feed knows
            # whether the state has this attachment version.
            return not change.known
        if self._known_version is None or change.version is None:
            return True
        known = self._known_version(change.page_id)
        return known is None or change.version > known

    def _report(self, transition: Transition) -> None:
        if transition.log_line is None:
            return
        level = logging.WARNING if transition.mode is Mode.POLLING else logging.INFO
        log.log(level, "%s", transition.log_line)
        if self._on_transition is not None:
            try:
                self._on_transition(transition)
            except Exception:
                log.exception("mode transition callback failed")
