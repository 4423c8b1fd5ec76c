"""The control socket for `syncd status`: permissions, round trip, stale sockets, output."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from syncd.daemon.control import (
    STATUS_KEYS,
    ControlServer,
    ControlSocketError,
    DaemonUnresponsive,
    fetch_status,
    format_status,
    iso_utc,
    redact_url,
)

STATUS = {
    "running": True,
    "mode": "polling",
    "mode_reason": "webhook registration failed: 403 Forbidden",
    "space": "DEMO",
    "path": "/home/u/docs/DEMO",
    "pages": 42,
    "pending": 3,
    "conflicts": ["Guides/Setup.md", "Ops/Runbook.md"],
    "last_event_at": "2026-11-24T18:00:00Z",
    "last_poll_at": None,
    "webhook": {
        "registered": True,
        "id": 17,
        "url": "https://h.example/webhook/page_updated?token=s3cr3t-token",
    },
    "errors": [{"at": "2026-11-24T17:59:00Z", "message": "429 from server, backing off 5s"}],
}


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    # Unix socket paths are short-limited; tmp_path is usually fine on Linux.
    return tmp_path / "state"


async def test_round_trip_and_permissions(state_dir):
    calls = []

    def provider():
        calls.append(1)
        return STATUS

    async with ControlServer(state_dir, provider) as server:
        mode = os.stat(server.path).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700
        got = await asyncio.to_thread(fetch_status, server.path, 2.0)
        assert got == STATUS
        assert set(STATUS_KEYS) <= set(got)
        assert calls == [1]
    assert not server.path.exists()  # removed on stop


async def test_existing_loose_directory_is_tightened(state_dir):
    state_dir.mkdir(mode=0o755)
    os.chmod(state_dir, 0o755)
    async with ControlServer(state_dir, lambda: {"running": True}):
        assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700


async def test_stale_socket_is_replaced(state_dir):
    state_dir.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(state_dir / "control.sock"))
    stale.close()  # the file stays, nobody listens: a crashed daemon's leftover
    assert await asyncio.to_thread(fetch_status, state_dir / "control.sock", 1.0) is None
    async with ControlServer(state_dir, lambda: {"running": True, "mode": "webhook"}) as server:
        got = await asyncio.to_thread(fetch_status, server.path, 2.0)
        assert got == {"running": True, "mode": "webhook"}


async def test_live_socket_is_refused(state_dir):
    async with ControlServer(state_dir, lambda: {"running": True}) as first:
        second = ControlServer(state_dir, lambda: {"running": True})
        with pytest.raises(ControlSocketError, match="already serving"):
            await second.start()
        # the first one is untouched
        assert await asyncio.to_thread(fetch_status, first.path, 2.0) == {"running": True}


async def test_regular_file_is_refused_and_kept(state_dir):
    state_dir.mkdir(mode=0o700)
    victim = state_dir / "control.sock"
    victim.write_text("not mine to delete")
    with pytest.raises(ControlSocketError, match="not a socket"):
        await ControlServer(state_dir, dict).start()
    assert victim.read_text() == "not mine to delete"
    assert await asyncio.to_thread(fetch_status, victim, 1.0) is None


async def test_too_long_path_is_refused(tmp_path):
    deep = tmp_path / ("d" * 120)
    with pytest.raises(ControlSocketError, match="too long"):
        await ControlServer(deep, dict).start()


async def test_stop_leaves_a_newer_daemons_socket(state_dir):
    server = ControlServer(state_dir, lambda: {"running": True})
    await server.start()
    os.unlink(server.path)
    replacement = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    replacement.bind(str(server.path))
    try:
        await server.stop()
        assert server.path.exists()
    finally:
        replacement.close()


def test_fetch_status_without_socket_is_none(tmp_path):
    assert fetch_status(tmp_path / "nothing.sock", 0.5) is None


def test_fetch_status_hung_daemon_raises_unresponsive(tmp_path):
    path = tmp_path / "hung.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    accepted = []
    stop = threading.Event()

    def accept_and_hang():
        conn, _ = listener.accept()
        accepted.append(conn)
        stop.wait(5)

    t = threading.Thread(target=accept_and_hang, daemon=True)
    t.start()
    try:
        with pytest.raises(DaemonUnresponsive):
            fetch_status(path, 0.3)
    finally:
        stop.set()
        t.join(5)
        for c in accepted:
            c.close()
        listener.close()


async def test_provider_failure_is_reported_not_crashing(state_dir):
    def broken():
        raise RuntimeError("db locked")

    async with ControlServer(state_dir, broken) as server:
        got = await asyncio.to_thread(fetch_status, server.path, 2.0)
        assert got == {"running": True, "errors": ["status failed: db locked"]}


async def test_non_json_values_are_stringified(state_dir):
    async with ControlServer(state_dir, lambda: {"running": True, "path": Path("/x/y")}) as s:
        got = await asyncio.to_thread(fetch_status, s.path, 2.0)
        assert got["path"] == "/x/y"


def test_format_status_layout_is_stable():
    now = 1795975200.0  # relative ages ("... ago") are computed from this
    text = format_status(STATUS, now=now)
    lines = text.splitlines()
    labels = [line[:12].strip() for line in lines if line[:12].strip()]
    assert labels == [
        "syncd:",
        "mode:",
        "space:",
        "folder:",
        "pages:",
        "pending:",
        "conflicts:",
        "last event:",
        "last poll:",
        "webhook:",
        "errors:",
    ]
    assert lines[0] == "syncd:      running"
    assert lines[1] == "mode:       polling (webhook registration failed: 403 Forbidden)"
    assert "            Guides/Setup.md" in lines
    assert "conflicts:  2" in lines
    assert "last poll:  never" in lines
    assert any(line.startswith("last event: 2026-11-24T18:00:00Z (") for line in lines)
    assert "s3cr3t-token" not in text
    assert (
        "webhook:    registered (id 17) https://h.example/webhook/page_updated?token=***" in lines
    )
    assert "            2026-11-24T17:59:00Z 429 from server, backing off 5s" in lines


def test_format_status_says_what_ends_each_conflict():
    copy = "Guides/Setup.conflict-20261205-004756.md"
    status = {
        **STATUS,
        "conflicts": [copy, "Ops/Runbook.md"],
        "conflict_help": [
            f"Guides/Setup.md: your text is in {copy}; copy what you need, then delete it",
            "Ops/Runbook.md: resolve the conflict markers, then save",
        ],
    }
    lines = format_status(status, now=0).splitlines()
    at = lines.index("conflicts:  2")
    assert lines[at + 1 : at + 3] == [f"{'':<12}{line}" for line in status["conflict_help"]]
    # a status without (or with a stale) help list still shows the paths
    lines = format_status({**status, "conflict_help": ["x"]}, now=0).splitlines()
    assert lines[at + 1 : at + 3] == [f"{'':<12}{copy}", f"{'':<12}Ops/Runbook.md"]
    # details that do not match the list (a daemon's bug) are not shown against it
    stale = [{"path": copy, "page_id": "1", "title": "Setup", "help": "x"}]
    lines = format_status({**status, "conflict_details": stale}, now=0).splitlines()
    assert lines[at + 1 : at + 3] == [f"{'':<12}{line}" for line in status["conflict_help"]]


def test_format_status_escapes_control_characters_of_conflicts_and_errors():
    """Help and error lines can carry remote text (a reason Confluence gave, a name):
    printed with control characters escaped, never as terminal escape sequences."""
    status = {
        "running": True,
        "conflicts": ["A.md"],
        "conflict_help": ["A.md: line 2: bad \x1b[31mred\x9b; edit that part"],
        "errors": ["push failed: 400 \x1b]0;title\x07"],
    }
    text = format_status(status, now=0)
    assert r"            A.md: line 2: bad \x1b[31mred\x9b; edit that part" in text.splitlines()
    assert r"            push failed: 400 \x1b]0;title\x07" in text.splitlines()
    assert not any(c in text for c in "\x1b\x07\x9b")


def test_format_status_stopped_and_empty():
    text = format_status({"running": False, "last_known": True, "webhook": {"registered": False}})
    assert text.splitlines()[0] == "syncd:      stopped (last known state)"
    assert "webhook:    not registered" in text
    assert "conflicts:  none" in text and "errors:     none" in text


def test_format_status_shows_containers_only_when_there_are_some():
    text = format_status({"running": True, "containers": {"folder": 3, "whiteboard": 1}})
    assert "folders:    3 folders, 1 whiteboard" in text
    assert "folders:" not in format_status({"running": True, "containers": {}})


def test_redact_url():
    assert redact_url("https://u:p@h/x?token=abc&a=1") == "https://***@h/x?token=***&a=1"
    assert redact_url(None) is None


def test_iso_utc():
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(None) is None
    assert iso_utc(1.5) == "1970-01-01T00:00:01Z"


def test_empty_status_has_every_contract_key():
    from syncd.daemon.control import empty_status

    status = empty_status()
    assert tuple(status) == STATUS_KEYS
    assert set(status["webhook"]) == {"registered", "id", "url"}
    assert format_status(status).splitlines()[0] == "syncd:      stopped"


@pytest.mark.parametrize(
    ("status", "unresponsive", "code"),
    [
        (None, False, 3),
        ({"running": False}, False, 3),
        ({"running": True, "mode": "webhook"}, False, 0),
        ({"running": True, "mode": "polling"}, False, 1),
        ({"running": True, "mode": "polling", "webhook": {"enabled": False}}, False, 0),
        ({"running": True, "mode": "webhook", "reconciling": True}, False, 1),
        ({"running": True, "mode": "webhook", "conflicts": ["a.md"]}, False, 2),
        ({"running": True, "mode": "polling", "blocked": "mass delete"}, False, 2),
        (None, True, 4),
    ],
)
def test_status_exit_codes(status, unresponsive, code):
    from syncd.daemon.control import status_exit_code

    assert status_exit_code(status, unresponsive=unresponsive) == code


async def test_extra_routes_extend_the_control_endpoint(state_dir):
    import aiohttp
    from aiohttp import web

    calls = []

    async def sync_now(request):
        calls.append(request.query.get("page"))
        return web.json_response({"queued": True})

    routes = [web.post("/sync", sync_now)]
    async with ControlServer(state_dir, dict, extra_routes=routes) as server:
        connector = aiohttp.UnixConnector(path=str(server.path))
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.post("http://syncd/sync?page=42") as resp:
                assert resp.status == 200 and (await resp.json()) == {"queued": True}
    assert calls == ["42"]
