"""``data=FILE``: the site survives a restart; the file is written atomically."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from syncd.emulator import persistence
from syncd.emulator.server import EmulatorServer, build_store


async def test_space_persists_across_restart(tmp_path: Path):
    data = tmp_path / "site.json"
    async with EmulatorServer(flavor="cloud", pages=5, seed=1, data=data) as emu:
        store = emu.store
        page = store.create_page("DEMO", "Survivor", "<p>1</p>")
        store.edit(page.id, "<p>2</p>")
        store.add_label(page.id, "kept")
        store.add_attachment(page.id, "a.bin", b"\x00\x01bytes")
        store.add_webhook(name="h", url="http://127.0.0.1:9/h", events=["page_updated"])
        gone = store.create_page("DEMO", "Gone")
        store.trash(gone.id)
        pages_before = {c.id: (c.title, c.body, c.status) for c in store.content.values()}
    assert data.exists()

    async with EmulatorServer(flavor="cloud", pages=50, seed=9, data=data) as emu:
        store = emu.store
        assert {c.id: (c.title, c.body, c.status) for c in store.content.values()} == pages_before
        again = store.by_title("DEMO", "Survivor")
        assert [v.body for v in again.versions] == ["<p>1</p>", "<p>2</p>"]
        assert list(again.labels) == ["kept"]
        assert store.attachment_by_name(again.id, "a.bin").version.data == b"\x00\x01bytes"
        assert [h.url for h in store.webhooks.values()] == ["http://127.0.0.1:9/h"]
        assert store.by_title("DEMO", "Gone").status == "trashed"
        new = store.create_page("DEMO", "After restart")
        assert int(new.id) > max(int(i) for i in pages_before), "ids keep counting"
        async with httpx.AsyncClient(base_url=emu.base_url, auth=(emu.user, emu.token)) as c:
            r = await c.get(f"/api/v2/pages/{again.id}", params={"body-format": "storage"})
            assert r.json()["version"]["number"] == 2


async def test_changes_are_saved_soon_without_stopping(tmp_path: Path):
    data = tmp_path / "site.json"
    async with EmulatorServer(flavor="dc", data=data) as emu:
        before = emu.persister.saves
        emu.store.create_page("DEMO", "Debounced")
        emu.store.create_page("DEMO", "Debounced 2")
        # bounded wait for the debounced background save
        for _ in range(200):
            if emu.persister.saves > before:
                break
            await asyncio.sleep(0.02)
        assert emu.persister.saves == before + 1, "a burst of changes is one write"
        titles = {c["versions"][-1]["title"] for c in json.loads(data.read_text())["content"]}
        assert {"Debounced", "Debounced 2"} <= titles


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path):
    store = build_store(space="DEMO", pages=3, seed=0, user="a@example.com", corpus=None)
    path = tmp_path / "nested" / "site.json"
    persistence.save_store(store, path)
    persistence.save_store(store, path)
    assert [p.name for p in path.parent.iterdir()] == ["site.json"]
    loaded = persistence.load_store(path)
    assert sorted(loaded.content) == sorted(store.content)
