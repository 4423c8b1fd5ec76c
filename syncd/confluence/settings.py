"""Connection settings for the Confluence client."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Deployment = Literal["auto", "cloud", "datacenter"]
AuthScheme = Literal["auto", "basic", "bearer"]


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to reach Confluence.

    ``base_url`` is the site as users see it: ``https://acme.atlassian.net`` or
    ``https://acme.atlassian.net/wiki`` for Cloud, ``https://confluence.acme.com[/context]``
    for Data Center. ``auth="auto"`` means basic (email + API token) on Cloud and a bearer
    personal access token on Data Center; ``basic`` on Data Center sends username + password.

    Backoff follows Atlassian's advice: without ``Retry-After`` wait ``backoff_base`` seconds,
    doubling up to ``backoff_cap``, each multiplied by a random factor in ``jitter``.
    ``max_attempts`` counts the first try.

    ``api_url`` is where requests go when that is not the site: Atlassian's API gateway,
    ``https://api.atlassian.com/ex/confluence/{cloudId}``, the only address that accepts
    scoped API tokens (service accounts). ``base_url`` then stays the site, for links and
    messages. A gateway URL given as ``base_url`` works too (the site is then unknown). A ``Retry-After`` above ``max_retry_after`` is not
    slept through: the call raises ``RateLimited`` at once so the caller can reschedule.
    """

    base_url: str
    token: str = field(default="", repr=False)
    email: str | None = None
    api_url: str | None = None
    #: The site as people see it, when requests go elsewhere (set by the client).
    site_url: str | None = None
    deployment: Deployment = "auto"
    auth: AuthScheme = "auto"
    #: Requests in flight at the start; the budget then adapts (``limit.AdaptiveLimit``)
    #: between 1 and ``max_connections``: more on a slow link, fewer when throttled.
    concurrency: int = 8
    #: Ceiling of the adaptive budget and size of the connection pool
    #: (``confluence.max_connections`` in the config).
    max_connections: int = 32
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    write_timeout: float = 60.0
    pool_timeout: float | None = None
    max_attempts: int = 5
    backoff_base: float = 5.0
    backoff_cap: float = 30.0
    jitter: tuple[float, float] = (0.7, 1.3)
    max_retry_after: float = 300.0
    page_size: int = 250
    verify_tls: bool = True
    user_agent: str = "syncd"
    #: IANA zone in which Confluence reads CQL dates for this user (e.g. "Europe/Paris").
    #: None: ask Cloud's user profile; when unknown (DC), widen the window by 14 hours.
    cql_timezone: str | None = None

    def __post_init__(self) -> None:
        if self.deployment not in ("auto", "cloud", "datacenter"):
            raise ValueError(
                f"deployment must be auto, cloud or datacenter, not {self.deployment!r}"
            )
        if self.auth not in ("auto", "basic", "bearer"):
            raise ValueError(f"auth must be auto, basic or bearer, not {self.auth!r}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.cql_timezone is not None:
            try:
                ZoneInfo(self.cql_timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"cql_timezone is not a known time zone: {self.cql_timezone!r}"
                ) from None
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://: {self.base_url!r}")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.api_url is not None:
            if not self.api_url.startswith(("http://", "https://")):
                raise ValueError(f"api_url must start with http:// or https://: {self.api_url!r}")
            object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "token"
        )
        return f"ConnectionSettings({shown}, token='***')"

    __str__ = __repr__
