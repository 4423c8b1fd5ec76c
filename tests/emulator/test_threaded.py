"""ThreadedEmulator: the server on its own loop, driven by synchronous code and threads."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from syncd.emulator.server import ThreadedEmulator


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_sync_client_and_store_mutations_from_another_thread():
    with ThreadedEmulator(flavor="cloud", pages=3, seed=1) as emu:
        assert emu.base_url.endswith("/wiki") and emu.port > 0
        hook_target = f"{emu.root_url}/_emulator/health"
        emu.store.add_webhook(name="t", url=hook_target, events=["page_created"])
        page = emu.store.create_page("DEMO", "From the test thread")  # not the server's loop
        wait_until(lambda: len(emu.deliveries) == 1)
        assert emu.deliveries[0]["event"] == "page_created"
        r = httpx.get(f"{emu.base_url}/api/v2/pages/{page.id}", auth=(emu.user, emu.token))
        assert r.status_code == 200 and r.json()["title"] == "From the test thread"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{emu.root_url}/_emulator/health", timeout=2)


def test_concurrent_updates_one_wins_the_others_conflict():
    with ThreadedEmulator(flavor="dc") as emu:
        pid = emu.store.create_page("DEMO", "Raced").id

        def put(i: int) -> int:
            r = httpx.put(
                f"{emu.base_url}/rest/api/content/{pid}",
                headers={"Authorization": f"Bearer {emu.token}"},
                json={
                    "type": "page",
                    "title": "Raced",
                    "version": {"number": 2},
                    "body": {"storage": {"value": f"<p>{i}</p>", "representation": "storage"}},
                },
                timeout=10,
            )
            return r.status_code

        with ThreadPoolExecutor(8) as pool:
            codes = sorted(pool.map(put, range(8)))
        assert codes == [200] + [409] * 7
        assert emu.store.get(pid).version.number == 2


def test_call_runs_on_the_emulator_loop():
    with ThreadedEmulator(flavor="cloud") as emu:

        async def count() -> int:
            return len(emu.store.content)

        assert emu.call(count) == 1
