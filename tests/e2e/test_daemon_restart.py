"""`syncd run` stopped and started again: changes on both sides while it was down are
caught up; `syncd status` reads the last known state while it is stopped; SIGTERM in the
middle of a burst of pulls exits cleanly and leaves no partial file."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
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
    notify_path = tmp_path / "notify.sock"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(5)
    with server.ThreadedEmulator(flavor=flavor, pages=3, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config, env={"NOTIFY_SOCKET": str(notify_path)}) as daemon:
            daemon.wait_ready()
            assert daemon.stop() == 0
        assert not (daemon.state_dir / "control.sock").exists()
        datagrams = []
        with contextlib.suppress(TimeoutError):
            while not any(d.startswith("STOPPING=1") for d in datagrams):
                datagrams.append(notify.recv(4096).decode())
        notify.close()
        assert any(d.startswith("READY=1\nSTATUS=webhook") for d in datagrams), datagrams
        assert datagrams[-1].startswith("STOPPING=1")

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

        calls = tmp_path / "handler-calls.jsonl"
        handler = tmp_path / "on-change"
        handler.write_text(
            f"#!{sys.executable}\nimport sys\nopen({str(calls)!r}, 'a').write(sys.stdin.read())\n"
        )
        handler.chmod(0o755)
        with Daemon(config, "--handler", str(handler), "--log-format", "json") as again:
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
            until(lambda: calls.exists() and len(calls.read_text().splitlines()) >= 2)
            assert again.stop() == 0
        hooked = [json.loads(line) for line in calls.read_text().splitlines()]
        by_page = {h["page"]["id"]: h for h in hooked}
        assert by_page[a]["direction"] == "pull" and by_page[a]["page"]["spaceKey"] == "DEMO"
        assert by_page[b]["direction"] == "push" and by_page[b]["page"]["path"].endswith(".md")
        lines = [json.loads(line) for line in again.log().splitlines() if line.strip()]
        assert {"ts", "level", "logger", "msg"} <= set(lines[0])
        assert any(line["msg"].startswith("ready:") for line in lines)


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
