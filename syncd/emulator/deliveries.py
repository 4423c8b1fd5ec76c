"""Asynchronous webhook delivery with injectable faults and a delivery log.

Store events are queued (bounded) from whatever thread made the change and sent by one
background task, so a REST response never waits for a receiver. Each attempt is logged
(``GET /_emulator/deliveries``). Faults: ``drop`` (logged, never sent), ``duplicate`` (sent
twice), ``reorder`` (each delivery is held back until the next one has gone, or ~0.5 s),
``delay`` (``delay_ms`` before each send).

DC deliveries are signed with ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` when
the registration has a secret; Cloud deliveries are unsigned and go to the registered URL with
its query string verbatim (userinfo stripped).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from syncd.emulator.model import Event, Webhook, iso_ms
from syncd.emulator.payloads import cloud_payload, dc_payload

if TYPE_CHECKING:
    from syncd.emulator.state import EmulatorState

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
REORDER_HOLD_S = 0.5
SEND_TIMEOUT_S = 10.0


@dataclass
class Delivery:
    hook_id: int
    event: str
    url: str
    body: bytes
    headers: dict[str, str]
    duplicate: bool = False
    reorder: bool = False


class Deliverer:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.log: list[dict] = []
        self._queue: asyncio.Queue[Delivery] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._in_flight = 0
        self._changed: asyncio.Condition | None = None
        self._next_log_id = 1

    # ---- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(QUEUE_SIZE)
        self._changed = asyncio.Condition()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_S),
            headers={"User-Agent": "Atlassian Webhook HTTP Client"},
        )
        self._task = asyncio.create_task(self._worker(), name="emulator-webhook-deliveries")
        self.state.store.listeners.append(self.on_event)

    async def stop(self) -> None:
        if self.on_event in self.state.store.listeners:
            self.state.store.listeners.remove(self.on_event)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._session is not None:
            await self._session.close()

    # ---- producing ------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Store listener; may run on any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(event)
        else:
            loop.call_soon_threadsafe(self._enqueue, event)

    def _enqueue(self, event: Event) -> None:
        assert self._queue is not None
        hooks = [h for h in list(self.state.store.webhooks.values()) if _wants(h, event.name)]
        faults = self.state.faults
        mode = faults.webhooks if faults is not None else "deliver"
        for hook in hooks:
            delivery = self._build(hook, event)
            if mode == "drop":
                self._record(delivery, status=None, outcome="dropped")
                continue
            copies = [delivery]
            if mode == "duplicate":
                copies.append(
                    Delivery(**{**delivery.__dict__, "duplicate": True})  # same body and headers
                )
            for item in copies:
                item.reorder = mode == "reorder"
                try:
                    self._queue.put_nowait(item)
                except asyncio.QueueFull:
                    self._record(item, status=None, outcome="dropped", error="queue full")

    def _build(self, hook: Webhook, event: Event) -> Delivery:
        st = self.state
        url = hook.url
        if st.flavor == "dc":
            payload = dc_payload(event, event.user or st.store.user)
        else:
            payload = cloud_payload(event, event.user or st.store.user, st.base_url)
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if st.flavor == "dc" and hook.credentials:
            pair = f"{hook.credentials['username']}:{hook.credentials.get('password', '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        if st.flavor == "dc":
            secret = hook.secret or (st.webhook_secret or "")
            if secret:
                digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
        else:
            headers["X-B3-TraceId"] = secrets.token_hex(8)
            headers["X-B3-SpanId"] = secrets.token_hex(8)
            headers["X-B3-Sampled"] = "0"
        return Delivery(hook.id, event.name, url, body, headers)

    # ---- sending --------------------------------------------------------------------

    async def _worker(self) -> None:
        assert self._queue is not None
        held: Delivery | None = None
        while True:
            try:
                if held is not None:
                    item = await asyncio.wait_for(self._queue.get(), REORDER_HOLD_S)
                else:
                    item = await self._queue.get()
            except TimeoutError:
                await self._send(held)
                held = None
                continue
            if item.reorder and held is None:
                held = item
                continue
            await self._send(item)
            if held is not None:
                await self._send(held)
                held = None

    async def _send(self, item: Delivery | None) -> None:
        if item is None:
            return
        self._in_flight += 1
        try:
            faults = self.state.faults
            if faults is not None and faults.webhooks == "delay" and faults.delay_ms:
                await asyncio.sleep(faults.delay_ms / 1000)
            url = _delivery_url(item.url)
            assert self._session is not None
            try:
                async with self._session.post(url, data=item.body, headers=item.headers) as resp:
                    await resp.read()
                    status = resp.status
                outcome = "delivered" if 200 <= status < 300 else "failed"
                self._record(item, status=status, outcome=outcome)
            except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                self._record(
                    item, status=None, outcome="error", error=str(exc) or type(exc).__name__
                )
            except Exception as exc:  # never let one delivery stop the worker
                log.exception("webhook delivery to %s failed", item.url)
                self._record(item, status=None, outcome="error", error=repr(exc))
        finally:
            self._in_flight -= 1
            await self._notify()

    def _record(
        self, item: Delivery, *, status: int | None, outcome: str, error: str | None = None
    ) -> None:
        entry = {
            "id": self._next_log_id,
            "event": item.event,
            "url": item.url,
            "status": status,
            "status_code": status,
            "time": iso_ms(self.state.store.clock.peek_ms()),
            "webhook_id": item.hook_id,
            "outcome": outcome,
            "duplicate": item.duplicate,
            "error": error,
            "headers": {k: v for k, v in item.headers.items() if k != "Authorization"},
            "payload": json.loads(item.body),
        }
        self._next_log_id += 1
        self.log.append(entry)
        if self._changed is not None and outcome == "dropped":
            asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    # ---- waiting (tests) ------------------------------------------------------------

    def idle(self) -> bool:
        return (self._queue is None or self._queue.empty()) and self._in_flight == 0

    async def wait_for(
        self,
        predicate: Callable[[list[dict]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> bool:
        """Wait (bounded) until ``predicate(log)`` holds; returns whether it did."""
        assert self._changed is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while not predicate(self.log):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))
                except TimeoutError:
                    pass
        return True

    def reset(self) -> None:
        self.log.clear()


def _delivery_url(raw: str) -> URL:
    """The registered URL as sent: query string byte for byte, userinfo dropped."""
    parts = urlsplit(raw)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return URL(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), encoded=True)


def _wants(hook: Webhook, event: str) -> bool:
    return hook.active and (event in hook.events or "*" in hook.events)
