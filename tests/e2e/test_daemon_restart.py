"""`syncd run` stopped and started again: changes on both sides while it was down are
caught up; `syncd status` reads the last known state while it is stopped; SIGTERM in the
middle of a burst of pulls exits cleanly and leaves no partial file."""

from __future__ import annotations

import re
import time

import pytest

from syncd.local import frontmatter

from .daemon_support import (
    Daemon,
    edit_page,
    file_of,
    page_body,
    page_ids,
    set_faults,
    status_json,
    until,
    write_config,
)

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_restart_catches_up_with_both_sides(flavor: str, tmp_path) -> None:
    with server.ThreadedEmulator(flavor=flavor, pages=3, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            assert daemon.stop() == 0
        assert not (daemon.state_dir / "control.sock").exists()

        code, st = status_json(config)
        assert code == 3  # not running
        assert st["running"] is False and st["pages"] == 4
        assert st["mode"] == "webhook" and st["conflicts"] == []
        assert st["webhook"]["registered"] is True and st["webhook"]["id"]
        assert st["space"] == "DEMO" and st["path"] == str(daemon.folder)

        _home, a, b = page_ids(emu)[:3]
        edit_page(emu, a, "<p>remote-while-stopped</p>")
        fb = file_of(daemon.folder, b)
        assert fb is not None
        fb.write_text(fb.read_text() + "\nlocal-while-stopped\n")

        with Daemon(config) as again:
            again.wait_ready()
            until(
                lambda: (f := file_of(again.folder, a)) and "remote-while-stopped" in f.read_text(),
                what="the remote change caught up",
            )
            until(lambda: "local-while-stopped" in page_body(emu, b), what="the local change")
            hooks = emu.call(lambda: len(emu.store.webhooks))
            assert hooks == (1 if flavor == "dc" else hooks)  # reused, not added
            code, st = status_json(config)
            assert code == 0 and st["running"] is True and st["pending"] == 0
            assert again.stop() == 0


def test_sigterm_during_a_burst_exits_cleanly_without_partial_files(tmp_path) -> None:
    count = 40
    filler = "lorem ipsum dolor sit amet " * 400
    with server.ThreadedEmulator(flavor="dc", pages=count, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            ids = page_ids(emu)[1:]
            for n, pid in enumerate(ids):
                edit_page(emu, pid, f"<p>burst-start-{n}</p><p>{filler}</p><p>burst-end-{n}</p>")
            # slow the server down so the run is still pulling when SIGTERM comes
            set_faults(emu, latency_ms=40)
            until(lambda: re.search(r"sync \d+ page", daemon.log()), what="the burst's run")
            started = time.monotonic()
            assert daemon.stop() == 0
            assert time.monotonic() - started < 10
        log = daemon.log()
        assert "Traceback" not in log
        pulled = set(re.findall(r"pulled .* page (\d+) ->", log))
        assert pulled  # the writes in flight were finished...
        assert log.index("SIGTERM received") < log.rindex("pulled")  # ...after the signal
        for n, pid in enumerate(ids):
            path = file_of(daemon.folder, pid)
            assert path is not None
            text = path.read_text()
            frontmatter.parse(text)  # whole, parseable files only
            has_start, has_end = f"burst-start-{n}" in text, f"burst-end-{n}" in text
            assert has_start == has_end, f"{path.name} is partial"
            assert has_start == (pid in pulled)
