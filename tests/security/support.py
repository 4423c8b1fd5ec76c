"""Helpers for the security tests: the real ``syncd run`` against a ThreadedEmulator, raw
HTTP over sockets, and a walk that proves nothing was written outside the folder.

Every wait is bounded (:func:`until`, socket timeouts); nothing sleeps to synchronise.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from e2e.daemon_support import Daemon as E2EDaemon
from e2e.daemon_support import quiescent
from e2e.daemon_support import write_config as e2e_config

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_config(
    root: Path,
    emu: Any,
    *,
    mode: int = 0o600,
    token: str = "demo-token",
    webhook: dict[str, Any] | None = None,
) -> Path:
    """A daemon config for ``emu``: folder ``root/docs``, state ``root/state``; ``webhook``
    adds or overrides keys of that section."""
    path = e2e_config(
        root,
        emu,
        confluence={"space": emu.space_key, "token": token}
        | ({"email": emu.user} if emu.flavor == "cloud" else {}),
        poll={"interval": "30s", "full_scan": "1h"},
        sync={"debounce": "100ms"},
        webhook=webhook or {},
    )
    path.chmod(mode)
    return path


class Daemon(E2EDaemon):
    """The e2e ``syncd run -v`` subprocess, plus the receiver's address and secret."""

    def __init__(self, config: Path) -> None:
        super().__init__(config)
        url = urlsplit(self.public_url)
        self.address = (url.hostname or "127.0.0.1", int(url.port or 80))

    def secret(self) -> str:
        return (self.state_dir / "webhook-secret").read_text().strip()


# ---- the emulator's side --------------------------------------------------------------


def page_reads(emu: Any) -> int:
    """GETs of single pages (``.../content/{id}``, ``.../pages/{id}``), whatever the flavor."""
    counts = emu.call(lambda: dict(emu.requests))
    return sum(
        n for route, n in counts.items() if route.startswith("GET ") and route.endswith("{id}")
    )


def quiet(emu: Any, quiet_for: float = 1.0, within: float = 15.0) -> int:
    """Wait until the emulator has seen no request for ``quiet_for`` seconds; the total."""
    return quiescent(emu, quiet_for, within)


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
