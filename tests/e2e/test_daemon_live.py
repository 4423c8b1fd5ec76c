"""`syncd run` as a subprocess against the emulator: live sync both ways, no echo,
forged deliveries refused, duplicated and reordered deliveries, a second instance."""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request

import pytest

from syncd.daemon.receiver import sign_body

from .daemon_support import (
    Daemon,
    edit_page,
    file_of,
    page_body,
    page_ids,
    page_version,
    quiescent,
    request_total,
    set_faults,
    status_json,
    syncd_cli,
    until,
    write_config,
)

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATUS_KEYS = {
    "running", "mode", "space", "path", "pages", "pending", "conflicts",
    "last_event_at", "last_poll_at", "webhook", "errors",
}  # fmt: skip


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def pulls_of(daemon: Daemon, page_id: str) -> int:
    return len(re.findall(rf"syncd\.daemon: pulled .* page {page_id} ->", daemon.log()))


def puts(emu) -> int:
    counts = emu.call(lambda: dict(emu.requests))
    return sum(
        n for route, n in counts.items() if route.startswith("PUT ") and "webhook" not in route
    )


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_live_sync_both_ways_without_echo(flavor: str, tmp_path) -> None:
    with server.ThreadedEmulator(flavor=flavor, pages=4, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            code, st = status_json(config)
            assert code == 0, st
            assert set(st) >= STATUS_KEYS
            assert st["running"] is True and st["mode"] == "webhook"
            assert st["space"] == "DEMO" and st["path"] == str(daemon.folder)
            assert st["pages"] == 5 and st["pending"] == 0 and st["conflicts"] == []
            assert st["webhook"]["registered"] is True and st["webhook"]["id"]
            assert st["last_event_at"] is None

            _home, a, b, c = page_ids(emu)[:4]
            # remote edit -> file updated
            edit_page(emu, a, "<p>remote-marker-1</p>")
            until(
                lambda: (f := file_of(daemon.folder, a)) and "remote-marker-1" in f.read_text(),
                what="the remote edit on disk",
            )
            # local save -> page updated
            fb = file_of(daemon.folder, b)
            assert fb is not None
            fb.write_text(fb.read_text() + "\nlocal-marker-2\n")
            until(lambda: "local-marker-2" in page_body(emu, b), what="the local save pushed")
            # a rename-over save (gedit's temp file) is one edit of the real file
            text = fb.read_text().replace("local-marker-2", "local-marker-3")
            tmp = fb.with_name(".goutputstream-X1Y2Z3")
            tmp.write_text(text)
            os.replace(tmp, fb)
            until(lambda: "local-marker-3" in page_body(emu, b), what="the rename-over save")
            assert fb.exists()

            # no echo: once quiet, the request counter stays still; one PUT per save
            total = quiescent(emu)
            assert page_version(emu, b) == 3 and page_version(emu, a) == 2
            assert puts(emu) == 2
            assert pulls_of(daemon, b) == 0  # our own pushes are never pulled back
            st = daemon.status()
            assert st["last_event_at"] is not None and st["pending"] == 0

            # forged deliveries: 401, and nothing is fetched or changed
            body = json.dumps({"event": "page_updated", "page": {"id": int(a)}}).encode()
            if flavor == "dc":
                code = post(
                    daemon.public_url, body, {"X-Hub-Signature": sign_body("not-the-secret", body)}
                )
            else:
                code = post(daemon.public_url + "?token=guess&event=page_updated", body, {})
            assert code == 401
            assert "rejected (401)" in daemon.log()
            assert quiescent(emu, quiet=1.0) == total

            # duplicated deliveries: one pull
            set_faults(emu, webhooks="duplicate")
            edit_page(emu, c, "<p>dup-marker</p>")
            until(
                lambda: (f := file_of(daemon.folder, c)) and "dup-marker" in f.read_text(),
                what="the duplicated edit on disk",
            )
            quiescent(emu, quiet=1.0)
            assert pulls_of(daemon, c) == 1

            # reordered deliveries: the newest version wins, at most one pull per version
            set_faults(emu, webhooks="reorder")
            edit_page(emu, c, "<p>reorder-one</p>")
            edit_page(emu, c, "<p>reorder-two</p>")
            until(
                lambda: (f := file_of(daemon.folder, c)) and "reorder-two" in f.read_text(),
                what="the last of the reordered edits on disk",
            )
            quiescent(emu, quiet=1.0)
            assert "reorder-one" not in file_of(daemon.folder, c).read_text()
            assert pulls_of(daemon, c) <= 3
            set_faults(emu, webhooks="deliver")

            # a page trashed in Confluence goes to the local trash, not oblivion
            emu.call(lambda: emu.store.trash(a))
            until(lambda: file_of(daemon.folder, a) is None, what="the trashed page's file moved")
            trash = daemon.state_dir / "trash"
            assert any("remote-marker-1" in p.read_text() for p in trash.rglob("*.md"))

            # a second instance is refused, naming the running one
            second = syncd_cli("run", "--config", str(config))
            assert second.returncode == 2
            assert "already running" in second.stderr and str(daemon.proc.pid) in second.stderr
            assert request_total(emu) >= total
            assert daemon.stop() == 0
        assert "Traceback" not in daemon.log()
