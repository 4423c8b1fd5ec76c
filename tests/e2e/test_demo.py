"""`syncd demo` as a user runs it: starts, syncs an edit each way, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

DEADLINE = 30.0


class Output:
    """Collects a child's combined output on a thread so waits never block on a pipe."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.text = ""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, args=(proc,), daemon=True)
        self._thread.start()

    def _pump(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._lock:
                self.text += line

    def snapshot(self) -> str:
        with self._lock:
            return self.text


def wait_for(check: Callable[[], object], what: str, timeout: float = DEADLINE) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def start_demo(folder: Path) -> tuple[subprocess.Popen[str], Output]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "demo", "--dir", str(folder), "--pages", "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, Output(proc)


def wait_ready(proc: subprocess.Popen[str], out: Output) -> str:
    wait_for(lambda: "Ctrl-C stops" in out.snapshot() or proc.poll() is not None, "the guide")
    assert proc.poll() is None, out.snapshot()
    return out.snapshot()


def stop_demo(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def body_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_demo_syncs_both_ways_and_stops_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    proc, out = start_demo(folder)
    try:
        text = wait_ready(proc, out)
        base_url = re.search(r"Confluence emulator : (\S+)", text).group(1)
        page_id = re.search(r"/rest/api/content/(\d+) -d", text).group(1)
        rel = re.search(r"Edit .*?/demo/(.+?) in your editor", text).group(1)
        page_file = folder / rel
        assert page_file.is_file()
        assert (folder / "README.md").is_file()
        assert (folder / ".syncd" / "config.yaml").stat().st_mode & 0o077 == 0

        auth = ("demo@example.com", "demo-token")
        with httpx.Client(base_url=base_url, auth=auth, timeout=10) as http:

            def remote() -> dict:
                url = f"/api/v2/pages/{page_id}?body-format=storage"
                return http.get(url).raise_for_status().json()

            # Confluence -> file
            page = remote()
            update = {
                "id": page_id,
                "status": "current",
                "title": page["title"],
                "body": {"representation": "storage", "value": "<p>Remote words here.</p>"},
                "version": {"number": page["version"]["number"] + 1},
            }
            http.put(f"/api/v2/pages/{page_id}", json=update).raise_for_status()
            wait_for(lambda: "Remote words here." in body_of(page_file), "the pulled edit")

            # file -> Confluence
            page_file.write_text(
                body_of(page_file).replace("Remote words here.", "Local words here."),
                encoding="utf-8",
            )
            wait_for(
                lambda: "Local words here." in remote()["body"]["storage"]["value"],
                "the pushed edit",
            )
    finally:
        code = stop_demo(proc)
    assert code == 0, out.snapshot()
    assert "Traceback" not in out.snapshot()
    # nothing half-written left behind
    assert not [p for p in folder.rglob("*") if ".tmp" in p.name and ".syncd" not in p.parts]


def test_demo_restarts_where_it_stopped(tmp_path: Path) -> None:
    """The emulator's space persists in the demo folder, so a second run is a no-op catch-up."""
    folder = tmp_path / "demo"
    for _ in range(2):
        proc, out = start_demo(folder)
        try:
            wait_ready(proc, out)
        finally:
            assert stop_demo(proc) == 0, out.snapshot()
    # the second catch-up found nothing to pull and nothing conflicting
    second = out.snapshot()
    assert "created_local" not in second and "conflict" not in second.lower(), second
