"""Fixtures for the "living with syncd" commands: a private HOME and threaded emulators.

``syncd init``/``doctor`` run their own event loop (``asyncio.run``), so the tests call
them synchronously against a ``ThreadedEmulator`` rather than the async fixtures.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncd.emulator.server import ThreadedEmulator

TOKEN = "demo-token"
EMAIL = "demo@example.com"


@dataclass
class Home:
    root: Path
    config_home: Path
    state_home: Path

    @property
    def config_path(self) -> Path:
        return self.config_home / "syncd" / "config.yaml"

    @property
    def unit_dir(self) -> Path:
        return self.config_home / "systemd" / "user"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """HOME and the XDG directories inside tmp_path; no token in the environment."""
    root = tmp_path / "home"
    root.mkdir()
    h = Home(root, root / ".config", root / ".local" / "state")
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h.config_home))
    monkeypatch.setenv("XDG_STATE_HOME", str(h.state_home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    monkeypatch.delenv("CONFLUENCE_API_TOKEN", raising=False)
    return h


@pytest.fixture(scope="module")
def emu_cloud() -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator(flavor="cloud", pages=3, seed=1, user=EMAIL, token=TOKEN) as emu:
        yield emu


@pytest.fixture(scope="module")
def emu_dc() -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator(flavor="dc", pages=3, seed=1, user=EMAIL, token=TOKEN) as emu:
        yield emu


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_syncd(*argv: str, stdin: str = "") -> Result:
    """``syncd ARGV`` in this process, with stdin fed from a string, output captured."""
    from syncd.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    return Result(code, out.getvalue(), err.getvalue())
