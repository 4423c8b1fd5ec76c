"""Webhook registration that reuses what an earlier run registered.

Cloud's registration API ignores the secret and sends no event name in the payload, so the
event travels in the delivery URL's query string (delivered verbatim). Data Center takes all
events in one registration and signs deliveries with the secret (``X-Hub-Signature``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .models import Webhook

if TYPE_CHECKING:
    from .client import ConfluenceClient


def url_for_event(url: str, event: str) -> str:
    """``url`` with ``event=<event>`` in its query (replacing any earlier ``event``)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "event"]
    query.append(("event", event))
    return urlunsplit(parts._replace(query=urlencode(query)))


async def ensure_webhooks(
    client: ConfluenceClient,
    name: str,
    url: str,
    events: list[str],
    *,
    secret: str | None = None,
) -> list[Webhook]:
    existing = [hook for hook in await client.list_webhooks() if hook.name == name]
    if client.deployment == "cloud":
        wanted = {url_for_event(url, event): event for event in events}
    else:
        wanted = {url: ""}
    result: list[Webhook] = []
    used: set[str] = set()
    for target, event in wanted.items():
        hook_events = [event] if event else list(events)
        match = next((h for h in existing if h.url == target and h.id not in used), None)
        if match is None:
            hook = await client.create_webhook(name, target, hook_events, secret=secret)
        elif (
            set(match.events) != set(hook_events)
            or not match.active
            or (secret and client.deployment != "cloud")
        ):
            # The secret cannot be read back, so on DC it is re-sent to be sure it matches.
            hook = await client.update_webhook(
                match.id, name=name, url=target, events=hook_events, secret=secret
            )
        else:
            hook = match
        used.add(hook.id)
        result.append(hook)
    for stale in existing:
        if stale.id not in used:
            await client.delete_webhook(stale.id)
    return result
