"""Logging for the daemon: one line per event on stderr, plain or JSON, secrets redacted.

* ``plain`` (humans): ``2026-11-24 18:00:00 INFO  syncd.daemon.receiver: webhook page_updated
  page=123 v7 page_id=123``. Under journald (``$JOURNAL_STREAM`` set) the timestamp is left
  to the journal and a ``<N>`` syslog priority prefix is written so levels survive.
* ``json`` (journald, log shippers): one object per line with ``ts``, ``level``,
  ``logger``, ``msg`` and every ``extra=`` field, plus ``exc`` for tracebacks.

Redaction happens on the final formatted line, so no path (message, argument, extra
field, traceback) can leak a configured secret. ``Authorization`` header values and
``token=``/``secret=`` query parameters are masked too. Secrets can be added at runtime
(:meth:`SecretRedactor.add`), e.g. once a webhook secret is generated.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

MASK = "***"
MIN_SECRET_LENGTH = 3

# Attributes every LogRecord has; anything else came in through ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

_PATTERNS = (
    # Authorization: Basic abc / Bearer abc (headers, reprs of header dicts)
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer|token)\s+)[^\s'\",}]+"),
    re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # token=..., secret=..., access_token=... in URLs and key=value text
    re.compile(r"(?i)([?&;\s]|^)((?:access_)?token|secret|password|api_key)=([^&\s'\"#]+)"),
)

_SYSLOG_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class SecretRedactor:
    """Masks known secret values and secret-looking patterns in text. Thread-safe."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        # Also the JSON-escaped form, as it appears inside a JSON log line.
        variants = {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}
        with self._lock:
            # longest first, so a secret containing another is masked whole
            self._secrets = sorted(set(self._secrets) | variants, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_match, text)
        return text


def _mask_match(match: re.Match[str]) -> str:
    groups = match.groups()
    if len(groups) == 3:  # key=value pattern: keep the separator and key
        return f"{groups[0]}{groups[1]}={MASK}"
    return groups[0] + MASK


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")
    }


class PlainFormatter(logging.Formatter):
    def __init__(self, redactor: SecretRedactor, *, journald: bool = False) -> None:
        super().__init__()
        self.redactor = redactor
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        extras = _extras(record)
        if extras:
            msg += " " + " ".join(f"{k}={_plain_value(v)}" for k, v in extras.items())
        if self.journald:
            prefix = f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>{record.name}: "
        else:
            ts = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S")
            prefix = f"{ts} {record.levelname:<7} {record.name}: "
        line = prefix + msg
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return self.redactor.redact(line)


def _plain_value(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (" " in text or not text) else text


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: SecretRedactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in _extras(record).items():
            doc[key if key not in doc else f"extra_{key}"] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        line = json.dumps(doc, ensure_ascii=False, default=str)
        # Redact the serialised line; masks never contain characters that need escaping.
        return self.redactor.redact(line)


class RecentErrors(logging.Handler):
    """Keeps the last ``capacity`` warnings and errors for ``syncd status`` (``errors``).

    Attach it to the ``syncd`` logger (``setup_logging`` does); messages are redacted
    like log lines. ``as_list()`` gives ``[{"at": iso, "level": ..., "message": ...}]``.
    """

    def __init__(
        self,
        capacity: int = 20,
        *,
        redactor: SecretRedactor | None = None,
        level: int = logging.WARNING,
    ) -> None:
        super().__init__(level)
        self.capacity = capacity
        self.redactor = redactor or SecretRedactor()
        self._items: deque[dict[str, str]] = deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.redactor.redact(record.getMessage()).splitlines()[0][:500]
        except Exception:
            return
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        self._items.append(
            {"at": at.replace("+00:00", "Z"), "level": record.levelname.lower(), "message": message}
        )

    def as_list(self) -> list[dict[str, str]]:
        return list(self._items)

    def clear(self) -> None:
        self._items.clear()


class _OneLine(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that never lets a message break the one-line-per-event rule."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if isinstance(self.formatter, JsonFormatter):
            return text
        # Plain: indent continuation lines (tracebacks) so they read as one event.
        return text.replace("\n", "\n    ")


def setup_logging(
    *,
    fmt: str = "plain",
    verbosity: int = 0,
    secrets: Iterable[str | None] = (),
    stream: TextIO | None = None,
    journald: bool | None = None,
    recent: RecentErrors | None = None,
) -> SecretRedactor:
    """Configure the root logger for the daemon; returns the redactor for later secrets.

    ``verbosity``: 0 = INFO for syncd, WARNING for libraries; 1 (``-v``) = DEBUG for syncd;
    2 (``-vv``) = DEBUG everywhere. ``journald`` defaults to whether ``$JOURNAL_STREAM`` is set.
    ``recent``: a :class:`RecentErrors` to attach to the ``syncd`` logger (it shares the
    redactor, so secrets added later are masked there too).
    """
    if fmt not in ("plain", "json"):
        raise ValueError(f"log format must be 'plain' or 'json', not {fmt!r}")
    redactor = SecretRedactor(secrets)
    if journald is None:
        journald = bool(os.environ.get("JOURNAL_STREAM"))
    handler = _OneLine(stream if stream is not None else sys.stderr)
    handler.setFormatter(
        JsonFormatter(redactor) if fmt == "json" else PlainFormatter(redactor, journald=journald)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_syncd", False):
            root.removeHandler(old)
    handler._syncd = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    syncd_logger = logging.getLogger("syncd")
    syncd_logger.setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    for old in list(syncd_logger.handlers):
        if isinstance(old, RecentErrors):
            syncd_logger.removeHandler(old)
    if recent is not None:
        recent.redactor = redactor
        syncd_logger.addHandler(recent)
    # aiohttp's access log would print callback URLs (Cloud tokens): off unless -vv.
    logging.getLogger("aiohttp.access").setLevel(
        logging.DEBUG if verbosity >= 2 else logging.WARNING
    )
    logging.captureWarnings(True)
    return redactor
