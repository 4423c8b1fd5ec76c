"""Typed errors raised by the Confluence client.

Every failure the client surfaces is a ``ConfluenceError``. Callers branch on the class, never
on message text: the texts come from the server and vary between Cloud, Data Center and
versions. Error messages never contain credentials (see ``redact``).
"""

from __future__ import annotations

import re

__all__ = [
    "AuthFailed",
    "ConfluenceError",
    "DeploymentUnknown",
    "Gone",
    "InvalidRequest",
    "NoRestApi",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ScopeMissing",
    "ServerError",
    "TitleExists",
    "Unreachable",
    "VersionConflict",
    "WebhookPermissionDenied",
    "WebhooksNotForScopedTokens",
    "WebhooksNotSupported",
    "WebhooksUnavailable",
    "collapse_scope_errors",
    "stops_every_request",
]


class ConfluenceError(Exception):
    """Base class. ``status`` is the HTTP status (None for network failures)."""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        #: how many times the request was sent; > 1 means a retry happened, so a write may
        #: already have been applied by an earlier attempt.
        self.attempts = 1
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.url}" if self.method and self.url else ""
        parts = [p for p in (f"HTTP {self.status}" if self.status else "", where) if p]
        head = " ".join(parts)
        if head and self.message:
            return f"{self.message} ({head})"
        return self.message or head or type(self).__name__


class AuthFailed(ConfluenceError):
    """401: the credentials were refused (wrong token, expired token, wrong auth scheme)."""


class PermissionDenied(ConfluenceError):
    """403: authenticated, but the user may not do this."""


class ScopeMissing(PermissionDenied):
    """The API gateway refused a scoped token that lacks the scope this request needs.

    Atlassian's gateway answers ``401 {"code": 401, "message": "Unauthorized; scope does not
    match"}`` (header ``X-Failure-Category: FAILURE_CLIENT_SCOPE_CHECK``) and does not name
    the scope, so the client names it from the request (``syncd.confluence.scopes``). Unlike
    ``AuthFailed`` the token itself is fine: other requests go on.
    """

    def __init__(
        self, message: str = "", *, scope: str | None = None, operation: str | None = None, **kw
    ) -> None:
        super().__init__(message, **kw)
        self.scope = scope
        self.operation = operation

    def __str__(self) -> str:
        if self.scope:
            what = self.operation or "make this request"
            return (
                f"missing scope {self.scope}: the API token may not {what} "
                "(add the scope to the token, or create a token that has it)"
            )
        return super().__str__()


_SCOPE_LINE = re.compile(r"missing scope (\S+(?: \+ \S+)*): the API token may not [^(]*\([^)]*\)")


def collapse_scope_errors(lines: list[str]) -> list[str]:
    """One line per missing scope: the pages and attachments a missing scope failed are
    not listed one by one (they are all retried once the token has the scope)."""
    out: list[str] = []
    seen: set[str] = set()
    for line in lines:
        match = _SCOPE_LINE.search(line)
        if match is None:
            out.append(line)
        elif match.group(1) not in seen:
            seen.add(match.group(1))
            out.append(match.group(0))
    return out


class NotFound(ConfluenceError):
    """404: the object does not exist, or the user may not see it (Confluence does not tell)."""


class Gone(NotFound):
    """410: the endpoint was removed (deprecated Cloud v1 routes)."""


class InvalidRequest(ConfluenceError):
    """400/413/422 and other 4xx the client cannot fix by retrying."""


class TitleExists(InvalidRequest):
    """400 because a page with the same title exists in the space (trash included)."""


class VersionConflict(ConfluenceError):
    """409: the update was based on a stale version; ``current_version`` when the server says.

    Nothing was written. The caller must re-read and merge, never overwrite.
    """

    def __init__(self, message: str = "", *, current_version: int | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.current_version = current_version


class RateLimited(ConfluenceError):
    """429 after the bounded retries, or a Retry-After longer than the client will wait."""

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(ConfluenceError):
    """5xx after the bounded retries."""


class Unreachable(ConfluenceError):
    """The server could not be reached (connection refused, DNS, timeouts) after retries."""


def stops_every_request(exc: BaseException) -> bool:
    """A failure no other request would escape (bad credentials, server unreachable):
    a run stops at it instead of reporting every page it would have touched."""
    return isinstance(exc, AuthFailed | Unreachable)


class DeploymentUnknown(ConfluenceError):
    """Neither a Cloud nor a Data Center REST API answered at the configured base URL."""


class NoRestApi(DeploymentUnknown, NotFound):
    """404 from an endpoint that always exists where Confluence does (a listing): the base
    URL's path is wrong. Still a ``NotFound`` for callers that only know that."""


class WebhooksUnavailable(ConfluenceError):
    """Webhook registration is not possible here; the daemon should fall back to polling."""


class WebhookPermissionDenied(WebhooksUnavailable, PermissionDenied):
    """The user may not manage webhooks (DC needs a system administrator)."""


class WebhooksNotSupported(WebhooksUnavailable, NotFound):
    """The webhook registration endpoint does not exist on this deployment."""


_CLOUD_VERSION = re.compile(r"current\s+version\s*(?:is)?\s*[:=]?\s*\[?\s*(\d+)", re.IGNORECASE)


def parse_current_version(text: str) -> int | None:
    """Extract the server's current version from a 409 text.

    Known forms: v2 ``"... Current Version: [6]. Provided version: [5]"`` and v1/DC
    ``"Version must be incremented on update. Current version is: 5"``.
    """
    match = _CLOUD_VERSION.search(text or "")
    return int(match.group(1)) if match else None


_REDACTIONS: list[str] = []


def register_secret(secret: str | None) -> None:
    """Remember a secret so that ``redact`` scrubs it from any text the client emits."""
    if secret and len(secret) >= 4 and secret not in _REDACTIONS:
        _REDACTIONS.append(secret)


def redact(text: str) -> str:
    for secret in _REDACTIONS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class WebhooksNotForScopedTokens(WebhooksNotSupported):
    """Requests go through Atlassian's API gateway (a scoped token), which serves no webhook
    registration API: the undocumented ``/rest/webhooks/1.0`` has no scope to grant."""
