"""Fault injection for the REST API: latency and bandwidth per request, random server
errors and a token-bucket rate limit answering 429 with ``Retry-After`` and ``X-RateLimit-*`` headers as Cloud does
(shared/docs/confluence-api.md §4). Webhook faults live with the deliveries."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

WEBHOOK_MODES = ("deliver", "drop", "duplicate", "reorder", "delay")


@dataclass
class Faults:
    webhooks: str = "deliver"
    delay_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    #: The ``Retry-After`` (seconds) sent with an injected 503; None sends none. Confluence
    #: sends it on some transient 5xx and not on others (shared/docs/confluence-api.md §4,
    #: "Some transient 5xx responses, such as 503, also carry Retry-After").
    error_retry_after: int | None = 1
    latency_ms: int = 0
    #: Each response's body is sent at this many KiB/s (0: as fast as loopback allows),
    #: on top of `latency_ms`: a large page or attachment costs more than a small one.
    bandwidth_kib_s: int = 0
    rate_limit_per_s: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    _tokens: float = 0.0
    _last_refill: float = 0.0

    def configure(self, settings: dict) -> None:
        """Apply a ``POST /_emulator/faults`` body; unknown keys or bad values raise ValueError."""
        known = {
            "webhooks",
            "delay_ms",
            "error_rate",
            "error_status",
            "error_retry_after",
            "latency_ms",
            "bandwidth_kib_s",
            "rate_limit_per_s",
        }
        unknown = set(settings) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        if "webhooks" in settings:
            mode = settings["webhooks"]
            if mode not in WEBHOOK_MODES:
                raise ValueError(f"webhooks must be one of {', '.join(WEBHOOK_MODES)}")
            self.webhooks = mode
        if "delay_ms" in settings:
            self.delay_ms = _non_negative_int(settings, "delay_ms")
        if "latency_ms" in settings:
            self.latency_ms = _non_negative_int(settings, "latency_ms")
        if "bandwidth_kib_s" in settings:
            self.bandwidth_kib_s = _non_negative_int(settings, "bandwidth_kib_s")
        if "error_rate" in settings:
            rate = float(settings["error_rate"])
            if not 0.0 <= rate <= 1.0:
                raise ValueError("error_rate must be between 0 and 1")
            self.error_rate = rate
        if "error_status" in settings:
            status = int(settings["error_status"])
            if status not in (500, 502, 503, 504):
                raise ValueError("error_status must be 500, 502, 503 or 504")
            self.error_status = status
        if "error_retry_after" in settings:
            value = settings["error_retry_after"]
            self.error_retry_after = (
                None if value is None else _non_negative_int(settings, "error_retry_after")
            )
        if "rate_limit_per_s" in settings:
            rate = float(settings["rate_limit_per_s"])
            if rate < 0:
                raise ValueError("rate_limit_per_s must be >= 0 (0 disables it)")
            self.rate_limit_per_s = rate
            self._tokens = self._capacity()
            self._last_refill = time.monotonic()

    def reset(self) -> None:
        self.configure(
            {
                "webhooks": "deliver",
                "delay_ms": 0,
                "error_rate": 0.0,
                "error_status": 500,
                "error_retry_after": 1,
                "latency_ms": 0,
                "bandwidth_kib_s": 0,
                "rate_limit_per_s": 0.0,
            }
        )

    def as_dict(self) -> dict:
        return {
            "webhooks": self.webhooks,
            "delay_ms": self.delay_ms,
            "error_rate": self.error_rate,
            "error_status": self.error_status,
            "error_retry_after": self.error_retry_after,
            "latency_ms": self.latency_ms,
            "bandwidth_kib_s": self.bandwidth_kib_s,
            "rate_limit_per_s": self.rate_limit_per_s,
        }

    def _capacity(self) -> float:
        return max(1.0, self.rate_limit_per_s)

    def take_token(self) -> dict[str, str] | None:
        """None when the request may proceed, else the 429 headers."""
        if self.rate_limit_per_s <= 0:
            return None
        now = time.monotonic()
        cap = self._capacity()
        self._tokens = min(cap, self._tokens + (now - self._last_refill) * self.rate_limit_per_s)
        self._last_refill = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        wait = (1.0 - self._tokens) / self.rate_limit_per_s
        reset = datetime.now(UTC) + timedelta(seconds=wait)
        return {
            "Retry-After": str(max(1, math.ceil(wait))),
            "X-RateLimit-Limit": _fmt_rate(self.rate_limit_per_s),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "X-RateLimit-NearLimit": "true",
            "RateLimit-Reason": "confluence-quota-tenant-based",
        }

    def rate_headers(self) -> dict[str, str]:
        """Headers a successful response carries while a limit is configured."""
        if self.rate_limit_per_s <= 0:
            return {}
        remaining = int(self._tokens)
        return {
            "X-RateLimit-Limit": _fmt_rate(self.rate_limit_per_s),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-NearLimit": "true" if remaining < 0.2 * self._capacity() else "false",
        }

    def transfer_seconds(self, size: int | None) -> float:
        """How long a body of `size` bytes takes at the configured bandwidth."""
        if self.bandwidth_kib_s <= 0 or not size:
            return 0.0
        return size / (self.bandwidth_kib_s * 1024)

    def should_fail(self) -> bool:
        return self.error_rate > 0 and self.rng.random() < self.error_rate


def _fmt_rate(rate: float) -> str:
    return str(int(rate)) if rate == int(rate) else f"{rate:g}"


def _non_negative_int(settings: dict, key: str) -> int:
    value = int(settings[key])
    if value < 0:
        raise ValueError(f"{key} must be >= 0")
    return value
