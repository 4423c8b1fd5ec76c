"""The daemon's building blocks wired together as the main loop will, against the emulator.

Real webhook deliveries (signed on DC, token in the URL on Cloud), a change feed read from
the emulator, a stand-in sync engine that "pulls" dirty pages, the control socket and
systemd notify datagrams. Scenario: webhook mode -> deliveries dropped -> polling (the
change still syncs) -> deliveries back -> webhook mode. Short intervals, bounded waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

import syncd.emulator.server as emulator_server
from syncd.daemon.control import ControlServer, empty_status, fetch_status
from syncd.daemon.dirty import DirtySet
from syncd.daemon.events import RemoteHint, cloud_callback_url
from syncd.daemon.modes import Mode, ModeMachine, ModeSettings, RemoteChange, Transition
from syncd.daemon.notify import SystemdNotifier
from syncd.daemon.receiver import (
    RECEIVER_KEY,
    ReceiverConfig,
    bound_port,
    create_webhook_app,
    start_receiver,
)
from syncd.daemon.scheduler import ModeScheduler, delivery_listener

SECRET = "wiring-secret-4c2d9e71"
EVENTS = ["page_created", "page_updated", "page_trashed", "page_restored", "page_moved"]


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (bounded poll of a plain predicate)
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
async def test_fallback_to_polling_and_back(flavor, tmp_path: Path):
    notify_path = tmp_path / "notify.sock"
    notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_sock.bind(str(notify_path))
    notify_sock.setblocking(False)
    datagrams: list[str] = []

    def drain_notify() -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while True:
                datagrams.append(notify_sock.recv(4096).decode())
        return datagrams

    async with emulator_server.EmulatorServer(flavor=flavor, pages=4, space="DEMO") as emu:
        store = emu.store
        pages = [c.id for c in store.all_content("page")]
        synced = {pid: store.get(pid).version.number for pid in pages}  # the "state"

        machine = ModeMachine(
            ModeSettings(
                silence_timeout=0.3,
                poll_interval=0.15,
                grace=0.5,
                clock_skew=0.05,
                full_scan_interval=3600,
            )
        )
        dirty = DirtySet()
        notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": str(notify_path)})

        async def on_hint(hint: RemoteHint) -> None:
            if hint.page_id:
                dirty.add(hint.page_id, source="webhook", version=hint.version, event=hint.event)

        space_id = str(store.space("DEMO").id)
        app = create_webhook_app(
            ReceiverConfig(
                flavor=flavor, secret=SECRET, path="/hook", space_key="DEMO", space_id=space_id
            ),
            on_hint,
            on_delivery=delivery_listener(machine),
            on_overflow=dirty.request_full_scan,
            known_version=synced.get,
            mode=lambda: machine.mode.value,
        )
        runner = await start_receiver(app, "127.0.0.1", 0)
        public_url = f"http://127.0.0.1:{bound_port(runner)}/hook"

        async def register() -> None:
            if flavor == "dc":
                store.add_webhook(name="syncd", url=public_url, events=EVENTS, secret=SECRET)
            else:
                for event in EVENTS:
                    store.add_webhook(
                        name="syncd",
                        url=cloud_callback_url(public_url, event, SECRET),
                        events=[event],
                    )

        async def changes_since(since: float) -> list[RemoteChange]:
            return [
                RemoteChange(c.id, c.version.number, c.version.when / 1000)
                for c in store.all_content("page")
                if c.version.when / 1000 >= since - 0.2
            ]

        def on_transition(t: Transition) -> None:
            notifier.status(f"{t.mode.value}: {t.reason}")

        sched = ModeScheduler(
            machine,
            changes_since=changes_since,
            dirty=dirty,
            watermark=0.0,
            known_version=synced.get,
            register=register,
            on_transition=on_transition,
        )

        async def sync_engine() -> None:  # stands in for the one reconcile path
            while True:
                batch = await dirty.next_batch()
                for pid in batch.page_ids:
                    synced[pid] = store.get(pid).version.number

        def status() -> dict:
            doc = empty_status()
            snap = machine.snapshot()
            doc.update(
                running=True,
                mode=snap["mode"],
                mode_reason=snap["reason"],
                space="DEMO",
                pages=len(synced),
                pending=len(dirty),
            )
            doc["webhook"] = {"registered": machine.registered, "id": None, "url": public_url}
            return doc

        stop = asyncio.Event()
        control = ControlServer(tmp_path / "state", status)
        await control.start()
        engine = asyncio.create_task(sync_engine())
        try:
            notifier.ready("reconciling")
            assert await sched.register_now()
            loop_task = asyncio.create_task(sched.run(stop))

            # 1. webhook mode: a remote edit arrives by delivery and is synced
            a, b, c = pages[1], pages[2], pages[3]
            store.edit(a, "<p>one</p>")
            await until(lambda: synced[a] == 2)
            assert app[RECEIVER_KEY].stats.accepted >= 1
            assert machine.mode is Mode.WEBHOOK

            # 2. deliveries stop: the freshness check notices, polling syncs the change
            emu.faults.configure({"webhooks": "drop"})
            store.edit(b, "<p>two</p>")
            await until(lambda: machine.mode is Mode.POLLING)
            await until(lambda: synced[b] == 2)
            assert "not delivered by webhook" in machine.reason
            got = await asyncio.to_thread(fetch_status, control.path, 2.0)
            assert got is not None and got["mode"] == "polling"
            assert "not delivered" in got["mode_reason"]

            # 3. deliveries resume and cover the changes: back to webhook mode
            emu.faults.configure({"webhooks": "deliver"})
            store.edit(c, "<p>three</p>")
            await until(lambda: machine.mode is Mode.WEBHOOK)
            assert synced[c] == 2
            assert "deliveries resumed" in machine.reason
            got = await asyncio.to_thread(fetch_status, control.path, 2.0)
            assert got is not None and got["mode"] == "webhook"

            await until(
                lambda: any(
                    d.startswith("STATUS=webhook: deliveries resumed") for d in drain_notify()
                )
            )
            assert datagrams[0] == "READY=1\nSTATUS=reconciling"
            assert any(d.startswith("STATUS=polling:") for d in datagrams)
            stop.set()
            async with asyncio.timeout(3):
                await loop_task
        finally:
            stop.set()
            engine.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await engine
            await control.stop()
            await runner.cleanup()
            notifier.close()
            notify_sock.close()
