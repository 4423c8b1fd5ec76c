"""`syncd doctor` against the emulator: all ok, and the right error for what is wrong."""

from __future__ import annotations

import asyncio
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd import doctor
from syncd.config import parse_config

from .conftest import EMAIL, TOKEN, Home, run_syncd


def write_config(home: Home, emu, *, space: str = "DEMO", extra: str = "") -> Path:
    email = f"  email: {EMAIL}\n" if emu.flavor == "cloud" else ""
    deployment = "cloud" if emu.flavor == "cloud" else "datacenter"
    path = home.config_path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(
        "confluence:\n"
        f"  base_url: {emu.base_url}\n"
        f"  deployment: {deployment}\n"
        f"  space: {space}\n"
        f"{email}"
        "  token: ${SYNCD_T}\n"
        "local:\n"
        f"  path: {home.root / 'docs'}\n" + extra
    )
    path.chmod(0o600)
    (home.root / "docs").mkdir(exist_ok=True)
    return path


def lines_by_topic(out: str) -> dict[str, str]:
    """topic -> level of each check line (``level topic: message``)."""
    found: dict[str, str] = {}
    for line in out.splitlines():
        level, _, rest = line.partition(" ")
        if level in ("ok", "warning", "error") and ":" in rest:
            found[rest.strip().split(":")[0]] = level
    return found


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    return TOKEN


@pytest.fixture
def receiver() -> Iterator[str]:
    """A stand-in webhook receiver: answers 401 to unsigned pings, as syncd's does."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            hits.append(self.path)
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/webhook"], "the delivery test reached the receiver once"


ALL_TOPICS = {
    "config",
    "folder",
    "state",
    "file watching",
    "credentials",
    "space",
    "permissions",
    "public URL",
    "webhooks",
    "delivery",
    "clock",
}


def test_cloud_all_ok(home: Home, emu_cloud, token: str) -> None:
    config = write_config(home, emu_cloud)
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 0, result.out
    topics = lines_by_topic(result.out)
    assert set(topics) == ALL_TOPICS, result.out
    assert set(topics.values()) == {"ok"}, result.out
    assert "signed in to Confluence Cloud" in result.out
    assert "0 warning(s), 0 error(s)" in result.out


def test_dc_all_ok_with_a_reachable_receiver(home: Home, emu_dc, token: str, receiver: str):
    config = write_config(home, emu_dc, extra=f"webhook:\n  public_url: {receiver}\n")
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 0, result.out
    assert set(lines_by_topic(result.out).values()) == {"ok"}, result.out
    assert f"Confluence reached the receiver at {receiver} (HTTP 401: the unsigned" in result.out


def test_dc_unreachable_receiver_is_a_warning_with_a_fix(home: Home, emu_dc, token: str) -> None:
    config = write_config(home, emu_dc, extra="webhook:\n  listen: 127.0.0.1:9\n")
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 1, result.out
    assert lines_by_topic(result.out)["delivery"] == "warning"
    assert "Confluence could not deliver to http://127.0.0.1:9/webhook" in result.out
    assert "fix: start syncd" in result.out


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_bad_token_is_a_credentials_error(
    flavor: str, home: Home, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    emu = request.getfixturevalue(f"emu_{flavor}")
    monkeypatch.setenv("SYNCD_T", "not-the-token")
    config = write_config(home, emu)
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 2, result.out
    topics = lines_by_topic(result.out)
    assert topics["credentials"] == "error"
    assert "refused the credentials" in result.out
    fix = "API token" if flavor == "cloud" else "personal access token"
    assert "fix: check" in result.out and fix in result.out
    assert "space" not in topics, "server checks stop at the credentials error"
    assert "not-the-token" not in result.out


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_missing_space_is_a_space_error(
    flavor: str, home: Home, token: str, request: pytest.FixtureRequest
) -> None:
    emu = request.getfixturevalue(f"emu_{flavor}")
    config = write_config(home, emu, space="NOPE")
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 2, result.out
    topics = lines_by_topic(result.out)
    assert topics["credentials"] == "ok"
    assert topics["space"] == "error"
    assert "space NOPE not found" in result.out
    assert "fix: check confluence.space" in result.out


def test_missing_config_points_to_init(home: Home) -> None:
    result = run_syncd("doctor")
    assert result.code == 2
    assert "error    config:" in result.out and "syncd init" in result.out


def test_webhooks_disabled_is_ok(home: Home, emu_cloud, token: str) -> None:
    config = write_config(home, emu_cloud, extra="webhook:\n  enabled: false\n")
    result = run_syncd("doctor", "--config", str(config))
    assert result.code == 0, result.out
    assert "disabled in the config" in result.out
    assert "delivery" not in lines_by_topic(result.out)


@pytest.mark.parametrize(("offset", "level"), [(0.0, "ok"), (120.0, "warning"), (-900.0, "error")])
def test_clock_skew(home: Home, emu_dc, token: str, offset: float, level: str) -> None:
    config = write_config(home, emu_dc)
    checks = asyncio.run(doctor.diagnose(config, now=lambda: time.time() + offset))
    clock = [c for c in checks if c.topic == "clock"]
    assert [c.level for c in clock] == [level], clock
    if level != "ok":
        assert ("ahead of" if offset > 0 else "behind") in clock[0].message
        assert "timedatectl" in (clock[0].fix or "")


# --------------------------------------------------------------------------- local checks


def test_watch_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.sys, "platform", "linux")
    folder = tmp_path / "docs"
    for i in range(9):
        (folder / f"d{i}").mkdir(parents=True)
    (folder / ".git" / "objects").mkdir(parents=True)  # hidden: not watched
    limit = tmp_path / "max_user_watches"
    limit.write_text("4\n")
    assert doctor.check_watch_limit(folder, limit).level == "error"
    limit.write_text("15\n")
    check = doctor.check_watch_limit(folder, limit)
    assert check.level == "warning" and "10 folders" in check.message
    assert "max_user_watches" in (check.fix or "")
    limit.write_text("524288\n")
    assert doctor.check_watch_limit(folder, limit).level == "ok"


def test_folder_inside_state_dir_is_an_error(tmp_path: Path) -> None:
    state = tmp_path / "state"
    check = doctor.check_folder(state / "docs", state)
    assert check.level == "error" and "inside the state directory" in check.message


def test_unwritable_folder_is_an_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    assert doctor.check_folder(folder, tmp_path / "state").level == "error"


def test_state_dir_readable_by_others_is_a_warning(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    check = doctor.check_state_dir(state, tmp_path / "docs")
    assert check.level == "warning" and check.fix == f"chmod 700 {state}"
    state.chmod(0o700)
    assert doctor.check_state_dir(state, tmp_path / "docs").level == "ok"


def test_loopback_public_url_with_remote_confluence_is_a_warning(tmp_path: Path) -> None:
    remote = parse_config(
        "confluence:\n  base_url: https://confluence.example.com\n  space: X\n  token: t\n"
        f"local:\n  path: {tmp_path / 'docs'}\n",
        path=tmp_path / "c.yaml",
    )
    check = doctor.check_public_url(remote)
    assert check.level == "warning" and "loopback" in check.message
    assert "reverse proxy or tunnel" in (check.fix or "")

    plain = parse_config(
        "confluence:\n  base_url: https://confluence.example.com\n  space: X\n  token: t\n"
        f"local:\n  path: {tmp_path / 'docs'}\n"
        "webhook:\n  public_url: http://hooks.example.com/webhook\n",
        path=tmp_path / "c.yaml",
    )
    assert "unencrypted" in doctor.check_public_url(plain).message

    local = parse_config(
        "confluence:\n  base_url: http://localhost:8090\n  space: X\n  token: t\n"
        f"local:\n  path: {tmp_path / 'docs'}\n",
        path=tmp_path / "c.yaml",
    )
    assert doctor.check_public_url(local).level == "ok"
