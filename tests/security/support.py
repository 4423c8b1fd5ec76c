"""Helpers for the security tests: the real ``syncd run`` against a ThreadedEmulator, raw
HTTP over sockets, and a walk that proves nothing was written outside the folder.

Every wait is bounded (:func:`until`, socket timeouts); nothing sleeps to synchronise.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from e2e.daemon_support import request_total, until
from e2e.daemon_support import write_config as e2e_config

from syncd.daemon.control import fetch_status
from syncd.local import frontmatter

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_config(root: Path, emu: Any, *, mode: int = 0o600, token: str = "demo-token") -> Path:
    """A daemon config for ``emu``: folder ``root/docs``, state ``root/state``."""
    path = e2e_config(
        root,
        emu,
        confluence={"space": emu.space_key, "token": token}
        | ({"email": emu.user} if emu.flavor == "cloud" else {}),
        poll={"interval": "30s", "full_scan": "1h"},
        sync={"debounce": "100ms"},
    )
    path.chmod(mode)
    return path


class Daemon:
    """One ``syncd run -v`` subprocess; its output goes to a log file beside the config."""

    def __init__(self, config: Path) -> None:
        self.config = config
        cfg = yaml.safe_load(config.read_text())
        self.state_dir = Path(cfg["state_dir"])
        self.folder = Path(cfg["local"]["path"])
        self.public_url: str = cfg["webhook"]["public_url"]
        url = urlsplit(self.public_url)
        self.address = (url.hostname or "127.0.0.1", int(url.port or 80))
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("NOTIFY_SOCKET", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syncd", "run", "--config", str(config), "-v"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict[str, Any] | None:
        return fetch_status(self.state_dir / "control.sock", 2.0)

    def wait_ready(self, within: float = 20.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            return "ready:" in self.log() and self.status() is not None

        until(ready, within, "the daemon to be ready")

    def secret(self) -> str:
        return (self.state_dir / "webhook-secret").read_text().strip()

    def stop(self, within: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(within)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()


# ---- the emulator's side --------------------------------------------------------------


def page_reads(emu: Any) -> int:
    """GETs of single pages (``.../content/{id}``, ``.../pages/{id}``), whatever the flavor."""
    counts = emu.call(lambda: dict(emu.requests))
    return sum(
        n for route, n in counts.items() if route.startswith("GET ") and route.endswith("{id}")
    )


def quiet(emu: Any, quiet_for: float = 1.0, within: float = 15.0) -> int:
    """Wait until the emulator has seen no request for ``quiet_for`` seconds; the total."""
    deadline = time.monotonic() + within
    last, since = request_total(emu), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = request_total(emu)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_for:
            return now
    raise AssertionError(f"requests never stopped (last total {last})")


def file_of(folder: Path, page_id: str) -> Path | None:
    """The Markdown file whose front matter names ``page_id``."""
    for path in folder.rglob("*.md"):
        if ".syncd" in path.parts or path.is_symlink():
            continue
        try:
            doc = frontmatter.parse(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, frontmatter.FrontMatterError):
            continue
        if str(doc.meta.page_id) == str(page_id):
            return path
    return None


# ---- raw HTTP -------------------------------------------------------------------------


def http(
    address: tuple[str, int],
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 5.0,
) -> tuple[int, bytes]:
    """One HTTP/1.1 request with ``Connection: close``; (status, body)."""
    head = [f"{method} {target} HTTP/1.1", f"Host: {address[0]}:{address[1]}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if "Transfer-Encoding" not in (headers or {}):
        head.append(f"Content-Length: {len(body)}")
    head.append("Connection: close")
    data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    status = int(raw.split(b" ", 2)[1])
    return status, raw.partition(b"\r\n\r\n")[2]


def result_of(body: bytes) -> str | None:
    try:
        return json.loads(body).get("result")
    except ValueError:
        return None


# ---- containment ----------------------------------------------------------------------


def files_outside(root: Path, allowed: Iterable[Path]) -> list[str]:
    """Every file or link under ``root`` that is not inside one of ``allowed`` (dirs or files)."""
    allowed = [Path(a) for a in allowed]
    stray = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            if not any(path == a or a in path.parents for a in allowed):
                stray.append(str(path.relative_to(root)))
    return sorted(stray)


def snapshot_tree(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every regular file under ``root`` (links not followed;
    syncd's lock file in the folder left out)."""
    out = {}
    for dirpath, _dirs, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if not path.is_symlink() and rel != ".syncd/lock":  # holds a pid and a time
                out[rel] = path.read_bytes()
    return out
