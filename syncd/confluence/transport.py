"""The one HTTP pipe to Confluence: pooled connections, auth, bounded concurrency, retries.

Everything the client sends goes through ``Transport.request`` (or ``Transport.download``),
so the rules below hold for every call:

* Keep-alive pools of at most ``POOL_SHARD`` connections, ``max_connections`` in all,
  requests spread over them in turn (one big httpcore pool costs CPU quadratic in its
  size on every request); requests in flight bounded by one adaptive budget (``limit.AdaptiveLimit``: starts at
  ``concurrency``, grows while answers come, halves on a 429, never above
  ``max_connections``), a slot held only while a request is on the wire (never while
  backing off).
* 429, 500, 502, 503, 504 and network failures are retried, up to ``max_attempts`` in total.
  ``Retry-After`` (seconds or HTTP date) is honoured: the client waits at least that long.
  Without it the delay grows exponentially from ``backoff_base`` to ``backoff_cap`` with a
  random factor in ``jitter`` (Atlassian's advice: 5 s doubling to 30 s, times 0.7..1.3).
* A 429 (or any ``Retry-After``) closes a *shared gate*: every call waits until it opens,
  so a rate-limit storm slows the whole client rather than one call. Responses to requests
  sent before the gate closed do not escalate the delay again (one storm, one step).
* A request is only re-sent when that cannot do harm: always after a 429 or a failure to
  connect (the server did not act on it); after a 5xx or a broken connection only when the
  caller marks the request ``idempotent`` (GET/HEAD/OPTIONS/DELETE/PUT by default) or
  ``retry_unsafe`` (the caller will reconcile a duplicate, e.g. a versioned page update).
  A plain 500 is retried for reads and deletes only (``SAFE_500_METHODS``): Confluence
  Cloud answers 500 now and then on any GET, while a 500 on a write (PUT, POST) is as
  often the server refusing that body (a storage conversion failure) as a hiccup, and
  re-sending it would only repeat the refusal after minutes of backoff. A PUT after
  502/503/504 stays retried: it carries the version it is based on, so a lost answer
  comes back as a 409 that ``ConfluenceClient.update_page`` recognises as its own write
  (same version, same body) and anything else is a real conflict, merged by the caller.
  ``Reply.attempts`` tells the caller whether a retry happened.
* The token never appears in reprs, logs or error texts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import json
import logging
import os
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import errors
from .errors import (
    AuthFailed,
    ConfluenceError,
    Gone,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ScopeMissing,
    ServerError,
    TitleExists,
    Unreachable,
    VersionConflict,
)
from .limit import AdaptiveLimit
from .settings import ConnectionSettings
from .tls import verify_setting

log = logging.getLogger("syncd.confluence")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Methods whose plain 500 is retried (see the module docs for why writes are not).
SAFE_500_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Failures where the request never reached the server: always safe to re-send.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class SecretAuth(httpx.Auth):
    """Adds a fixed Authorization header; its repr never shows the credential."""

    def __init__(self, header_value: str) -> None:
        self._header_value = header_value

    def replace_with(self, other: SecretAuth) -> None:
        """Switch credentials in place (used while probing the deployment)."""
        self._header_value = other._header_value

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = self._header_value
        yield request

    def __repr__(self) -> str:
        scheme = self._header_value.split(" ", 1)[0]
        return f"SecretAuth({scheme} ***)"


def make_auth(scheme: str, email: str | None, token: str) -> SecretAuth:
    """``basic`` (email/username + token) or ``bearer`` (personal access token)."""
    errors.register_secret(token)
    if scheme == "basic":
        raw = base64.b64encode(f"{email or ''}:{token}".encode()).decode("ascii")
        errors.register_secret(raw)
        return SecretAuth(f"Basic {raw}")
    return SecretAuth(f"Bearer {token}")


@dataclass
class Reply:
    """A complete (non-streamed) response."""

    status: int
    headers: httpx.Headers
    content: bytes
    url: str
    attempts: int = 1

    def json(self) -> Any:
        if not self.content:
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            raise ServerError(
                "Confluence answered with something that is not JSON",
                status=self.status,
                url=errors.redact(_short_url(self.url)),
            ) from None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


@dataclass
class TransportStats:
    """Counters for ``syncd status`` and the benchmarks."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _error_message(body: bytes) -> str:
    """The human message from a v2 ``errors[]`` or v1/DC ``RestError`` body, else the text."""
    text = body.decode("utf-8", "replace") if body else ""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        errs = data.get("errors")
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            first = errs[0]
            parts = [str(first.get(k)) for k in ("title", "detail") if first.get(k)]
            if not parts and isinstance(first.get("message"), dict):
                parts = [str(first["message"].get("translation") or "")]
            if parts:
                return ": ".join(parts)
        for key in ("message", "errorMessage", "reason"):
            if isinstance(data.get(key), str) and data[key]:
                return data[key]
        return ""
    if isinstance(data, list):
        return ""
    text = re.sub(r"<[^>]+>", " ", text)  # HTML error pages from proxies
    return " ".join(text.split())[:500]


_SCOPE_REFUSAL = re.compile(r"scope does not match", re.IGNORECASE)


def _is_scope_refusal(message: str, headers: Mapping[str, str] | None) -> bool:
    """The gateway's "token lacks the scope" 401, as opposed to a refused token."""
    category = (headers or {}).get("X-Failure-Category") or ""
    return category == "FAILURE_CLIENT_SCOPE_CHECK" or bool(_SCOPE_REFUSAL.search(message))


_TITLE_EXISTS = re.compile(r"(title.*already exists|already exists.*title)", re.IGNORECASE)


def error_for(
    status: int,
    body: bytes,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
) -> ConfluenceError:
    """Map an HTTP error response to a typed error (409 by status and text, never exact text)."""
    message = errors.redact(_error_message(body))
    url = errors.redact(url)
    kw: dict[str, Any] = {"status": status, "method": method, "url": url}
    if status == 401:
        if _is_scope_refusal(message, headers):
            from .scopes import requirement_for

            need = requirement_for(method, url)
            return ScopeMissing(
                message or "scope does not match",
                scope=str(need) if need else None,
                operation=need.operation if need else None,
                **kw,
            )
        return AuthFailed(message or "authentication failed", **kw)
    if status == 403:
        return PermissionDenied(message or "permission denied", **kw)
    if status == 404:
        return NotFound(message or "not found", **kw)
    if status == 410:
        return Gone(message or "endpoint removed", **kw)
    if status == 409:
        return VersionConflict(
            message or "version conflict",
            current_version=errors.parse_current_version(message),
            **kw,
        )
    if status == 429:
        retry_after = parse_retry_after((headers or {}).get("Retry-After"))
        return RateLimited(message or "rate limited", retry_after=retry_after, **kw)
    if status >= 500:
        return ServerError(message or "server error", **kw)
    if status == 400 and _TITLE_EXISTS.search(message):
        return TitleExists(message, **kw)
    return InvalidRequest(message or f"request rejected with HTTP {status}", **kw)


def _short_url(url: str) -> str:
    """Path and query only: enough to identify the call, nothing about the host or user."""
    parsed = httpx.URL(url)
    raw = parsed.raw_path.decode("ascii", "replace")
    return raw if len(raw) <= 300 else raw[:300] + "..."


#: Connections per httpx pool (see `Transport.__init__`).
POOL_SHARD = 8


class Transport:
    """Shared HTTP machinery; one per ``ConfluenceClient``."""

    def __init__(
        self,
        settings: ConnectionSettings,
        auth: httpx.Auth | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock: Clock = clock or time.monotonic
        self._wall_clock: Clock = wall_clock or time.time
        self._rng = rng or random.Random()
        self.budget = AdaptiveLimit(settings.concurrency, settings.max_connections)
        self._gate_until = 0.0
        self._gate_closed_at = float("-inf")
        self._throttle_delay: float | None = None
        self.stats = TransportStats()
        self.auth = auth
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.write_timeout,
            pool=settings.pool_timeout,
        )
        # Requests are spread over pools of at most POOL_SHARD connections: httpcore's pool
        # scans all its connections for each of them on every request (quadratic; 32
        # connections in one pool cost about 3x the CPU per request of 16).
        total = settings.max_connections
        shards = 1 if transport is not None else -(-total // POOL_SHARD)
        sizes = [total // shards + (1 if i < total % shards else 0) for i in range(shards)]
        tls = verify_setting(settings.verify_tls)  # one per process (syncd.confluence.tls)
        self._clients = [
            httpx.AsyncClient(
                auth=auth,
                timeout=timeout,
                limits=httpx.Limits(
                    max_connections=size, max_keepalive_connections=size, keepalive_expiry=30.0
                ),
                transport=transport,
                verify=tls,
                headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
                follow_redirects=False,
            )
            for size in sizes
        ]
        self._turn = 0

    def __repr__(self) -> str:
        return f"Transport(base_url={self.settings.base_url!r}, auth={self.auth!r})"

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _next_client(self) -> httpx.AsyncClient:
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]

    # -- backoff -----------------------------------------------------------------------------

    def _jitter(self, delay: float) -> float:
        low, high = self.settings.jitter
        return delay * self._rng.uniform(low, high)

    def _exponential(self, attempt: int) -> float:
        base, cap = self.settings.backoff_base, self.settings.backoff_cap
        return self._jitter(min(cap, base * (2 ** max(0, attempt - 1))))

    def _close_gate(self, delay: float) -> None:
        now = self._clock()
        until = now + delay
        if until > self._gate_until:
            self._gate_until = until
            self._gate_closed_at = now

    async def _wait_gate(self) -> None:
        while True:
            remaining = self._gate_until - self._clock()
            if remaining <= 0:
                return
            self.stats.waited_seconds += remaining
            await self._sleep(remaining)

    def _throttle_delay_for(self, retry_after: float | None, sent_at: float) -> float:
        """Delay after a 429: Retry-After when given, else a shared doubling delay."""
        if retry_after is not None:
            # "at least that long": never shorten, add a little spread so clients desynchronise
            return retry_after * self._rng.uniform(1.0, 1.1)
        if sent_at <= self._gate_closed_at and self._throttle_delay is not None:
            # Sent before the current storm's gate closed: part of the same burst.
            return 0.0
        base, cap = self.settings.backoff_base, self.settings.backoff_cap
        previous = self._throttle_delay
        self._throttle_delay = base if previous is None else min(cap, previous * 2)
        return self._jitter(self._throttle_delay)

    # -- requests ----------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL for a path below the base URL (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.settings.base_url + path

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        files: Callable[[], Any] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        retry_unsafe: bool = False,
        follow_redirects: bool = False,
    ) -> Reply:
        """Send with retries; return the reply for 2xx/3xx, raise a typed error otherwise.

        ``files`` is a factory so every attempt gets a fresh (rewound) multipart body.
        """
        result = await self._send(
            method,
            url,
            params=params,
            json_body=json_body,
            files=files,
            data=data,
            headers=headers,
            idempotent=idempotent,
            retry_unsafe=retry_unsafe,
            follow_redirects=follow_redirects,
            sink=None,
        )
        assert isinstance(result, Reply)
        return result

    async def download(
        self,
        url: str,
        destination: Path,
        *,
        headers: Mapping[str, str] | None = None,
        durable: bool = True,
    ) -> int:
        """Stream a GET to ``destination`` atomically (temp file, fsync, rename); return
        bytes. ``durable=False`` skips the fsync: for a scratch copy read back at once."""
        result = await self._send(
            "GET",
            url,
            params=None,
            json_body=None,
            files=None,
            data=None,
            headers=headers,
            idempotent=True,
            retry_unsafe=False,
            follow_redirects=True,
            sink=FileSink(Path(destination), durable),
        )
        assert isinstance(result, int)
        return result

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params,
        json_body,
        files,
        data,
        headers,
        idempotent: bool | None,
        retry_unsafe: bool,
        follow_redirects: bool,
        sink: FileSink | None,
    ) -> Reply | int:
        method = method.upper()
        url = self.url(url)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        may_resend = idempotent or retry_unsafe
        attempts_allowed = self.settings.max_attempts
        attempt = 0
        while True:
            attempt += 1
            await self._wait_gate()
            sent_at = self._clock()
            try:
                await self.budget.acquire()
                try:
                    self.stats.requests += 1
                    outcome = await self._attempt(
                        method,
                        url,
                        params=params,
                        json_body=json_body,
                        files=files,
                        data=data,
                        headers=headers,
                        follow_redirects=follow_redirects,
                        sink=sink,
                    )
                finally:
                    self.budget.release()
            except httpx.TransportError as exc:
                safe = isinstance(exc, _NOT_SENT) or may_resend
                kind = type(exc).__name__
                if attempt >= attempts_allowed or not safe:
                    failure = Unreachable(
                        f"{kind} talking to Confluence after {attempt} attempt(s)",
                        method=method,
                        url=errors.redact(_short_url(url)),
                    )
                    failure.attempts = attempt
                    raise failure from None
                delay = self._exponential(attempt)
                log.warning(
                    "%s %s failed (%s); retry %d in %.1fs",
                    method,
                    _short_url(url),
                    kind,
                    attempt,
                    delay,
                )
                self.stats.retries += 1
                self.stats.waited_seconds += delay
                await self._sleep(delay)
                continue

            status, response_headers, body = outcome
            self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s %s -> %d (attempt %d)", method, _short_url(url), status, attempt)
            if status in RETRY_STATUSES:
                retry_after = parse_retry_after(
                    response_headers.get("Retry-After"), now=self._wall_clock()
                )
                error = error_for(
                    status,
                    body,
                    method=method,
                    url=_short_url(url),
                    headers=response_headers,
                )
                if isinstance(error, RateLimited):
                    error.retry_after = retry_after
                if status == 429 or retry_after is not None:
                    self.budget.throttled(sent_at, self._clock())
                if status == 429:
                    self.stats.throttled += 1
                safe = status == 429 or (
                    may_resend and (status != 500 or method in SAFE_500_METHODS)
                )
                too_long = retry_after is not None and retry_after > self.settings.max_retry_after
                if attempt >= attempts_allowed or not safe or too_long:
                    error.attempts = attempt
                    raise error
                if status == 429:
                    delay = self._throttle_delay_for(retry_after, sent_at)
                    self._close_gate(delay)
                elif retry_after is not None:
                    delay = retry_after * self._rng.uniform(1.0, 1.1)
                    self._close_gate(delay)
                else:
                    delay = self._exponential(attempt)
                log.warning(
                    "%s %s -> %d; retry %d in %.1fs%s",
                    method,
                    _short_url(url),
                    status,
                    attempt,
                    delay,
                    " (Retry-After)" if retry_after is not None else "",
                )
                self.stats.retries += 1
                if status != 429 and retry_after is None:
                    self.stats.waited_seconds += delay
                    await self._sleep(delay)
                continue  # the gate (if closed) makes this call, and all others, wait

            if 300 <= status < 400:
                location = errors.redact(response_headers.get("Location", "?"))
                failure = InvalidRequest(
                    f"unexpected redirect to {location}: check base_url (scheme, host, "
                    "context path) or single sign-on in front of the REST API",
                    status=status,
                    method=method,
                    url=_short_url(url),
                )
                failure.attempts = attempt
                raise failure
            if status < 400:
                if status < 300:
                    self._throttle_delay = None  # storm over
                    self.budget.answered()
                if sink is not None:
                    assert isinstance(body, int)
                    return body
                return Reply(status, response_headers, body, url, attempts=attempt)
            error = error_for(
                status,
                body,
                method=method,
                url=_short_url(url),
                headers=response_headers,
            )
            error.attempts = attempt
            raise error

    async def _attempt(
        self,
        method: str,
        url: str,
        *,
        params,
        json_body,
        files,
        data,
        headers,
        follow_redirects: bool,
        sink: FileSink | None,
    ) -> tuple[int, httpx.Headers, Any]:
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if json_body is not None:
            kwargs["json"] = json_body
        if files is not None:
            kwargs["files"] = files()
        if data is not None:
            kwargs["data"] = data
        client = self._next_client()
        if sink is None:
            response = await client.request(
                method, url, follow_redirects=follow_redirects, **kwargs
            )
            return response.status_code, response.headers, response.content
        async with client.stream(
            method, url, follow_redirects=follow_redirects, **kwargs
        ) as response:
            if response.status_code != 200:
                return response.status_code, response.headers, await response.aread()
            written = await _stream_to_file(response, sink)
            return response.status_code, response.headers, written


@dataclass(frozen=True)
class FileSink:
    """Where a streamed answer goes: ``path``, replaced atomically; ``durable``: fsynced
    before the rename."""

    path: Path
    durable: bool = True


async def _stream_to_file(response: httpx.Response, sink: FileSink) -> int:
    destination = sink.path
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".", suffix=".part", dir=destination.parent)
    written = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in response.aiter_bytes(1 << 16):
                handle.write(chunk)
                written += len(chunk)
            handle.flush()
            if sink.durable:
                os.fsync(handle.fileno())
        os.replace(tmp_name, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return written


__all__ = [
    "InvalidRequest",
    "Reply",
    "SecretAuth",
    "Transport",
    "TransportStats",
    "error_for",
    "make_auth",
    "parse_retry_after",
]
