"""The daemon's own webhook: its secret, its name, its events, (un)registering it.

* The secret (Data Center HMAC key, Cloud URL token) is ``webhook.secret`` from the config,
  or one generated on first use and kept in ``<state_dir>/webhook-secret`` (mode 0600), so
  a restart reuses the same registration rather than piling up new ones.
* The name is stable per state directory (``syncd-<SPACE>-<hash>``): two daemons syncing
  the same space into different folders never delete each other's registrations, and a
  changed ``public_url`` replaces the old registration instead of adding one.
* Data Center: one webhook for every event, signed with the secret. Cloud: one webhook
  per event (its payloads carry no event name), the token in the callback URL.
* Registration is impossible when Confluence cannot reach ``public_url`` (a loopback URL
  for a remote site): :class:`NoPublicUrl` says so before anything is sent.

The state database keeps a record per registration (id and URL with the token masked),
for ``syncd status`` and for ``webhook.unregister_on_exit``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syncd.daemon.control import redact_url

if TYPE_CHECKING:
    from syncd.config import Config
    from syncd.confluence.client import ConfluenceClient
    from syncd.confluence.models import Webhook

log = logging.getLogger(__name__)

SECRET_FILE = "webhook-secret"
SECRET_REF_FILE = f"file:{SECRET_FILE}"
SECRET_REF_CONFIG = "config:webhook.secret"

PAGE_EVENTS = (
    "page_created",
    "page_updated",
    "page_trashed",
    "page_restored",
    "page_removed",
    "page_moved",
)
ATTACHMENT_EVENTS = (
    "attachment_created",
    "attachment_updated",
    "attachment_removed",
    "attachment_restored",
    "attachment_trashed",
)
LABEL_EVENTS = ("label_added", "label_removed")
BLOG_EVENTS = (
    "blog_created",
    "blog_updated",
    "blog_trashed",
    "blog_restored",
    "blog_removed",
)
SPACE_EVENTS = ("space_removed",)


class NoPublicUrl(RuntimeError):
    """Confluence could not reach ``webhook.public_url``; the message says what to do."""


@dataclass(frozen=True, slots=True)
class WebhookSecret:
    value: str
    ref: str  # where it lives: SECRET_REF_CONFIG or SECRET_REF_FILE
    generated: bool = False


def load_or_create_secret(state_dir: Path, configured: str | None) -> WebhookSecret:
    """The configured secret, else the one kept in the state dir (created on first use)."""
    if configured:
        return WebhookSecret(configured, SECRET_REF_CONFIG)
    path = Path(state_dir) / SECRET_FILE
    try:
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        value = ""
    if value:
        return WebhookSecret(value, SECRET_REF_FILE)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, value.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return WebhookSecret(value, SECRET_REF_FILE, generated=True)


def read_secret(state_dir: Path, configured: str | None) -> str | None:
    """The secret without creating one (for commands that only list or delete)."""
    if configured:
        return configured
    try:
        return (Path(state_dir) / SECRET_FILE).read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def webhook_name(config: Config) -> str:
    digest = hashlib.sha256(str(Path(config.state_dir).expanduser().resolve()).encode())
    return f"syncd-{config.confluence.space}-{digest.hexdigest()[:8]}"


def webhook_events(config: Config) -> list[str]:
    events = list(PAGE_EVENTS) + list(LABEL_EVENTS) + list(SPACE_EVENTS)
    if config.sync.attachments:
        events += ATTACHMENT_EVENTS
    if config.sync.blog_posts:
        events += BLOG_EVENTS
    return events


def registration_url(config: Config, deployment: str, secret: str) -> str:
    """The URL to register: ``public_url`` itself on Data Center; on Cloud with
    ``token=<secret>`` in the query (``ensure_webhooks`` adds ``event=``)."""
    url = config.webhook.public_url
    if deployment != "cloud":
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    query.append(("token", secret))
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_public_url(config: Config) -> None:
    """Refuse a ``public_url`` Confluence cannot reach (loopback for a remote site)."""
    public = urlsplit(config.webhook.public_url)
    site = urlsplit(config.confluence.base_url)
    if public.scheme not in ("http", "https") or not public.hostname:
        raise NoPublicUrl(
            f"webhook.public_url {config.webhook.public_url!r} is not an http(s) URL; "
            "set it to the address Confluence should call"
        )
    if _is_local(public.hostname) and not _is_local(site.hostname or ""):
        raise NoPublicUrl(
            f"webhook.public_url {redact_url(config.webhook.public_url)} is a local address "
            f"that Confluence at {site.hostname} cannot reach; set webhook.public_url to a "
            "URL Confluence can call (a reverse proxy or tunnel to "
            f"{config.webhook.listen})"
        )


def _is_local(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


CREDENTIALS_FIX = (
    "check the token (confluence.token) and, on Cloud, confluence.email (Cloud API tokens "
    "expire); `syncd doctor` checks them"
)


def refusal_and_fix(
    exc: BaseException, doing: str = "registering the webhook"
) -> tuple[str, str | None]:
    """Why a webhook call failed and what to do, apart: ``doing`` names the call
    ("listing webhooks", "deleting the webhook") so the reason matches what was asked."""
    from syncd.confluence.errors import (
        AuthFailed,
        WebhookPermissionDenied,
        WebhooksNotForScopedTokens,
        WebhooksNotSupported,
    )

    if isinstance(exc, NoPublicUrl):
        return str(exc), None
    if isinstance(exc, WebhookPermissionDenied):
        return (
            f"Confluence refused {doing} (permission denied)",
            "use an account allowed to manage webhooks (a site or space administrator)",
        )
    if isinstance(exc, WebhooksNotForScopedTokens):
        return (
            "webhooks cannot be registered with a scoped API token (the API gateway serves "
            "no webhook API); syncd polls for changes every poll.interval",
            None,
        )
    if isinstance(exc, WebhooksNotSupported):
        return "this Confluence has no webhook registration API (Data Center 7.7+ needed)", None
    if isinstance(exc, AuthFailed):
        return f"Confluence refused the credentials while {doing}", CREDENTIALS_FIX
    text = str(exc) or type(exc).__name__
    what = "webhook registration" if doing == "registering the webhook" else doing
    return f"{what} failed: {text}", None


def describe_refusal(exc: BaseException, doing: str = "registering the webhook") -> str:
    """A one-line reason for a failed webhook call, with what to do."""
    reason, fix = refusal_and_fix(exc, doing)
    return f"{reason}: {fix}" if fix else reason


class Registrar:
    """(Un)registers the daemon's webhook(s) through the client and records them in state."""

    def __init__(
        self,
        config: Config,
        client: ConfluenceClient,
        state: Any,
        secret: WebhookSecret,
    ) -> None:
        self.config = config
        self.client = client
        self.state = state
        self.secret = secret
        self.name = webhook_name(config)
        self.hooks: list[Webhook] = []
        self.last_error: str | None = None

    @property
    def deployment(self) -> str:
        return str(getattr(self.client, "deployment", "datacenter"))

    @property
    def url(self) -> str:
        return registration_url(self.config, self.deployment, self.secret.value)

    async def register(self) -> list[Webhook]:
        """Create or reuse the registration(s); raises with a human-readable reason."""
        try:
            if not getattr(self.client, "via_gateway", False):  # there: the gateway's reason
                check_public_url(self.config)
            hooks = await self.client.ensure_webhooks(
                self.name, self.url, webhook_events(self.config), secret=self.secret.value
            )
        except Exception as exc:
            self.last_error = describe_refusal(exc)
            raise RegistrationRefused(self.last_error, refusal_and_fix(exc)[1]) from exc
        self.last_error = None
        self.hooks = list(hooks)
        self._record(self.hooks)
        ids = ", ".join(h.id for h in self.hooks)
        log.info(
            "webhook registered as %s (id %s) for %s",
            self.name,
            ids,
            redact_url(self.config.webhook.public_url),
        )
        return self.hooks

    async def unregister(self) -> int:
        """Delete our registrations (recorded and found by name); returns how many."""
        ids = {r.webhook_id for r in self._records()} | {h.id for h in self.hooks}
        try:
            for hook in await self.client.list_webhooks():
                if hook.name == self.name:
                    ids.add(hook.id)
        except Exception as exc:  # listing is best effort; recorded ids still go
            log.debug("could not list webhooks before unregistering: %s", exc)
        removed = 0
        for webhook_id in sorted(ids):
            await self.client.delete_webhook(webhook_id)
            self._forget(webhook_id)
            removed += 1
        self.hooks = []
        if removed:
            log.info("webhook unregistered (%d registration(s) removed)", removed)
        return removed

    def _records(self) -> list[Any]:
        try:
            return list(self.state.webhooks())
        except Exception:
            return []

    def _record(self, hooks: Iterable[Webhook]) -> None:
        from syncd.sync.records import WebhookRecord

        keep = {h.id for h in hooks}
        try:
            for old in self.state.webhooks():
                if old.webhook_id not in keep:
                    self.state.delete_webhook(old.webhook_id)
            for hook in hooks:
                self.state.put_webhook(
                    WebhookRecord(
                        webhook_id=str(hook.id),
                        url=redact_url(hook.url) or "",
                        secret_ref=self.secret.ref,
                        created_at=time.time(),
                    )
                )
        except Exception:
            log.exception("could not record the webhook registration in the state database")

    def _forget(self, webhook_id: str) -> None:
        try:
            self.state.delete_webhook(str(webhook_id))
        except Exception:
            log.debug("could not forget webhook %s in state", webhook_id, exc_info=True)


class RegistrationRefused(RuntimeError):
    """Registration is impossible; ``str()`` is the one-line reason with what to do, ``fix``
    the what-to-do alone when there is a specific one (the scheduler's warning uses it)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
