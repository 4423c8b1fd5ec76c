"""kill -9 during a first sync and during a push, then rerun: converged, nothing lost.

The subprocess is the real `syncd sync`; the emulator adds latency to widen the window,
and the kill comes after a bounded poll sees progress (never a fixed sleep).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from syncd.emulator.server import ThreadedEmulator
from syncd.local import frontmatter

from .sync_kit import (
    PROJECT_ROOT,
    md_files,
    read_doc,
    request_counts,
    set_body,
    syncd_cli,
    write_config,
)

pytestmark = pytest.mark.e2e


def set_latency(emu, ms: int) -> None:
    req = urllib.request.Request(
        emu.root_url + "/_emulator/faults",
        data=json.dumps({"latency_ms": ms}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(req).read()


def start_sync(cfg: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "syncd", "sync", "--config", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for progress")
        time.sleep(0.02)


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the sync finished before it could be killed"


def assert_converged(emu, docs: Path) -> None:
    pages = {str(c.id): c for c in emu.store.all_content("page") if c.status == "current"}
    files = md_files(docs)
    by_id: dict[str, list[str]] = {}
    for rel, path in files.items():
        doc = frontmatter.parse(path.read_text(encoding="utf-8"))  # parses: not truncated
        assert doc.meta.page_id, f"{rel} has no page id"
        by_id.setdefault(doc.meta.page_id, []).append(rel)
    assert set(by_id) == set(pages)
    assert all(len(v) == 1 for v in by_id.values()), by_id
    leftovers = [p for p in docs.rglob(".syncd.*.tmp")]
    assert leftovers == []


def test_kill_during_first_sync_then_rerun_converges(tmp_path):
    with ThreadedEmulator(flavor="cloud", pages=300, seed=5) as emu:
        cfg = write_config(tmp_path, emu)
        docs = tmp_path / "docs"
        set_latency(emu, 15)
        proc = start_sync(cfg)
        try:
            wait_for(lambda: docs.is_dir() and sum(1 for _ in docs.rglob("*.md")) >= 30)
            kill9(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        partial = sum(1 for _ in docs.rglob("*.md"))
        assert partial < 301
        set_latency(emu, 0)
        rerun = syncd_cli("sync", "--config", str(cfg), timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert_converged(emu, docs)
        before = request_counts(emu)
        again = syncd_cli("sync", "--config", str(cfg))
        assert again.returncode == 0 and "in sync" in again.stdout, again.stdout + again.stderr
        after = request_counts(emu)
        assert all(k.startswith("GET") for k in after if after[k] != before.get(k, 0))


def test_kill_during_a_push_then_rerun_pushes_the_rest_once(tmp_path):
    with ThreadedEmulator(flavor="dc", pages=120, seed=6) as emu:
        cfg = write_config(tmp_path, emu)
        docs = tmp_path / "docs"
        first = syncd_cli("sync", "--config", str(cfg), timeout=120)
        assert first.returncode == 0, first.stderr
        edited = {}
        for rel, path in list(md_files(docs).items())[:60]:
            doc = read_doc(path)
            set_body(path, doc.body + f"\nLocal line for {rel}.\n")
            edited[doc.meta.page_id] = f"Local line for {rel}."
        set_latency(emu, 15)
        puts = lambda: sum(v for k, v in request_counts(emu).items() if k.startswith("PUT"))  # noqa: E731
        proc = start_sync(cfg)
        try:
            wait_for(lambda: puts() >= 5)
            kill9(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert puts() < 60
        set_latency(emu, 0)
        rerun = syncd_cli("sync", "--config", str(cfg), timeout=120)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        for pid, line in edited.items():
            page = emu.store.get(pid)
            assert page.body.count(line) == 1, (pid, page.body)
            assert page.version.number == 2  # pushed exactly once, never twice
        assert_converged(emu, docs)
        again = syncd_cli("sync", "--config", str(cfg))
        assert again.returncode == 0 and "in sync" in again.stdout, again.stdout + again.stderr
