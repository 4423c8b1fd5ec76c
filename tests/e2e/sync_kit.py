"""Helpers for the sync engine's end-to-end tests (emulator on loopback, real folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from syncd.config import Config, parse_config
from syncd.local import frontmatter
from syncd.sync.engine import SyncEngine

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, emu, **sync: object) -> Path:
    """A config file for `emu` syncing `tmp/docs` with state in `tmp/state`."""
    sync_lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in sync.items())
    confluence = {"base_url": emu.base_url, "space": emu.space_key, "token": emu.token}
    confluence["email"] = emu.user
    confluence.update(getattr(emu, "config_overrides", None) or {})  # e.g. the API gateway
    text = (
        "confluence:\n"
        + "".join(f"  {k}: {v}\n" for k, v in confluence.items())
        + f"local:\n  path: {tmp / 'docs'}\n"
        f"state_dir: {tmp / 'state'}\n" + ("sync:\n" + sync_lines if sync_lines else "")
    )
    path = tmp / "config.yaml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def make_config(tmp: Path, emu, **sync: object) -> Config:
    path = write_config(tmp, emu, **sync)
    return parse_config(path.read_text(), path=path)


async def run_sync(config: Config, **kwargs):
    engine = await SyncEngine.open(config)
    try:
        return await engine.run_once(**kwargs)
    finally:
        await engine.close()


def read_doc(path: Path) -> frontmatter.Document:
    return frontmatter.parse(path.read_text(encoding="utf-8"))


def set_body(path: Path, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    doc = frontmatter.parse(text)
    path.write_text(frontmatter.render(doc.meta, body), encoding="utf-8")


def md_files(root: Path) -> dict[str, Path]:
    """Page files by relative path (hidden folders and conflict copies excluded)."""
    out = {}
    for p in root.rglob("*.md"):
        rel = p.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or ".conflict-" in rel:
            continue
        out[rel] = p
    return dict(sorted(out.items()))


def file_for(root: Path, page_id: str) -> Path | None:
    for p in md_files(root).values():
        if read_doc(p).meta.page_id == page_id:
            return p
    return None


def request_counts(emu) -> dict[str, int]:
    """Requests served so far by route (in-process: read the counter, never over HTTP,
    which would block the event loop the emulator runs on)."""
    if hasattr(emu, "call"):  # ThreadedEmulator: ask over HTTP from this thread
        with urllib.request.urlopen(emu.root_url + "/_emulator/requests") as r:
            return dict(json.loads(r.read())["by_route"])
    return dict(emu.requests)


def diff_counts(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def syncd_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "syncd", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=PROJECT_ROOT,
    )
