"""The running daemon: the building blocks of this package wired around the sync engine.

Every trigger only marks work in one :class:`~syncd.daemon.dirty.DirtySet` (page ids from
webhooks and the poller, ``file:<path>`` keys from the watcher, a full-scan flag from the
scheduler); one main loop turns each batch into ``engine.run_once(SyncRequest(...))``.

Startup: open the engine (the state lock refuses a second instance) -> control socket ->
receiver and watcher (both only mark work, so nothing that happens during the catch-up
is lost) -> one full ``run_once`` (the catch-up) -> webhook registration -> poller ->
READY. Shutdown (first SIGTERM/SIGINT): STOPPING, 503 for deliveries, watcher and poller
stopped, the sync in flight finishes (bounded), registrations removed if
``webhook.unregister_on_exit``, state saved, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from syncd.daemon.control import ControlServer, empty_status, iso_utc
from syncd.daemon.credentials import TokenStillRefused, TokenWatch, is_refused_token
from syncd.daemon.dirty import DirtyBatch, DirtySet
from syncd.daemon.events import RemoteHint
from syncd.daemon.handler import AppliedChange as HookChange
from syncd.daemon.handler import HandlerRunner
from syncd.daemon.logging_setup import RecentErrors
from syncd.daemon.modes import ModeMachine, ModeSettings, RemoteChange, Transition
from syncd.daemon.notify import SystemdNotifier
from syncd.daemon.receiver import (
    RECEIVER_KEY,
    ReceiverConfig,
    WebhookReceiver,
    create_webhook_app,
    start_receiver,
)
from syncd.daemon.registration import (
    Registrar,
    WebhookSecret,
    load_or_create_secret,
)
from syncd.daemon.scheduler import ModeScheduler, delivery_listener
from syncd.daemon.signals import ShutdownSignals

log = logging.getLogger("syncd.daemon")

FILE_PREFIX = "file:"
MAX_BACKOFF = 300.0
REPORTED_MEMORY = 50_000
# meta keys in the state database, read by `syncd status` when the daemon is stopped
META_PREFIX = "daemon."

EngineFactory = Callable[..., Awaitable[Any]]


class ReceiverNotListening(RuntimeError):
    """The webhook port is taken: the fix is the port, not the public URL or the account."""

    fix = "free the port (another syncd or program holds it) or change webhook.listen"
    retry_by_hand = False  # `syncd webhook register` cannot bind the daemon's port


RequestFactory = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class RunOptions:
    handler: str | None = None
    # Coalescing window: marks arriving this close together go in one run.
    settle: float = 0.05
    # Shutdown: how long the sync in flight may take before it is cancelled.
    stop_budget: float = 8.0
    install_signals: bool = True
    # A refused token: how often to look for a new one in its source (a stat of two
    # files, no request), and how often to try the same token again.
    token_check: float = 2.0
    token_retry: float = 900.0


def _default_engine_factory() -> EngineFactory:
    from syncd.sync.engine import SyncEngine

    return SyncEngine.open


def _default_request_factory() -> RequestFactory:
    from syncd.sync.engine import SyncRequest

    return SyncRequest


def _flavor(deployment: str) -> str:
    return "cloud" if deployment == "cloud" else "dc"


def grace_for(silence_timeout: float) -> float:
    """How late a delivery may be before it counts as missed: 2 minutes, or less when the
    silence timeout is shorter (a delivery is judged within one check period)."""
    return max(0.5, min(120.0, silence_timeout / 2))


class Daemon:
    """One ``syncd run``. :meth:`run` returns the exit status."""

    def __init__(
        self,
        config: Any,
        *,
        options: RunOptions | None = None,
        recent: RecentErrors | None = None,
        redactor: Any = None,
        engine_factory: EngineFactory | None = None,
        request_factory: RequestFactory | None = None,
        notifier: SystemdNotifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.options = options or RunOptions()
        self.recent = recent or RecentErrors()
        self.redactor = redactor
        self._engine_factory = engine_factory
        self._request_factory = request_factory
        self.notifier = notifier or SystemdNotifier.from_env()
        self._clock = clock
        self.stop_event = asyncio.Event()
        self.ready = asyncio.Event()
        self.engine: Any = None
        self.dirty = DirtySet()
        self.machine: ModeMachine | None = None
        self.scheduler: ModeScheduler | None = None
        self.receiver: WebhookReceiver | None = None
        self.registrar: Registrar | None = None
        self.watcher: Any = None
        self.control: ControlServer | None = None
        self.handler: HandlerRunner | None = None
        self.secret: WebhookSecret | None = None
        self.started_at = clock()
        self.reconciling = True
        self.syncing = False
        self.in_flight = 0
        self.blocked: str | None = None
        self.space_removed: str | None = None
        self.listen_error: str | None = None
        #: Why webhooks cannot work at all here (None: they may), said once at start.
        self.webhooks_off: str | None = None
        self.last_sync_at: float | None = None
        self.conflicts: list[str] = []
        self.conflict_help: list[str] = []  # one line per conflict: what to do
        self.sync_errors: list[str] = []
        self._failures = 0
        self._error_runs = 0
        self._retry_handle: asyncio.TimerHandle | None = None
        self._runner: Any = None
        self._app: Any = None  # the webhook receiver app, built once even if the port is busy
        self._tasks: list[asyncio.Task[Any]] = []
        self._main_task: asyncio.Task[None] | None = None
        self._signals: ShutdownSignals | None = None
        self._space_id: str | None = None
        self._reported: OrderedDict[tuple[str, int], None] = OrderedDict()
        self.tokens: TokenWatch | None = None

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        syncd_logger = logging.getLogger("syncd")
        attached = self.recent not in syncd_logger.handlers
        if attached:  # setup_logging attaches it for `syncd run`; embedded uses need this
            syncd_logger.addHandler(self.recent)
        if self.options.install_signals:
            self._signals = ShutdownSignals(loop, on_first=lambda _sig: self.request_stop())
            self._signals.install()
        try:
            code = await self._start()
            if code is not None:
                return code
            await self.stop_event.wait()
            return 0
        finally:
            await self._shutdown()
            if self._signals is not None:
                self._signals.uninstall()
            if attached:
                syncd_logger.removeHandler(self.recent)

    def request_stop(self) -> None:
        """Begin shutdown (what the first SIGTERM/SIGINT does)."""
        if not self.stop_event.is_set():
            self.notifier.stopping("stopping")
            if self.receiver is not None:
                self.receiver.stop_accepting()
            self.stop_event.set()

    async def _start(self) -> int | None:
        cfg = self.config
        from syncd.sync.state import StateLocked

        self.watcher = self._make_watcher()
        factory = self._engine_factory or _default_engine_factory()
        try:
            self.engine = await factory(cfg, observer=self.watcher)
        except StateLocked as exc:
            pid = f"pid {exc.pid}" if exc.pid else "another process"
            log.error(
                "syncd is already running for this folder/state (%s holds %s); "
                "stop it first or use another state_dir",
                pid,
                exc.path,
            )
            return 2
        except Exception as exc:
            log.error("cannot start: %s", exc or type(exc).__name__)
            return 1
        if self.stop_event.is_set():
            return 0
        self.tokens = TokenWatch(
            cfg,
            client=lambda: self.engine.client,
            on_renewed=self.dirty.request_full_scan,
            clock=self._clock,
            check_every=self.options.token_check,
            retry_every=self.options.token_retry,
        )
        # The engine refuses a missing folder that has pages tracked (an unmounted disk);
        # past that point the folder exists or is new, and the watcher needs it.
        cfg.local.path.mkdir(parents=True, exist_ok=True)

        self.handler = self._make_handler()
        self.machine = ModeMachine(
            ModeSettings(
                silence_timeout=cfg.webhook.silence_timeout,
                poll_interval=cfg.poll.interval,
                full_scan_interval=cfg.poll.full_scan,
                grace=grace_for(cfg.webhook.silence_timeout),
                clock_skew=min(30.0, grace_for(cfg.webhook.silence_timeout)),
                register_retry_min=min(60.0, max(1.0, cfg.poll.interval)),
            ),
            clock=self._clock,
        )
        self.control = ControlServer(cfg.state_dir, self.status)
        try:
            await self.control.start()
        except Exception as exc:
            log.warning(
                "status socket unavailable (syncd status will not reach this daemon): %s", exc
            )
            self.control = None

        self.webhooks_off = self._webhooks_impossible()
        if cfg.webhook.enabled and self.webhooks_off is None:
            await self._start_receiver()
        await self._start_watcher()

        # Catch up: one full reconcile of everything that changed while syncd was down.
        self.notifier.status("catching up")
        log.info("catching up with %s and %s", cfg.confluence.space, cfg.local.path)
        caught_up_at = self._clock()
        extend = asyncio.create_task(self._extend_start_timeout())
        try:
            await self._until_stopped(self._sync_request(None))
        finally:
            extend.cancel()
        self.reconciling = False
        if self.stop_event.is_set():
            return 0

        self.machine.full_scan_done()
        self.scheduler = ModeScheduler(
            self.machine,
            changes_since=self._changes_since,
            dirty=self.dirty,
            watermark=caught_up_at,
            known_version=self.known_version,
            register=self._register if self._app is not None else None,
            on_transition=self._on_transition,
            on_watermark=self._on_watermark,
            clock=self._clock,
            retry_delay=min(30.0, max(1.0, cfg.poll.interval)),
        )
        if self._app is not None:
            await self.scheduler.register_now()
        else:
            self._on_transition(
                self.machine.webhooks_disabled(
                    self.webhooks_off or "webhooks disabled in the configuration"
                )
            )
        self._tasks.append(asyncio.create_task(self.scheduler.run(self.stop_event), name="poller"))
        self._main_task = asyncio.create_task(self._main_loop(), name="sync-loop")
        self._tasks.append(self.notifier.start_watchdog(self._healthy))  # type: ignore[arg-type]
        self._tasks = [t for t in self._tasks if t is not None]
        self._save_meta()
        mode = self.machine.mode.value
        self.notifier.ready(f"{mode}: {self.machine.reason}")
        log.info(
            "ready: %s mode (%s), %d page(s) tracked, folder %s",
            mode,
            self.machine.reason,
            self._engine_status().get("pages", 0),
            cfg.local.path,
        )
        self.ready.set()
        return None

    def _webhooks_impossible(self) -> str | None:
        """Through Atlassian's API gateway (a scoped token) no webhook can be registered:
        say so once and poll, with no receiver listening and no registration retries."""
        client = getattr(self.engine, "client", None)
        if not self.config.webhook.enabled or not getattr(client, "via_gateway", False):
            return None
        from syncd.confluence.errors import WebhooksNotForScopedTokens
        from syncd.daemon.registration import describe_refusal

        return describe_refusal(WebhooksNotForScopedTokens())  # logged with the mode

    async def _extend_start_timeout(self) -> None:
        while True:
            self.notifier.extend_timeout(90)
            await asyncio.sleep(30)

    async def _until_stopped(self, work: Awaitable[Any]) -> None:
        """Run ``work``; on a stop request let it finish within the budget, then cancel."""
        task = asyncio.ensure_future(work)
        stop_wait = asyncio.ensure_future(self.stop_event.wait())
        try:
            await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                done, _ = await asyncio.wait({task}, timeout=self.options.stop_budget)
                if not done:
                    log.warning(
                        "sync in flight did not finish in time; cancelled (it resumes at the next start)"
                    )
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if task.done() and not task.cancelled():
                task.result()
        finally:
            stop_wait.cancel()

    async def _shutdown(self) -> None:
        self.request_stop()
        if self.watcher is not None and self.engine is not None:
            with contextlib.suppress(Exception):
                await self.watcher.stop()
        if self._main_task is not None:
            done, _ = await asyncio.wait({self._main_task}, timeout=self.options.stop_budget)
            if not done:
                log.warning("sync in flight did not finish in time; cancelled")
                self._main_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._main_task
        if self._retry_handle is not None:
            self._retry_handle.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if (
            self.registrar is not None
            and self.config.webhook.unregister_on_exit
            and self.engine is not None
        ):
            try:
                async with asyncio.timeout(5):
                    await self.registrar.unregister()
            except Exception as exc:
                log.warning("could not unregister the webhook: %s", exc or type(exc).__name__)
        if self.handler is not None:
            await self.handler.close(drain_timeout=2.0)
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
        if self.control is not None:
            with contextlib.suppress(Exception):
                await self.control.stop()
        if self.engine is not None:
            self._save_meta(stopped=True)
            try:
                await self.engine.close()
            except Exception as exc:
                log.warning("closing the sync engine failed: %s", exc)
            log.info("stopped")
        self.notifier.close()

    # ------------------------------------------------------------------ parts

    def _make_watcher(self) -> Any:
        from syncd.local.watcher import LocalWatcher

        return LocalWatcher(
            self.config.local.path,
            self._on_local_changes,
            debounce=self.config.sync.debounce,
            on_degraded=lambda why: log.warning("file watcher degraded: %s", why),
        )

    async def _start_watcher(self) -> None:
        try:
            await self.watcher.start()
        except Exception as exc:
            log.error("file watcher failed to start (local edits wait for full scans): %s", exc)

    def _make_handler(self) -> HandlerRunner | None:
        command = self.options.handler or self.config.sync.handler
        if not command:
            return None
        secrets = [self.config.confluence.token, self.config.webhook.secret]
        try:
            runner = HandlerRunner(command, secrets=secrets, cwd=self.config.local.path)
        except ValueError as exc:
            log.warning("sync.handler not used: %s", exc)
            return None
        runner.start()
        return runner

    async def _start_receiver(self) -> None:
        """Build the webhook app and try to listen; a busy port is retried by `_register`."""
        cfg = self.config
        client = self.engine.client
        self.secret = load_or_create_secret(cfg.state_dir, cfg.webhook.secret)
        if self.redactor is not None:
            self.redactor.add(self.secret.value)
        if self.secret.generated:
            log.info("generated a webhook secret (kept in %s)", cfg.state_dir)
        with contextlib.suppress(Exception):
            self._space_id = str((await client.get_space(cfg.confluence.space)).id)
        assert self.machine is not None
        self._app = create_webhook_app(
            ReceiverConfig(
                flavor=_flavor(client.deployment),  # type: ignore[arg-type]
                secret=self.secret.value,
                path=cfg.webhook.path,
                space_key=cfg.confluence.space,
                space_id=self._space_id,
                blog_posts=cfg.sync.blog_posts,
                attachments=cfg.sync.attachments,
                body_timeout=cfg.webhook.body_timeout,
                idle_timeout=cfg.webhook.idle_timeout,
            ),
            self._on_hint,
            on_delivery=delivery_listener(self.machine),
            on_overflow=self.dirty.request_full_scan,
            known_version=self.known_version,
            mode=lambda: self.machine.mode.value if self.machine else "starting",
        )
        try:
            await self._listen()
        except OSError:
            log.error(
                "%s; running in polling mode and retrying the port later "
                "(free it or change webhook.listen)",
                self.listen_error,
            )

    async def _listen(self) -> None:
        """Bind the receiver (raises OSError with `listen_error` set when the port is busy)."""
        cfg = self.config
        try:
            self._runner = await start_receiver(self._app, cfg.webhook.host, cfg.webhook.port)
        except OSError as exc:
            self.listen_error = f"cannot listen on {cfg.webhook.listen}: {exc.strerror or exc}"
            raise
        self.listen_error = None
        self.receiver = self._app[RECEIVER_KEY]
        self.registrar = Registrar(cfg, self.engine.client, self.engine.state, self.secret)
        log.info("webhook receiver listening on %s", cfg.webhook.listen)

    async def _register(self) -> None:
        """Register the webhook; first bind the receiver if its port was busy so far.

        The mode machine retries a failed registration with back-off, so a port that
        another process held at start (an old instance still stopping) is taken over
        as soon as it is free, and webhooks resume without a restart.
        """
        if self.registrar is None:
            if self._app is None:
                raise RuntimeError("webhook receiver not started")
            try:
                await self._listen()
            except OSError:
                raise ReceiverNotListening(
                    f"webhook receiver not listening: {self.listen_error}"
                ) from None
        assert self.registrar is not None
        await self.registrar.register()

    # ------------------------------------------------------------------ triggers

    async def _on_hint(self, hint: RemoteHint) -> None:
        if hint.is_space_removed:
            self._stop_syncing(
                f"space {self.config.confluence.space} was removed in Confluence; syncing "
                "stopped and no local file was deleted (stop syncd and point it at another space)"
            )
            return
        if hint.page_id is None:
            return
        self.dirty.add(hint.page_id, source="webhook", version=hint.version, event=hint.event)

    def _on_local_changes(self, changes: Iterable[Any]) -> None:
        for change in changes:
            self.dirty.add(FILE_PREFIX + change.path, source="watcher", event=change.kind)
            if change.src:
                self.dirty.add(FILE_PREFIX + change.src, source="watcher", event=change.kind)

    async def _changes_since(self, since: float) -> list[RemoteChange]:
        if self.tokens is not None:
            self.tokens.check()
        try:
            return await self._read_changes(since)
        except Exception as exc:
            if self._token_refused(exc):
                raise TokenStillRefused(str(exc)) from None
            raise

    async def _read_changes(self, since: float) -> list[RemoteChange]:
        import datetime as dt

        start = dt.datetime.fromtimestamp(since, dt.UTC)
        changes = await self.engine.client.changes_since(
            self.config.confluence.space,
            start,
            include_blogposts=self.config.sync.blog_posts,
        )
        found = [((str(c.id), c.version), RemoteChange(str(c.id), c.version)) for c in changes]
        if self.config.sync.attachments:
            # An attachment upload leaves its page's version alone: a hint for the page
            # (the targeted run reads its attachment list).
            for a in await self.engine.client.attachment_changes_since(
                self.config.confluence.space, start
            ):
                label = f"{a.id} v{a.version}"
                known = self._has_attachment(a.page_id, a.id, a.version)
                change = RemoteChange(a.page_id, None, known=known, attachment=label)
                found.append(((label, a.version), change))
        # The feed's window overlaps (minute precision; on Data Center a wide margin for an
        # unknown time zone), so the same (page, version) comes back poll after poll. The
        # mode machine keeps what it has not judged yet, so each is reported once: pages
        # unchanged for hours must not count as "not delivered" at every poll.
        fresh: list[RemoteChange] = []
        for key, change in found:
            if key in self._reported:
                continue
            self._reported[key] = None
            fresh.append(change)
        while len(self._reported) > REPORTED_MEMORY:
            self._reported.popitem(last=False)
        return fresh

    def _has_attachment(self, page_id: str, attachment_id: str, version: int) -> bool:
        """The state has this attachment at this version (e.g. syncd uploaded it)."""
        try:
            records = self.engine.state.attachments(page_id)
        except Exception:
            return False
        return any(r.attachment_id == attachment_id and r.version >= version for r in records)

    def known_version(self, page_id: str) -> int | None:
        try:
            record = self.engine.state.get_page(page_id)
        except Exception:
            return None
        if record is None or getattr(record, "tombstone", None) is not None:
            return None
        return record.remote_version

    def _on_transition(self, transition: Transition) -> None:
        self.notifier.status(f"{transition.mode.value}: {transition.reason}")
        self._save_meta()

    def _on_watermark(self, at: float) -> None:
        self._set_meta("last_poll_at", iso_utc(at))

    def _stop_syncing(self, reason: str) -> None:
        if self.space_removed is None:
            self.space_removed = reason
            self.blocked = reason
            log.error("%s", reason)
            self.notifier.status(f"stopped: {reason}")
            self._set_meta("blocked", reason)

    # ------------------------------------------------------------------ the main loop

    async def _main_loop(self) -> None:
        while not self.stop_event.is_set():
            if self.tokens is not None and self.tokens.refused is not None:
                await self.tokens.wait_until_usable(self.stop_event)  # the work waits
                if self.tokens.refused is not None:
                    self.dirty.request_full_scan("retrying the refused API token")
            batch = await self._next_batch()
            if batch is None:
                return
            if self.space_removed is not None:
                continue  # syncing stopped: drop triggers, delete nothing
            ok = await self._sync_batch(batch)
            if not ok:
                await self._sleep_unless_stopped(self._backoff(self._failures))

    async def _next_batch(self) -> DirtyBatch | None:
        wait = asyncio.ensure_future(self.dirty.wait())
        stop = asyncio.ensure_future(self.stop_event.wait())
        try:
            await asyncio.wait({wait, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wait.cancel()
            stop.cancel()
        if self.stop_event.is_set():
            return None
        if self.options.settle > 0:
            await self._sleep_unless_stopped(self.options.settle)
            if self.stop_event.is_set():
                return None
        return self.dirty.take()

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), seconds)

    @staticmethod
    def _backoff(failures: int) -> float:
        return min(MAX_BACKOFF, 2.0 ** max(0, failures - 1))

    async def _sync_batch(self, batch: DirtyBatch) -> bool:
        ids = {k for k in batch.entries if not k.startswith(FILE_PREFIX)}
        paths = {k[len(FILE_PREFIX) :] for k in batch.entries if k.startswith(FILE_PREFIX)}
        what = []
        if ids:
            what.append(f"{len(ids)} page(s)")
        if paths:
            what.append(f"{len(paths)} file(s)")
        if batch.full_scan:
            what.append("full scan: " + ", ".join(batch.full_scan_reasons))
        log.debug("sync %s", "; ".join(what))
        self.in_flight = len(batch.entries)
        try:
            await self._sync_request(
                self._make_request(page_ids=ids, paths=paths, full=batch.full_scan)
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._requeue(batch)
            if self._token_refused(exc):
                return True  # the main loop waits for a usable token
            self._failures += 1
            delay = self._backoff(self._failures)
            log.error("sync failed (retrying in %.0fs): %s", delay, exc or type(exc).__name__)
            return False
        finally:
            self.in_flight = 0
        self._failures = 0
        if self.sync_errors:
            self._error_runs += 1
            delay = self._backoff(self._error_runs + 1)
            loop = asyncio.get_running_loop()
            if self._retry_handle is not None:
                self._retry_handle.cancel()
            # Pages only: a full scan that met a broken file must not become a full
            # listing every few minutes; the scheduled full scan retries those.
            self._retry_handle = loop.call_later(delay, self._requeue, batch, False)
        else:
            self._error_runs = 0
        return True

    def _make_request(self, **fields: Any) -> Any:
        factory = self._request_factory or _default_request_factory()
        return factory(**fields)

    def _requeue(self, batch: DirtyBatch, full: bool = True) -> None:
        if self.stop_event.is_set():
            return
        for key, entry in batch.entries.items():
            self.dirty.add(key, source="retry", version=entry.max_version)
        if full:
            for reason in batch.full_scan_reasons:
                self.dirty.request_full_scan(reason)

    async def _sync_request(self, request: Any) -> None:
        """One ``run_once``; its report goes to the log, the status and the handler."""
        self.syncing = True
        try:
            report = await self.engine.run_once(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if request is None:  # the catch-up: retry as a full scan with backoff
                self.dirty.request_full_scan("catch-up failed")
                if self._token_refused(exc):
                    return
                self._failures += 1
                log.error("catch-up failed (retrying with backoff): %s", exc or type(exc).__name__)
                return
            raise
        finally:
            self.syncing = False
        if self.tokens is not None:
            self.tokens.succeeded()
        self.last_sync_at = self._clock()
        self._handle_report(report)
        if request is None or getattr(request, "full", False):
            release_memory()

    def _token_refused(self, exc: BaseException) -> bool:
        """A refused token is noted (said once) rather than retried with back-off."""
        if self.tokens is None or not is_refused_token(exc):
            return False
        self.tokens.note(exc)
        return True

    def _handle_report(self, report: Any) -> None:
        for change in getattr(report, "applied", ()) or ():
            self._log_applied(change)
            if self.handler is not None:
                self.handler.submit(_hook_change(change))
        errors = list(getattr(report, "errors", ()) or ())
        new_errors = [e for e in errors if e not in self.sync_errors]
        for line in new_errors:
            log.warning("%s", line)
        self.sync_errors = errors
        conflicts = list(getattr(report, "conflicts", ()) or ())
        todo = dict(getattr(report, "conflict_help", None) or {})
        for path in conflicts:
            if path not in self.conflicts:
                # The line says what ends it in its mode (markers to resolve, a copy to delete).
                log.warning("conflict: %s", todo.get(path) or path)
        self.conflicts = conflicts
        self.conflict_help = [todo.get(path) or path for path in conflicts]
        blocked = getattr(report, "blocked_deletions", None)
        if blocked and blocked != self.blocked:
            log.error("%s", blocked)
        if self.space_removed is None:
            self.blocked = blocked or None

    def _log_applied(self, change: Any) -> None:
        version = f" v{change.version}" if getattr(change, "version", None) is not None else ""
        log.info(
            "%s %r%s (%s) page %s -> %s",
            change.event_type,
            change.title,
            version,
            change.direction,
            change.page_id,
            change.path,
        )

    def _healthy(self) -> bool:
        return self._main_task is not None and not self._main_task.done()

    # ------------------------------------------------------------------ status

    def _engine_status(self) -> dict[str, Any]:
        if self.engine is None:
            return {}
        try:
            return dict(self.engine.status())
        except Exception as exc:
            log.debug("engine status failed: %s", exc)
            return {}

    def status(self) -> dict[str, Any]:
        cfg = self.config
        eng = self._engine_status()
        doc = empty_status()
        machine = self.machine
        snap = machine.snapshot() if machine is not None else {}
        receiver = self.receiver
        polled = [
            t
            for t in (
                snap.get("last_poll_at"),
                machine.last_check_at if machine is not None else None,
            )
            if t is not None
        ]
        mode = snap.get("mode")
        reason = snap.get("reason")
        if self.space_removed is not None:
            mode, reason = "stopped", self.space_removed
        errors = [e["message"] for e in self.recent.as_list()]
        for line in list(eng.get("errors") or []) + self.sync_errors:
            if line not in errors:
                errors.append(line)
        hooks = self.registrar.hooks if self.registrar is not None else []
        webhook = {
            "registered": bool(snap.get("registered")),
            "id": ",".join(str(h.id) for h in hooks) or None,
            "url": cfg.webhook.public_url if cfg.webhook.enabled else None,
            "enabled": bool(cfg.webhook.enabled),
        }
        if not webhook["registered"]:
            why = (
                self.registrar.last_error
                if self.registrar is not None
                else self.listen_error
                or self.webhooks_off
                or (None if cfg.webhook.enabled else "disabled")
            )
            if why:
                webhook["reason"] = why
        conflicts = eng.get("conflicts")
        conflict_help = eng.get("conflict_help")
        # Each conflict's page (`conflict_rows`); the last run's report has paths only.
        details = eng.get("conflict_details")
        if conflicts is None:
            conflicts, conflict_help, details = self.conflicts, self.conflict_help, None
        pending = len(self.dirty) + self.in_flight + int(eng.get("pending") or 0)
        doc.update(
            running=True,
            mode=mode,
            mode_reason=reason,
            space=cfg.confluence.space,
            path=str(cfg.local.path),
            pages=int(eng.get("pages") or 0),
            containers=dict(eng.get("containers") or {}),
            pending=pending,
            conflicts=list(conflicts),
            conflict_help=list(conflict_help or conflicts),
            last_event_at=iso_utc(receiver.stats.last_event_at if receiver else None),
            last_poll_at=iso_utc(max(polled) if polled else None),
            webhook=webhook,
            errors=errors[-20:],
            pid=os.getpid(),
            started_at=iso_utc(self.started_at),
            reconciling=self.reconciling,
            syncing=self.syncing,
            last_sync_at=iso_utc(self.last_sync_at or eng.get("last_sync_at")),
        )
        if details is not None:
            doc["conflict_details"] = list(details)
        if self.blocked:
            doc["blocked"] = self.blocked
        refused = self.tokens.status() if self.tokens is not None else None
        if refused is not None:
            doc["credentials"] = {
                "refused": refused["refused"],
                "since": iso_utc(refused["since"]),
                "source": refused["source"],
            }
        if self.watcher is not None and getattr(self.watcher, "degraded", None):
            doc["degraded"] = f"file watcher: {self.watcher.degraded}"
        return doc

    def _set_meta(self, key: str, value: str | None) -> None:
        state = getattr(self.engine, "state", None)
        if state is None:
            return
        try:
            state.set_meta(META_PREFIX + key, value)
        except Exception as exc:
            log.debug("could not save %s: %s", key, exc)

    def _save_meta(self, *, stopped: bool = False) -> None:
        doc = self.status()
        for key in ("mode", "mode_reason", "last_event_at", "last_poll_at"):
            value = doc.get(key)
            if value is not None:
                self._set_meta(key, str(value))
        self._set_meta("stopped_at", iso_utc(self._clock()) if stopped else None)


def release_memory() -> None:
    """Give the heap a full run left behind back to the OS.

    A full run holds every page record (with its base copy) at once; CPython frees those
    objects afterwards but glibc keeps the pages, so an idle daemon would sit on the peak
    of its last full scan. ``malloc_trim`` returns them (a few milliseconds); elsewhere
    this only collects garbage.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass


def _hook_change(change: Any) -> HookChange:
    direction = {"remote->local": "pull", "local->remote": "push"}.get(
        change.direction, change.direction
    )
    return HookChange(
        event_type=change.event_type,
        direction=direction,
        page_id=str(change.page_id),
        title=change.title,
        space_key=change.space_key,
        version=change.version,
        path=change.path,
    )
