"""SIGTERM/SIGINT for the daemon's asyncio loop: first signal stops, second one exits now.

The first signal sets :attr:`ShutdownSignals.stop_event`; the main loop awaits it, then
stops taking events, finishes writes in flight and saves state. A second signal (a user
pressing Ctrl-C again, or a service manager losing patience) exits at once with
``128 + signum``: every write is atomic, so the worst case is redone work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

DEFAULT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ShutdownSignals:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        signals: Iterable[signal.Signals] = DEFAULT_SIGNALS,
        on_first: Callable[[signal.Signals], None] | None = None,
        force_exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.signals = tuple(signals)
        self.stop_event = asyncio.Event()
        self.received: signal.Signals | None = None
        self._on_first = on_first
        self._force_exit = force_exit
        self._installed: list[signal.Signals] = []

    def install(self) -> ShutdownSignals:
        for sig in self.signals:
            self.loop.add_signal_handler(sig, self._handle, sig)
            self._installed.append(sig)
        return self

    def uninstall(self) -> None:
        for sig in self._installed:
            self.loop.remove_signal_handler(sig)
        self._installed.clear()

    async def wait(self) -> signal.Signals | None:
        await self.stop_event.wait()
        return self.received

    def _handle(self, sig: signal.Signals) -> None:
        if self.stop_event.is_set():
            log.warning("%s received again: exiting immediately", sig.name)
            self._force_exit(128 + int(sig))
            return
        self.received = sig
        log.info("%s received: shutting down (send it again to exit immediately)", sig.name)
        self.stop_event.set()
        if self._on_first is not None:
            try:
                self._on_first(sig)
            except Exception:
                log.exception("shutdown callback failed")


def install_signal_handlers(
    loop: asyncio.AbstractEventLoop | None = None, **kwargs: object
) -> ShutdownSignals:
    """Install the handlers on the running loop; returns the object holding ``stop_event``."""
    return ShutdownSignals(loop, **kwargs).install()  # type: ignore[arg-type]
