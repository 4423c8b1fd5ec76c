"""Running the real ``syncd run`` as a subprocess against a ThreadedEmulator.

Everything waits with bounded polls (:func:`until`); nothing sleeps to synchronise.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from syncd.daemon.control import fetch_status
from syncd.local import frontmatter

T = TypeVar("T")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def until(predicate: Callable[[], T], within: float = 15.0, what: str = "condition") -> T:
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: A scoped API token with every scope syncd asks for (README "Service account").
SCOPED_TOKEN = "scoped-token-1"
SCOPES = (
    "read:space:confluence",
    "read:page:confluence",
    "write:page:confluence",
    "delete:page:confluence",
    "read:content.metadata:confluence",
    "read:content-details:confluence",
    "read:label:confluence",
    "write:label:confluence",
    "read:attachment:confluence",
    "write:attachment:confluence",
    "delete:attachment:confluence",
)


def use_gateway(emu: Any, token: str = SCOPED_TOKEN, scopes: tuple[str, ...] = SCOPES) -> Any:
    """Make a Cloud emulator accept ``token`` at its API gateway; configs written for it
    then go through the gateway with that token (the site itself refuses it)."""
    server = getattr(emu, "server", emu)
    if hasattr(emu, "call"):
        emu.call(server.add_scoped_token, token, scopes)
    else:
        server.add_scoped_token(token, scopes)
    server.config_overrides = {"api_url": server.gateway_url, "token": token}
    return emu


def write_config(tmp: Path, emu: Any, **over: Any) -> Path:
    port = free_port()
    doc: dict[str, Any] = {
        "confluence": {
            "base_url": emu.base_url,
            "deployment": "cloud" if emu.flavor == "cloud" else "datacenter",
            "space": "DEMO",
            "token": "demo-token",
        },
        "local": {"path": str(tmp / "docs")},
        "webhook": {
            "listen": f"127.0.0.1:{port}",
            "public_url": f"http://127.0.0.1:{port}/hook",
            "silence_timeout": "60s",
        },
        "poll": {"interval": "500ms", "full_scan": "1h"},
        "sync": {"debounce": "200ms"},
        "state_dir": str(tmp / "state"),
    }
    if emu.flavor == "cloud":
        doc["confluence"]["email"] = "demo@example.com"
    doc["confluence"].update(getattr(emu, "config_overrides", None) or {})
    for section, values in over.items():
        if isinstance(values, dict):
            doc.setdefault(section, {}).update(values)
        else:
            doc[section] = values
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


class Daemon:
    """One ``syncd run`` subprocess; stderr goes to ``log_path``."""

    def __init__(self, config: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.config = config
        cfg = yaml.safe_load(config.read_text())
        self.state_dir = Path(cfg["state_dir"])
        self.folder = Path(cfg["local"]["path"])
        self.public_url = cfg["webhook"]["public_url"]
        self.log_path = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        extra_env = env
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("NOTIFY_SOCKET", None)
        env = {**env, **(extra_env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "syncd", "run", "--config", str(config), "-v", *extra],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict[str, Any] | None:
        return fetch_status(self.state_dir / "control.sock", 2.0)

    def wait_ready(self, within: float = 20.0) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            st = self.status()
            return st if st and "ready:" in self.log() else None

        return until(ready, within, "the daemon to be ready")

    def stop(self, sig: int = signal.SIGTERM, within: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(within)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._log.close()
        return code

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()
        self._log.close()


def syncd_cli(
    *args: str, within: float = 30.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncd", *args],
        capture_output=True,
        text=True,
        timeout=within,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env} if env else None,
    )


def status_json(config: Path, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    done = syncd_cli("status", "--config", str(config), "--json", env=env)
    return done.returncode, json.loads(done.stdout)


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


def request_total(emu: Any) -> int:
    return int(sum(emu.call(lambda: dict(emu.requests)).values()))


def quiescent(emu: Any, quiet: float = 1.5, within: float = 15.0) -> int:
    """Wait until the emulator's request counter stops growing for ``quiet`` seconds."""
    deadline = time.monotonic() + within
    last = request_total(emu)
    since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = request_total(emu)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise AssertionError(f"requests never stopped growing (last total {last})")


def page_ids(emu: Any) -> list[str]:
    return emu.call(lambda: [c.id for c in emu.store.all_content("page")])


def edit_page(emu: Any, page_id: str, body: str) -> int:
    return emu.call(lambda: emu.store.edit(page_id, body).version.number)


def page_body(emu: Any, page_id: str) -> str:
    return emu.call(lambda: emu.store.get(page_id).body)


def page_version(emu: Any, page_id: str) -> int:
    return emu.call(lambda: emu.store.get(page_id).version.number)


def set_faults(emu: Any, **faults: Any) -> None:
    emu.call(lambda: emu.faults.configure(faults))
