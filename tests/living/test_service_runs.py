"""The installed unit really runs: its ExecStart, environment and env file start the daemon,
which speaks the notify protocol the unit declares (READY, WATCHDOG, STOPPING) and stops
cleanly on SIGTERM, as systemd would drive it. No service manager is needed: the test plays
systemd's part with a notify socket."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd import service

from .conftest import TOKEN, Home, run_syncd
from .test_service import one, parse_unit, values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    directory = tempfile.mkdtemp(prefix="sdn", dir="/tmp")  # AF_UNIX paths are short
    path = os.path.join(directory, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    try:
        yield sock, path
    finally:
        sock.close()
        shutil.rmtree(directory, ignore_errors=True)


def wait_for(sock: socket.socket, wanted: str, deadline: float, seen: list[str]) -> None:
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(4096).decode()
        except TimeoutError:
            break
        seen.extend(data.splitlines())
        if wanted in data.splitlines():
            return
    raise AssertionError(f"no {wanted} within the deadline; got {seen}")


def unit_environment(unit: dict, home: Home) -> dict[str, str]:
    """What systemd would give ExecStart: a clean environment, Environment= and the file."""
    env = {
        "HOME": str(home.root),
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(home.config_home),
        "XDG_STATE_HOME": str(home.state_home),
    }
    for value in values(unit, "Service", "EnvironmentFile"):
        env.update(service.read_env_file(Path(value.lstrip("-"))))
    for value in values(unit, "Service", "Environment"):
        for word in shlex.split(value):
            key, _, val = word.partition("=")
            env[key] = val
    return env


def test_unit_command_starts_the_daemon_and_speaks_notify(
    home: Home, emu_cloud, monkeypatch: pytest.MonkeyPatch, notify_socket
) -> None:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    folder = home.root / "docs"
    init = run_syncd(
        "init",
        "--url",
        emu_cloud.base_url,
        "--space",
        "DEMO",
        "--email",
        "demo@example.com",
        "--token-env",
        "SYNCD_T",
        "--folder",
        str(folder),
        "--listen",
        f"127.0.0.1:{free_port()}",
    )
    assert init.code == 0, init.out + init.err
    installed = run_syncd("service", "install", "--manager", "systemd", "--copy-env")
    assert installed.code == 0, installed.err

    unit = parse_unit((home.unit_dir / "syncd.service").read_text())
    argv = shlex.split(one(unit, "Service", "ExecStart").replace("$$", "$").replace("%%", "%"))
    env = unit_environment(unit, home)
    assert env["SYNCD_T"] == TOKEN, "the token reached the service through its env file"
    sock, path = notify_socket
    env["NOTIFY_SOCKET"] = path
    env["WATCHDOG_USEC"] = "2000000"  # ping expected every second

    proc = subprocess.Popen(
        argv, env=env, cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen: list[str] = []
    try:
        wait_for(sock, "READY=1", time.monotonic() + 90, seen)
        wait_for(sock, "WATCHDOG=1", time.monotonic() + 10, seen)
        assert (folder / "README.md").exists(), "the catch-up synced the home page"
        # Regression: the state directory (page copies, webhook secret) is owner-only even
        # when the process umask is not (here the test's, not the unit's UMask=0077).
        state_dir = home.state_home / "syncd" / "DEMO"
        assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
        proc.send_signal(signal.SIGTERM)
        wait_for(sock, "STOPPING=1", time.monotonic() + 30, seen)
        code = proc.wait(timeout=45)  # the unit's TimeoutStopSec
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.stdout.read() if proc.stdout else ""
    assert code == 0, output
    assert any(line.startswith("STATUS=") for line in seen), seen
    # --log-format json: one JSON object per line for the journal.
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines and all(line.lstrip().startswith("{") for line in lines), output[:2000]
    assert TOKEN not in output


def test_doctor_reaches_the_running_daemon_on_data_center(
    home: Home, emu_dc, monkeypatch: pytest.MonkeyPatch, notify_socket
) -> None:
    """Data Center's delivery test hits the real receiver of a running daemon, and the
    daemon's own registration shows up in the webhook check."""
    monkeypatch.setenv("SYNCD_T", TOKEN)
    init = run_syncd(
        "init",
        "--url",
        emu_dc.base_url,
        "--space",
        "DEMO",
        "--token-env",
        "SYNCD_T",
        "--folder",
        str(home.root / "docs"),
        "--listen",
        f"127.0.0.1:{free_port()}",
    )
    assert init.code == 0, init.out + init.err
    assert run_syncd("service", "install", "--manager", "systemd", "--copy-env").code == 0
    unit = parse_unit((home.unit_dir / "syncd.service").read_text())
    argv = shlex.split(one(unit, "Service", "ExecStart").replace("$$", "$").replace("%%", "%"))
    env = unit_environment(unit, home)
    sock, path = notify_socket
    env["NOTIFY_SOCKET"] = path
    proc = subprocess.Popen(
        argv, env=env, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(sock, "READY=1", time.monotonic() + 90, [])
        result = run_syncd("doctor")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert result.code == 0, result.out
    assert "Confluence reached the receiver" in result.out
    assert "1 by syncd" in result.out
