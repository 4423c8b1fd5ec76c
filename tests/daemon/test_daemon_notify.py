"""systemd notify datagrams, received on a real datagram socket."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

from syncd.daemon.notify import SystemdNotifier


@pytest.fixture
def listener(tmp_path: Path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield str(path), sock
    sock.close()


def recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_no_op_without_notify_socket():
    n = SystemdNotifier.from_env({})
    assert not n.enabled
    assert n.ready("x") is False and n.watchdog() is False and n.stopping() is False
    assert n.watchdog_interval is None


def test_ready_status_stopping_datagrams(listener):
    path, sock = listener
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path})
    assert n.ready("reconciling")
    assert recv(sock) == "READY=1\nSTATUS=reconciling"
    assert n.status("webhook mode\nin sync")
    assert recv(sock) == "STATUS=webhook mode in sync"  # one line only
    assert n.stopping()
    assert recv(sock) == "STOPPING=1"
    assert n.extend_timeout(1.5)
    assert recv(sock) == "EXTEND_TIMEOUT_USEC=1500000"
    n.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux-only")
def test_abstract_namespace_address():
    name = f"syncd-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    try:
        n = SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert n.ready()
        assert recv(sock) == "READY=1"
    finally:
        sock.close()


def test_send_failure_is_reported_not_raised(tmp_path):
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert n.enabled
    assert n.ready() is False


def test_watchdog_interval_is_half_of_usec_and_respects_pid(listener):
    path, _ = listener
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
    assert n.watchdog_interval == 15.0
    other = SystemdNotifier.from_env(
        {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_interval is None
    mine = SystemdNotifier.from_env(
        {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert mine.watchdog_interval == 15.0
    assert (
        SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "x"}).watchdog_interval
        is None
    )


async def test_watchdog_task_pings_while_healthy(listener):
    path, sock = listener
    sock.setblocking(False)
    healthy = {"ok": True}
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "40000"})  # ping /20ms
    task = n.start_watchdog(lambda: healthy["ok"])
    assert task is not None
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(3):
            for _ in range(3):
                assert (await loop.sock_recv(sock, 100)).decode() == "WATCHDOG=1"
        healthy["ok"] = False
        # drain what was already sent (pings are sent synchronously on this loop, so
        # nothing is in flight), then no more arrive while unhealthy
        while True:
            try:
                sock.recv(100)
            except BlockingIOError:
                break
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.15):
                await loop.sock_recv(sock, 100)
    finally:
        task.cancel()
        n.close()


async def test_no_watchdog_task_without_usec(listener):
    path, _ = listener
    n = SystemdNotifier.from_env({"NOTIFY_SOCKET": path})
    assert n.start_watchdog() is None
