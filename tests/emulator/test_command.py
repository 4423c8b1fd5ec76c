"""``syncd emulator`` as a user runs it: prints where it listens, serves, stops cleanly on
SIGTERM/SIGINT with exit status 0."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e


def start(*args: str) -> tuple[subprocess.Popen, queue.Queue]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def wait_for_line(lines: queue.Queue, pattern: str, timeout: float = 20.0) -> re.Match[str]:
    seen = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line matching {pattern!r}; got {seen}") from None
        if line is None:
            raise AssertionError(f"process ended; output was {seen}")
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        raise AssertionError("emulator did not stop within 15 s") from None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cloud_cli_serves_and_stops_cleanly(sig: int):
    proc, lines = start(
        "--flavor", "cloud", "--pages", "5", "--user", "me@example.com", "--token", "tok"
    )
    try:
        base = wait_for_line(lines, r"base URL:\s+(\S+)").group(1)
        assert base.endswith("/wiki")
        wait_for_line(lines, r"token:\s+tok")
        r = httpx.get(
            f"{base}/api/v2/spaces",
            params={"keys": "DEMO"},
            auth=("me@example.com", "tok"),
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["results"][0]["key"] == "DEMO"
    finally:
        code = stop(proc, sig)
    assert code == 0


def test_dc_cli_with_data_file_persists(tmp_path: Path):
    data = tmp_path / "dc.json"
    proc, lines = start("--flavor", "dc", "--pages", "3", "--data", str(data), "--space", "OPS")
    try:
        base = wait_for_line(lines, r"base URL:\s+(\S+)").group(1)
        headers = {"Authorization": "Bearer demo-token"}
        r = httpx.post(
            f"{base}/rest/api/content",
            headers=headers,
            timeout=10,
            json={
                "type": "page",
                "title": "Kept",
                "space": {"key": "OPS"},
                "body": {"storage": {"value": "<p>k</p>", "representation": "storage"}},
            },
        )
        assert r.status_code == 200
    finally:
        assert stop(proc) == 0
    proc, lines = start("--flavor", "dc", "--data", str(data), "--space", "OPS")
    try:
        base = wait_for_line(lines, r"base URL:\s+(\S+)").group(1)
        r = httpx.get(
            f"{base}/rest/api/content",
            params={"spaceKey": "OPS", "title": "Kept"},
            headers={"Authorization": "Bearer demo-token"},
            timeout=10,
        )
        assert [p["title"] for p in r.json()["results"]] == ["Kept"]
    finally:
        assert stop(proc) == 0


def test_port_in_use_is_a_clear_error():
    proc, lines = start("--pages", "0")
    try:
        port = wait_for_line(lines, r"base URL:\s+http://127\.0\.0\.1:(\d+)").group(1)
        second = subprocess.run(
            [sys.executable, "-m", "syncd", "emulator", "--port", port, "--pages", "0"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert "cannot listen" in second.stderr
    finally:
        assert stop(proc) == 0


def test_folders_seed_from_the_cli():
    """``--folders`` seeds the Cloud tree with folders; Data Center refuses it (no folders)."""
    proc, lines = start("--flavor", "cloud", "--pages", "2", "--folders")
    try:
        wait_for_line(lines, r"with \d+ pages and 3 folders")
        base = wait_for_line(lines, r"base URL:\s+(\S+)").group(1)
        r = httpx.get(
            f"{base}/rest/api/content/search",
            params={"cql": "type = folder"},
            auth=("demo@example.com", "demo-token"),
            timeout=10,
        )
        assert {f["title"] for f in r.json()["results"]} == {"Daily notes", "Archive", "Handbooks"}
    finally:
        assert stop(proc) == 0
    refused = subprocess.run(
        [sys.executable, "-m", "syncd", "emulator", "--flavor", "dc", "--folders"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "Data Center has no folders" in refused.stderr


def test_demo_refuses_folders_on_data_center(tmp_path: Path, capsys: pytest.CaptureFixture):
    """``syncd demo --folders --flavor dc`` stops before starting anything (no folders on DC)."""
    import argparse

    from syncd import demo

    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    args = parser.parse_args(["--dir", str(tmp_path / "d"), "--flavor", "dc", "--folders"])
    assert demo.run(args) == 2
    assert "Data Center has no folders" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
