"""The receiver against the emulator's real webhook deliveries (both flavors, loopback)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

import syncd.emulator.server as emulator_server
from syncd.daemon.dirty import DirtySet
from syncd.daemon.events import RemoteHint, cloud_callback_url
from syncd.daemon.receiver import (
    RECEIVER_KEY,
    ReceiverConfig,
    bound_port,
    create_webhook_app,
    start_receiver,
)

SECRET = "whsec-6b1f0e3c9a2d4f58"


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (bounded poll of a plain predicate)
            await asyncio.sleep(0.01)


class Rig:
    """An emulator plus a receiver whose hints mark a DirtySet."""

    def __init__(self, flavor: str) -> None:
        self.flavor = flavor
        self.dirty = DirtySet()
        self.hints: list[RemoteHint] = []

    async def on_hint(self, hint: RemoteHint) -> None:
        self.hints.append(hint)
        if hint.page_id:
            self.dirty.add(hint.page_id, source="webhook", version=hint.version, event=hint.event)


@pytest.fixture(params=["dc", "cloud"])
async def rig(request):
    flavor = request.param
    r = Rig(flavor)
    async with emulator_server.EmulatorServer(flavor=flavor, pages=3, space="DEMO") as emu:
        app = create_webhook_app(
            ReceiverConfig(flavor=flavor, secret=SECRET, path="/hooks/syncd", space_key="DEMO"),
            r.on_hint,
        )
        runner = await start_receiver(app, "127.0.0.1", 0)
        try:
            r.emu = emu
            r.receiver = app[RECEIVER_KEY]
            r.public_url = f"http://127.0.0.1:{bound_port(runner)}/hooks/syncd"
            yield r
        finally:
            await runner.cleanup()


def register(rig: Rig, *, secret: str = SECRET, token: str = SECRET) -> None:
    store = rig.emu.store
    events = ["page_created", "page_updated", "page_trashed", "label_added"]
    if rig.flavor == "dc":
        store.add_webhook(name="syncd", url=rig.public_url, events=events, secret=secret)
    else:
        for event in events:
            url = cloud_callback_url(rig.public_url, event, token)
            store.add_webhook(name="syncd", url=url, events=[event])


def a_page(rig: Rig) -> str:
    space = rig.emu.store.space("DEMO")
    return next(c.id for c in rig.emu.store.children(space.homepage_id))


async def test_remote_edit_reaches_the_dirty_set(rig):
    register(rig)
    page_id = a_page(rig)
    rig.emu.store.edit(page_id, "<p>edited remotely</p>")
    await until(lambda: page_id in rig.dirty)
    hint = rig.hints[-1]
    assert hint.event == "page_updated" and hint.page_id == page_id
    if rig.flavor == "cloud":
        assert hint.version == rig.emu.store.get(page_id).version.number == 2
    assert rig.receiver.stats.unauthorized == 0


async def test_label_and_trash_events_name_the_page(rig):
    register(rig)
    page_id = a_page(rig)
    rig.emu.store.add_label(page_id, "howto")
    rig.emu.store.trash(page_id)
    await until(lambda: {h.event for h in rig.hints} >= {"label_added", "page_trashed"})
    assert all(h.page_id == page_id for h in rig.hints)
    assert rig.dirty.take().page_ids == [page_id]  # coalesced into one entry


async def test_wrong_secret_or_token_is_rejected_and_nothing_marked(rig):
    register(rig, secret="not-the-secret", token="not-the-token")
    page_id = a_page(rig)
    rig.emu.store.edit(page_id, "<p>forged?</p>")
    await until(lambda: any(d.get("status") == 401 for d in rig.emu.deliveries))
    assert rig.receiver.stats.unauthorized >= 1
    assert rig.hints == [] and len(rig.dirty) == 0


async def test_duplicated_deliveries_are_dropped(rig):
    register(rig)
    rig.emu.faults.configure({"webhooks": "duplicate"})
    page_id = a_page(rig)
    rig.emu.store.edit(page_id, "<p>once</p>")
    await until(lambda: sum(1 for d in rig.emu.deliveries if d.get("status") == 200) >= 2)
    assert len(rig.hints) == 1
    assert rig.receiver.stats.duplicates == 1


async def test_reordered_deliveries_never_regress(rig):
    register(rig)
    rig.emu.faults.configure({"webhooks": "reorder"})
    page_id = a_page(rig)
    rig.emu.store.edit(page_id, "<p>v2</p>")
    rig.emu.store.edit(page_id, "<p>v3</p>")
    await until(lambda: sum(1 for d in rig.emu.deliveries if d.get("status") == 200) >= 2)
    delivered = [d for d in rig.emu.deliveries if d.get("status") == 200]
    assert len(delivered) == 2
    batch = rig.dirty.take()
    assert batch.page_ids == [page_id]  # one pull for the page, whatever the order
    if rig.flavor == "cloud":
        # v3 arrived first; the late v2 is stale and was dropped at the door
        assert [h.version for h in rig.hints] == [3]
        assert rig.receiver.stats.stale == 1
        assert batch.entries[page_id].max_version == 3
