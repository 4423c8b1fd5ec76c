"""`syncd run` and attachments that change without a page edit: in polling mode the poll's
attachment feed hints the page; in webhook mode attachment events do. Bounded waits only."""

from __future__ import annotations

import pytest

from .daemon_support import Daemon, file_of, page_ids, until, write_config

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def attachment_file(daemon: Daemon, page_id: str, name: str) -> bytes | None:
    page = file_of(daemon.folder, page_id)
    if page is None:
        return None
    path = page.with_suffix(".attachments") / name
    try:
        return path.read_bytes()
    except OSError:
        return None


def attach_with_edit(emu, page_id: str, name: str, data: bytes) -> str:
    def act() -> str:
        att = emu.store.add_attachment(page_id, name, data)
        emu.store.edit(page_id, emu.store.get(page_id).body + "<p>attached</p>")
        return att.id

    return emu.call(act)


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_polling_downloads_a_new_attachment_version_without_page_edit(flavor, tmp_path):
    with server.ThreadedEmulator(flavor=flavor, pages=2, space="DEMO") as emu:
        config = write_config(tmp_path, emu, webhook={"enabled": False})
        with Daemon(config) as daemon:
            assert daemon.wait_ready()["mode"] == "polling"
            page = page_ids(emu)[1]
            att = attach_with_edit(emu, page, "diagram.txt", b"diagram v1\n")
            until(
                lambda: attachment_file(daemon, page, "diagram.txt") == b"diagram v1\n",
                what="the first version downloaded",
            )
            version = emu.call(lambda: emu.store.get(page).version.number)
            # "upload a new version": the page's version does not change
            emu.call(lambda: emu.store.update_attachment_data(att, b"diagram v2\n"))
            until(
                lambda: attachment_file(daemon, page, "diagram.txt") == b"diagram v2\n",
                within=20,
                what="the new version downloaded by polling",
            )
            assert emu.call(lambda: emu.store.get(page).version.number) == version
            assert daemon.stop() == 0


def test_webhook_attachment_events_update_and_trash_the_file(tmp_path):
    with server.ThreadedEmulator(flavor="cloud", pages=2, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            assert daemon.wait_ready()["mode"] == "webhook"
            page = page_ids(emu)[1]
            att = attach_with_edit(emu, page, "gone.txt", b"to be deleted\n")
            until(
                lambda: attachment_file(daemon, page, "gone.txt") == b"to be deleted\n",
                what="the attachment downloaded",
            )
            emu.call(lambda: emu.store.update_attachment_data(att, b"new version\n"))
            until(
                lambda: attachment_file(daemon, page, "gone.txt") == b"new version\n",
                what="the new version delivered by attachment_updated",
            )
            emu.call(lambda: emu.store.delete_attachment(att))  # attachment_trashed
            until(
                lambda: attachment_file(daemon, page, "gone.txt") is None,
                what="the file moved away",
            )
            trash = tmp_path / "state" / "trash"
            found = [p for p in trash.rglob("gone.txt") if p.read_bytes() == b"new version\n"]
            assert found, list(trash.rglob("*"))
            assert emu.call(lambda: emu.store.get(page).status) == "current"
            assert daemon.stop() == 0
