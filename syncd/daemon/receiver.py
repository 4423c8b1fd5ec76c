"""The webhook receiver: verify, parse, drop duplicates, hand off, answer in milliseconds.

Order of work on ``POST <path>`` (see docs/reliability §3):

1. While stopping: 503 (a sender that retries will come back; Confluence does not retry,
   and the next start's catch-up covers the gap).
2. Cloud: the URL token is checked before the body is read (constant time).
3. The body is read with a size cap (``Content-Length`` and a streaming guard): 413,
   and a time cap (``body_timeout``, a slowloris client dribbling bytes): 408.
4. Data Center: ``X-Hub-Signature: sha256=<hex>`` is checked over the raw bytes with
   :func:`hmac.compare_digest`: 401 on a bad or missing signature, nothing processed.
5. Malformed JSON: 400. Unknown or irrelevant events, other spaces: 200 ``ignored``.
6. Duplicates (same delivery bytes, or same page + version + event) and stale versions
   (an older content version than one already seen or known): 200 ``duplicate``/``stale``.
7. ``persist`` (optional, synchronous) records the hint durably *before* the 2xx, so an
   acknowledged event survives a crash (Confluence never redelivers). If it raises, the
   answer is 503 and the hint is not remembered as seen.
8. The hint goes on a bounded queue; a dispatcher task awaits ``on_hint`` for each, so
   the response never waits for processing. A full queue does not block: it calls
   ``on_overflow`` (mark "full scan needed") and answers 200 ``overflow``.

Cloud callback URLs are ``<public path>?token=<token>&event=<event>`` (see
:func:`syncd.daemon.events.cloud_callback_url`); ``<public path>/<event>`` works too. The token
rides in the query string, so run the app with :func:`start_receiver`, which turns the
aiohttp access log off (syncd logs one redacted line per delivery instead), and bounds
how long any connection may hold the daemon: headers must arrive within
``idle_timeout`` (default ``CONNECTION_IDLE_TIMEOUT``) of connecting, and shutdown waits at
most ``SHUTDOWN_TIMEOUT`` for deliveries in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from syncd.daemon.events import (
    Flavor,
    HintKind,
    MalformedPayload,
    RemoteHint,
    is_event_name,
    load_json_object,
    parse_delivery,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 1024 * 1024
# Confluence gives up on a delivery after about 10 s, so a body still arriving after that
# is not from Confluence.
DEFAULT_BODY_TIMEOUT = 10.0
# An open connection that has not sent a full request head in this time is closed (it is
# also aiohttp's keep-alive timeout, which aiohttp arms when a connection opens).
CONNECTION_IDLE_TIMEOUT = 15.0
# After answering early (413, 408), read and discard what the client still sends for at
# most this long, so it can see the answer; then close.
LINGER_TIME = 2.0
# Shutdown: deliveries still in flight after this are cancelled.
SHUTDOWN_TIMEOUT = 2.0
SIGNATURE_HEADER = "X-Hub-Signature"
REPEAT_LOG_INTERVAL = 60.0


def sign_body(secret: str, raw: bytes) -> str:
    """The Data Center ``X-Hub-Signature`` value for ``raw``: ``sha256=<lowercase hex>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def verify_signature(secret: str, raw: bytes, header: str | None) -> bool:
    """Constant-time check of an ``X-Hub-Signature`` header over the raw body."""
    if not header or not secret:
        return False
    expected = sign_body(secret, raw)
    # Compare as bytes so a non-ASCII header cannot raise (compare_digest rejects it as str).
    return hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace"))


def verify_token(expected: str, presented: str | None) -> bool:
    if not presented or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """``secret``: the HMAC key on Data Center, the URL token on Cloud (required)."""

    flavor: Flavor
    secret: str
    path: str = "/webhook"
    space_key: str | None = None
    space_id: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    # Seconds a request body may take to arrive once its head is in (then 408).
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    # Seconds a connection may stay open without a complete request head (then closed):
    # aiohttp's keep-alive timeout, applied by start_receiver.
    idle_timeout: float = CONNECTION_IDLE_TIMEOUT
    # sync.blog_posts / sync.attachments: events for what is not synced are ignored
    blog_posts: bool = True
    attachments: bool = True
    queue_size: int = 1000
    dedupe_size: int = 4096
    dedupe_ttl: float = 3600.0

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the webhook receiver needs a secret (HMAC key / URL token)")
        if not self.path.startswith("/"):
            raise ValueError(f"webhook path must start with '/': {self.path!r}")
        for name in ("body_timeout", "idle_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"webhook {name} must be positive: {getattr(self, name)!r}")
        object.__setattr__(self, "flavor", Flavor(self.flavor))


class DeliveryDeduper:
    """Bounded LRU with a time-to-live over delivery keys and, for content versions,
    (page, version, event) keys.

    Also remembers the highest content version seen per page, so an older version that
    arrives after a newer one is recognised as stale.
    """

    def __init__(
        self,
        *,
        maxsize: int = 4096,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[Any, float] = OrderedDict()
        self._versions: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def check(self, hint: RemoteHint, known_version: int | None = None) -> str | None:
        """``None`` if the hint is new, else ``"duplicate"`` or ``"stale"``. Changes nothing:
        call :meth:`remember` once the hint has been handed on."""
        self._expire(self._clock())
        if any(k in self._seen for k in self._keys(hint)):
            return "duplicate"
        if hint.version_is_content and hint.page_id is not None and hint.version is not None:
            best = self._versions.get(hint.page_id)
            known = [v for v in (known_version, best[0] if best else None) if v is not None]
            if known and hint.version <= max(known):
                return "stale"
        return None

    def remember(self, hint: RemoteHint) -> None:
        now = self._clock()
        for k in self._keys(hint):
            self._seen[k] = now
            self._seen.move_to_end(k)
        while len(self._seen) > self.maxsize:
            self._seen.popitem(last=False)
        if hint.version_is_content and hint.page_id is not None and hint.version is not None:
            best = self._versions.get(hint.page_id)
            if best is None or hint.version > best[0]:
                self._versions[hint.page_id] = (hint.version, now)
                self._versions.move_to_end(hint.page_id)
            while len(self._versions) > self.maxsize:
                self._versions.popitem(last=False)

    @staticmethod
    def _keys(hint: RemoteHint) -> list[Any]:
        keys: list[Any] = [("delivery", hint.delivery_key)]
        # Only a content version names one change: a page trashed, restored and trashed
        # again keeps its version, and each of those events must get through.
        if hint.version_is_content:
            keys.append(("version", hint.kind, hint.page_id, hint.version, hint.event))
        return keys

    def __len__(self) -> int:
        return len(self._seen)

    def _expire(self, now: float) -> None:
        cutoff = now - self.ttl
        while self._seen:
            _, at = next(iter(self._seen.items()))
            if at > cutoff:
                break
            self._seen.popitem(last=False)
        while self._versions:
            _, (_, at) = next(iter(self._versions.items()))
            if at > cutoff:
                break
            self._versions.popitem(last=False)


@dataclass
class ReceiverStats:
    accepted: int = 0
    ignored: int = 0
    duplicates: int = 0
    stale: int = 0
    overflows: int = 0
    unauthorized: int = 0
    too_large: int = 0
    too_slow: int = 0
    malformed: int = 0
    handler_errors: int = 0
    persist_errors: int = 0
    last_event_at: float | None = None  # epoch seconds of the last authenticated delivery
    last_event_monotonic: float | None = None
    by_result: dict[str, int] = field(default_factory=dict)


HintCallback = Callable[[RemoteHint], Awaitable[None]]


class RateLimitedLog:
    """At most one line per ``interval`` for a repeating condition, with a count of the rest."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = REPEAT_LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self.interval = interval
        self._clock = clock
        self._last: float | None = None
        self.suppressed = 0

    def warning(self, msg: str, *args: object) -> bool:
        now = self._clock()
        if self._last is not None and now - self._last < self.interval:
            self.suppressed += 1
            return False
        if self.suppressed:
            msg += f" ({self.suppressed} more like this since the last report)"
        self._logger.warning(msg, *args)
        self._last = now
        self.suppressed = 0
        return True


class WebhookReceiver:
    """State and request handlers behind the app built by :func:`create_webhook_app`.

    Callbacks (all optional except ``on_hint``; exceptions are logged, never fatal):

    * ``on_hint(hint)`` (async): awaited by the dispatcher task, one hint at a time, off
      the request path. Typically marks ``hint.page_id`` dirty.
    * ``on_overflow(reason)``: the queue was full; ask for a full scan.
    * ``on_delivery(hint_or_None)``: every authenticated, well-formed delivery, before
      filtering (feeds :meth:`ModeMachine.delivery_received`: deliveries flow).
    * ``persist(hint)``: durable record before the 2xx (see the module docstring).
    * ``known_version(page_id) -> int | None``: the version the state already has, so
      stale content events are dropped at the door.
    * ``mode() -> str``: shown by ``GET /health``.
    """

    def __init__(
        self,
        config: ReceiverConfig,
        on_hint: HintCallback,
        *,
        on_overflow: Callable[[str], None] | None = None,
        on_delivery: Callable[[RemoteHint | None], None] | None = None,
        persist: Callable[[RemoteHint], None] | None = None,
        known_version: Callable[[str], int | None] | None = None,
        mode: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._on_hint = on_hint
        self._on_overflow = on_overflow
        self._on_delivery = on_delivery
        self._persist = persist
        self._known_version = known_version
        self._mode = mode
        self._clock = clock
        self._monotonic = monotonic
        self.started_monotonic = monotonic()
        self.stats = ReceiverStats()
        self.dedupe = DeliveryDeduper(
            maxsize=config.dedupe_size, ttl=config.dedupe_ttl, clock=monotonic
        )
        self.queue: asyncio.Queue[RemoteHint] = asyncio.Queue(maxsize=config.queue_size)
        self.accepting = True
        self._dispatcher: asyncio.Task[None] | None = None
        self._401_log = RateLimitedLog(log, clock=monotonic)
        self._overflow_log = RateLimitedLog(log, clock=monotonic)

    # ---- lifecycle ----------------------------------------------------------------

    def stop_accepting(self) -> None:
        """From now on deliveries get 503 (shutdown has begun)."""
        self.accepting = False

    async def drain(self, timeout: float) -> bool:  # noqa: ASYNC109 (a budget, not a cancel scope)
        """Wait (bounded) until every queued hint has been handed to ``on_hint``."""
        try:
            await asyncio.wait_for(self.queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def _dispatch_forever(self) -> None:
        while True:
            hint = await self.queue.get()
            try:
                await self._on_hint(hint)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.handler_errors += 1
                log.exception("webhook hint handler failed for %s", hint.describe())
            finally:
                self.queue.task_done()

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        self._dispatcher = asyncio.create_task(self._dispatch_forever(), name="webhook-dispatch")
        yield
        self._dispatcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._dispatcher

    # ---- handlers -----------------------------------------------------------------

    async def handle_delivery(self, request: web.Request) -> web.Response:
        started = self._monotonic()
        if not self.accepting:
            return _result(503, "stopping")
        cfg = self.config
        event = _event_from_request(request, cfg.path)
        if event == "":
            return _result(404, "not found")
        if cfg.flavor is Flavor.CLOUD and not verify_token(cfg.secret, request.query.get("token")):
            return self._unauthorized(request, "missing or wrong token")

        try:
            async with asyncio.timeout(cfg.body_timeout):
                raw = await _read_capped(request, cfg.max_body)
        except _TooLarge:
            self.stats.too_large += 1
            log.warning("webhook delivery rejected: body larger than %d bytes", cfg.max_body)
            return _result(413, "body too large")
        except TimeoutError:
            self.stats.too_slow += 1
            log.warning(
                "webhook delivery rejected: body not received within %gs, from %s",
                cfg.body_timeout,
                request.remote or "?",
            )
            response = _result(408, "body too slow")
            response.force_close()
            return response

        if cfg.flavor is Flavor.DC and not verify_signature(
            cfg.secret, raw, request.headers.get(SIGNATURE_HEADER)
        ):
            return self._unauthorized(request, "missing or bad signature")

        try:
            doc = load_json_object(raw)
        except MalformedPayload as exc:
            self.stats.malformed += 1
            log.warning("webhook delivery rejected: %s", exc)
            return _result(400, "malformed JSON")

        self.stats.last_event_at = self._clock()
        self.stats.last_event_monotonic = self._monotonic()
        hint = parse_delivery(
            raw,
            flavor=cfg.flavor,
            event=event,
            space_key=cfg.space_key,
            space_id=cfg.space_id,
            doc=doc,
        )
        if self._on_delivery is not None:
            try:
                self._on_delivery(hint)
            except Exception:
                log.exception("webhook on_delivery callback failed")
        if hint is not None and not self._wanted(hint):
            hint = None
        if hint is None:
            self.stats.ignored += 1
            log.debug("webhook delivery ignored (event %s)", doc.get("event") or event or "?")
            return self._done("ignored", started)

        known = None
        if self._known_version is not None and hint.page_id is not None and hint.version_is_content:
            try:
                known = self._known_version(hint.page_id)
            except Exception:
                log.exception("known_version lookup failed; treating page %s as new", hint.page_id)
        verdict = self.dedupe.check(hint, known)
        if verdict == "duplicate":
            self.stats.duplicates += 1
            log.debug("webhook duplicate dropped: %s", hint.describe())
            return self._done("duplicate", started)
        if verdict == "stale":
            self.stats.stale += 1
            log.debug("webhook stale version dropped: %s", hint.describe())
            return self._done("stale", started)

        if self._persist is not None:
            try:
                self._persist(hint)
            except Exception:
                self.stats.persist_errors += 1
                log.exception("could not record webhook %s; answering 503", hint.describe())
                return _result(503, "not recorded")

        try:
            self.queue.put_nowait(hint)
        except asyncio.QueueFull:
            self.stats.overflows += 1
            self._overflow_log.warning(
                "webhook queue full (%d): a full scan will catch up", cfg.queue_size
            )
            if self._on_overflow is not None:
                self._on_overflow("webhook queue full")
            return self._done("overflow", started)
        self.dedupe.remember(hint)
        self.stats.accepted += 1
        log.info("webhook %s", hint.describe())
        return self._done("accepted", started)

    def _wanted(self, hint: RemoteHint) -> bool:
        if hint.kind is HintKind.BLOGPOST and not self.config.blog_posts:
            return False
        return not (hint.kind is HintKind.ATTACHMENT and not self.config.attachments)

    async def handle_health(self, request: web.Request) -> web.Response:
        now_mono = self._monotonic()
        last = self.stats.last_event_monotonic
        body = {
            "status": "ok" if self.accepting else "stopping",
            "uptime": round(now_mono - self.started_monotonic, 3),
            "mode": self._mode() if self._mode is not None else None,
            "last_event_age": round(now_mono - last, 3) if last is not None else None,
        }
        return web.json_response(body, status=200 if self.accepting else 503)

    def _unauthorized(self, request: web.Request, why: str) -> web.Response:
        self.stats.unauthorized += 1
        # A flood of forged requests must not flood the log.
        self._401_log.warning(
            "webhook delivery rejected (401): %s, from %s", why, request.remote or "?"
        )
        return _result(401, "unauthorized")

    def _done(self, result: str, started: float) -> web.Response:
        self.stats.by_result[result] = self.stats.by_result.get(result, 0) + 1
        elapsed_ms = (self._monotonic() - started) * 1000
        return web.json_response({"result": result, "ms": round(elapsed_ms, 3)})


RECEIVER_KEY = web.AppKey("syncd_webhook_receiver", WebhookReceiver)


def create_webhook_app(
    config: ReceiverConfig,
    on_hint: HintCallback,
    **kwargs: Any,
) -> web.Application:
    """The aiohttp application: ``POST <path>[/<event>]`` and ``GET /health``.

    ``kwargs`` go to :class:`WebhookReceiver` (``on_overflow``, ``on_delivery``,
    ``persist``, ``known_version``, ``mode``, clocks). The receiver object is ``app[RECEIVER_KEY]``.
    """
    receiver = WebhookReceiver(config, on_hint, **kwargs)
    # client_max_size bounds aiohttp's own body reads; _read_capped guards chunked bodies.
    app = web.Application(client_max_size=config.max_body)
    app[RECEIVER_KEY] = receiver
    path = config.path.rstrip("/") or ""
    app.router.add_post(path or "/", receiver.handle_delivery)
    app.router.add_post(path + "/{event}", receiver.handle_delivery)
    if path not in ("", "/health"):
        app.router.add_get("/health", receiver.handle_health)
    app.cleanup_ctx.append(receiver.cleanup_ctx)
    return app


async def start_receiver(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve the app on ``host:port`` with the access log off (URLs hold the Cloud token).

    No client can hold a connection (or the daemon's shutdown) open for long: see
    ``ReceiverConfig.idle_timeout``, ``LINGER_TIME`` and ``SHUTDOWN_TIMEOUT``.
    """
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        logger=ClientErrorLog(log),
        keepalive_timeout=app[RECEIVER_KEY].config.idle_timeout,
        lingering_time=LINGER_TIME,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    return runner


class ClientErrorLog:
    """The server log aiohttp writes to for the webhook port.

    aiohttp logs every request it cannot parse (a request line or header over its limits,
    bytes that are not HTTP) as an ERROR with a traceback. The port may face the internet,
    so anyone could fill the log that way: such a request becomes one rate-limited warning
    line. Errors raised by syncd's own handlers keep their traceback.
    """

    def __init__(self, logger: logging.Logger, *, clock: Callable[[], float] = time.monotonic):
        self._logger = logger
        self._bad_requests = RateLimitedLog(logger, clock=clock)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self._logger.debug(msg, *args, **kwargs)

    def exception(self, msg: str, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else None
        if isinstance(exc, HttpProcessingError):
            detail = str(exc.message).splitlines()[0][:120] if exc.message else ""
            self._bad_requests.warning(
                "webhook port: malformed HTTP request rejected (%s): %s", exc.code, detail
            )
            return
        self._logger.error(msg, *args, exc_info=exc_info, **kwargs)


def bound_port(runner: web.AppRunner) -> int | None:
    """The TCP port actually bound (useful with port 0)."""
    for site in runner.sites:
        server = getattr(site, "_server", None)
        for sock in getattr(server, "sockets", None) or ():
            return int(sock.getsockname()[1])
    return None


class _TooLarge(Exception):
    pass


async def _read_capped(request: web.Request, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await request.content.read(64 * 1024)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _event_from_request(request: web.Request, base_path: str) -> str | None:
    """The event named by the URL (Cloud): ``<path>/<event>`` or ``?event=``.

    ``None``: the URL names none. ``""``: it names something that is not an event name.
    """
    name = request.match_info.get("event") or request.query.get("event")
    if name is None:
        return None
    name = name.strip().lower()
    return name if is_event_name(name) else ""


def _result(status: int, result: str) -> web.Response:
    return web.json_response({"result": result}, status=status)
