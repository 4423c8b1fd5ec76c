"""SIGTERM/SIGINT handling on the asyncio loop, with real signals to this process."""

from __future__ import annotations

import asyncio
import os
import signal

from syncd.daemon.signals import install_signal_handlers


async def test_first_signal_sets_stop_event_second_forces_exit():
    exits: list[int] = []
    firsts: list[signal.Signals] = []
    handlers = install_signal_handlers(force_exit=exits.append, on_first=firsts.append)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        async with asyncio.timeout(5):
            got = await handlers.wait()
        assert got is signal.SIGTERM and firsts == [signal.SIGTERM]
        assert exits == []
        os.kill(os.getpid(), signal.SIGINT)
        async with asyncio.timeout(5):
            while not exits:  # noqa: ASYNC110 (bounded wait for the handler to run)
                await asyncio.sleep(0.01)
        assert exits == [128 + signal.SIGINT]
    finally:
        handlers.uninstall()


async def test_uninstall_restores_default_handling():
    handlers = install_signal_handlers(force_exit=lambda code: None)
    handlers.uninstall()
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.default_int_handler)
