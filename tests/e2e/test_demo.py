"""`syncd demo` as a user runs it: starts, syncs an edit each way, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
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


def printed(text: str, pattern: str) -> str:
    match = re.search(pattern, text, re.M)
    assert match, f"{pattern!r} not in the guide:\n{text}"
    return match.group(1)


def run_printed(command: str) -> subprocess.CompletedProcess[str]:
    """A command from the guide, in a shell whose PATH lacks the virtualenv."""
    return subprocess.run(
        command,
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    )


def test_demo_instructions_work_in_order_twice(tmp_path: Path) -> None:
    """Issue 16: the guide's steps, run as printed, in order, twice: edit the file and see
    the page change; change the page (twice: the helper reads the current version) and see
    the file change; the status command and the control URL answer."""
    folder = tmp_path / "demo"
    proc, out = start_demo(folder)
    try:
        text = wait_ready(proc, out)
        page_file = Path(shlex.split(printed(text, r"^  1\. Edit (.+) in your editor"))[0])
        show = printed(text, r"^     (\S+ emulator show .+)$")
        edit = printed(text, r"^     (\S+ emulator edit .+)$")
        status = printed(text, r"^  3\. (.+)$")
        control = printed(text, r"Emulator control +: (\S+)")
        assert page_file.is_file() and page_file.parent == folder
        assert (folder / ".syncd" / "config.yaml").stat().st_mode & 0o077 == 0
        assert httpx.get(control, timeout=10).status_code == 200

        edits = body_of(page_file).count("Edited in Confluence")
        for round_ in (1, 2):
            # 1. edit the file -> the page (seen with the printed show command)
            words = f"Local words, round {round_}."
            page_file.write_text(body_of(page_file) + f"\n{words}\n", encoding="utf-8")
            wait_for(lambda w=words: w in run_printed(show).stdout, f"the pushed edit {round_}")
            # 2. change the page -> the file, then once more
            for _ in range(2):
                done = run_printed(edit)
                assert done.returncode == 0, done.stdout + done.stderr
                edits += 1
                wait_for(
                    lambda n=edits: body_of(page_file).count("Edited in Confluence") == n,
                    f"the pulled edit {edits}",
                )
        assert words in body_of(page_file)
        done = run_printed(status)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "webhook" in done.stdout
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
