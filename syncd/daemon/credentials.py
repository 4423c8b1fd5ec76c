"""A refused API token: say so once, hold the work, and resume when a new token appears.

Atlassian API tokens expire (a year at most since 2024-12-15; older ones between March and
May 2026), and a service account's token is rotated by replacing it. When Confluence refuses
a token that worked before, the daemon keeps its state and pending work, stops sending
requests, and watches where the token comes from: the config file and the service's env
file (``$SYNCD_ENV_FILE``, else ``env`` beside the default config, the file the systemd and
launchd services read). When either changes and yields another token, the client switches
to it in place and a full scan catches up, with no restart. The same token is retried
rarely (``retry_every``), in case the refusal was passing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("syncd.daemon")


class TokenStillRefused(Exception):
    """Raised instead of sending a request while the token is known to be refused."""


def env_file() -> Path:
    """The env file a service reads its secrets from (``$SYNCD_ENV_FILE`` overrides)."""
    override = os.environ.get("SYNCD_ENV_FILE")
    if override:
        return Path(override).expanduser()
    from syncd.service import env_file_path

    return env_file_path()


def service_environment() -> dict[str, str]:
    """This process's environment with the service's env file over it (its newest values)."""
    from syncd.service import read_env_file

    env = dict(os.environ)
    env.update(read_env_file(env_file()))
    return env


def is_refused_token(exc: BaseException) -> bool:
    """Confluence refused the credentials themselves (not a missing scope or permission)."""
    from syncd.confluence import AuthFailed

    return isinstance(exc, AuthFailed)


class TokenWatch:
    """The refused-token state of one daemon, and the watch for a replacement token."""

    def __init__(
        self,
        config: Any,
        *,
        client: Callable[[], Any],
        on_renewed: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        check_every: float = 2.0,
        retry_every: float = 900.0,
    ) -> None:
        self.config = config
        self._client = client
        self._on_renewed = on_renewed
        self._clock = clock
        self.check_every = check_every
        self.retry_every = retry_every
        self.refused: str | None = None
        self.refused_at: float | None = None
        self._token = config.confluence.token
        self._seen = self._fingerprint()
        self._retry_at: float | None = None
        self._resumed = asyncio.Event()

    # ---- state -------------------------------------------------------------------------

    def note(self, exc: BaseException) -> None:
        """A request met a refused token: the first time, say so and start watching."""
        if self.refused is not None:
            log.debug("the API token is still refused: %s", exc)
            return
        self.refused = str(exc) or type(exc).__name__
        self.refused_at = self._clock()
        self._retry_at = self.refused_at + self.retry_every
        self._resumed.clear()
        log.error(
            "Confluence refused the API token (likely expired or revoked): %s. syncd keeps "
            "its state and pending changes and sends nothing until the token works: put a "
            "new token where the config reads it (%s); it is picked up within seconds, no "
            "restart needed. The same token is retried every %.0f min.",
            self.refused,
            self.source_hint(),
            self.retry_every / 60,
        )

    def source_hint(self) -> str:
        source = getattr(self.config, "source", None)
        return f"{env_file()} or {source}" if source else str(env_file())

    def status(self) -> dict[str, Any] | None:
        if self.refused is None:
            return None
        return {"refused": self.refused, "since": self.refused_at, "source": self.source_hint()}

    def succeeded(self) -> None:
        """A run went through: the token works (again)."""
        if self.refused is not None:
            log.info("the API token is accepted again; syncing resumes")
        self.refused = None
        self.refused_at = None
        self._resumed.set()

    def check(self) -> None:
        """Raise ``TokenStillRefused`` while the token is refused (no request is sent)."""
        if self.refused is not None:
            raise TokenStillRefused(f"the API token is refused ({self.refused})")

    # ---- the watch ---------------------------------------------------------------------

    async def wait_until_usable(self, stop: asyncio.Event) -> None:
        """Return when the token may be tried again: renewed, retry due, or stopping."""
        while self.refused is not None and not stop.is_set():
            if self.renew():
                return
            if self._retry_at is not None and self._clock() >= self._retry_at:
                self._retry_at = self._clock() + self.retry_every
                log.info("retrying the refused API token")
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check_every)

    def renew(self) -> bool:
        """Re-read the token source if it changed; switch to a new token found there."""
        seen = self._fingerprint()
        if seen == self._seen:
            return False
        self._seen = seen
        token, email = self._read()
        if token is None or token == self._token:
            return False
        self._token = token
        self._client().replace_credentials(email, token)
        self.refused = None
        self.refused_at = None
        self._resumed.set()
        log.info("a new API token was found; syncing resumes")
        self._on_renewed("API token renewed")
        return True

    def _read(self) -> tuple[str | None, str | None]:
        from syncd.config import ConfigError, load_config

        env = service_environment()
        source = getattr(self.config, "source", None)
        if source is None:
            return None, None
        try:
            fresh = load_config(source, env=env)
        except ConfigError as exc:
            log.warning("the token source cannot be read yet: %s", exc)
            return None, None
        return fresh.confluence.token, fresh.confluence.email

    def _fingerprint(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for path in (env_file(), getattr(self.config, "source", None)):
            try:
                st = os.stat(path) if path is not None else None
            except OSError:
                st = None
            out.append((st.st_mtime_ns, st.st_size, st.st_ino) if st is not None else None)
        return tuple(out)
