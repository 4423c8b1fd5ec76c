"""systemd's notify protocol, spoken directly over the socket (no libsystemd needed).

One datagram per message to the ``AF_UNIX`` socket named by ``$NOTIFY_SOCKET`` (a leading
``@`` means the Linux abstract namespace). When the variable is unset (a terminal,
launchd, tests) every call is a silent no-op, so the main loop can call it freely:

    notifier = SystemdNotifier.from_env()
    notifier.ready("reconciling")            # READY=1 + STATUS=
    task = notifier.start_watchdog(healthy)  # WATCHDOG=1 every WATCHDOG_USEC/2 while healthy()
    notifier.status("webhook mode, in sync")
    notifier.stopping()                      # STOPPING=1 at the start of shutdown

Watchdog pings come from an asyncio task on the main loop, so a blocked loop stops them;
``healthy`` lets the main loop also withhold them when a worker is stuck.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(
        self,
        address: str | None,
        *,
        watchdog_usec: int | None = None,
    ) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SystemdNotifier:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET") or None
        watchdog_usec: int | None = None
        raw = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        # WATCHDOG_PID, when set, names the process the watchdog is meant for.
        if raw and (not pid or pid == str(os.getpid())):
            try:
                watchdog_usec = int(raw)
            except ValueError:
                log.warning("ignoring malformed WATCHDOG_USEC=%r", raw)
        return cls(address, watchdog_usec=watchdog_usec)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises."""
        if not self.enabled or self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=value`` lines as one datagram; False if not sent (never raises)."""
        if not self.address:
            return False
        payload = "\n".join(lines).encode("utf-8")
        target = self.address
        if target.startswith("@"):
            target = "\0" + target[1:]
        try:
            # One socket per message, as sd_notify(3) does: messages are rare, and nothing
            # stays open to leak into child processes or outlive the notifier.
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sock.sendto(payload, target)
        except OSError as exc:
            if not self._warned:
                log.warning("could not notify the service manager at %s: %s", self.address, exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        lines = ["READY=1"]
        if status:
            lines.append("STATUS=" + _one_line(status))
        return self.notify(*lines)

    def status(self, text: str) -> bool:
        return self.notify("STATUS=" + _one_line(text))

    def stopping(self, status: str | None = None) -> bool:
        lines = ["STOPPING=1"]
        if status:
            lines.append("STATUS=" + _one_line(status))
        return self.notify(*lines)

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more start-up or shutdown time (EXTEND_TIMEOUT_USEC)."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    async def watchdog_loop(self, healthy: Callable[[], bool] | None = None) -> None:
        """Ping every ``watchdog_interval`` while ``healthy()`` holds; returns if disabled."""
        interval = self.watchdog_interval
        if interval is None:
            return
        while True:
            if healthy is None or _safe(healthy):
                self.watchdog()
            else:
                log.warning("withholding the systemd watchdog ping: the daemon is not healthy")
            await asyncio.sleep(interval)

    def start_watchdog(
        self, healthy: Callable[[], bool] | None = None
    ) -> asyncio.Task[None] | None:
        """Start :meth:`watchdog_loop` as a task (``None`` when no watchdog is configured)."""
        if self.watchdog_interval is None:
            return None
        return asyncio.get_running_loop().create_task(
            self.watchdog_loop(healthy), name="systemd-watchdog"
        )

    def close(self) -> None:
        """Nothing to release (kept so callers can treat the notifier as a resource)."""


def _one_line(text: str) -> str:
    """STATUS= is a single line of UTF-8."""
    return " ".join(text.split())[:400]


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:
        log.exception("watchdog health check failed")
        return False
