"""Emulators for the contract tests: one per flavor per module, driven with httpx on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from syncd.emulator.server import ThreadedEmulator

USER = "contract@example.com"
TOKEN = "contract-token"
SPACE = "CTR"


@dataclass
class Site:
    emu: ThreadedEmulator
    http: httpx.Client
    space_id: str
    home_id: str

    @property
    def store(self):
        return self.emu.store


@pytest.fixture(scope="module")
def cloud() -> Iterator[Site]:
    emu = ThreadedEmulator(flavor="cloud", space=SPACE, pages=3, seed=1, user=USER, token=TOKEN)
    emu.start()
    http = httpx.Client(base_url=emu.base_url, auth=(USER, TOKEN), timeout=10)
    space = emu.store.space(SPACE)
    yield Site(emu, http, str(space.id), str(space.homepage_id))
    http.close()
    emu.stop()


@pytest.fixture(scope="module")
def dc() -> Iterator[Site]:
    emu = ThreadedEmulator(flavor="dc", space=SPACE, pages=3, seed=1, user=USER, token=TOKEN)
    emu.start()
    http = httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    space = emu.store.space(SPACE)
    yield Site(emu, http, str(space.id), str(space.homepage_id))
    http.close()
    emu.stop()
