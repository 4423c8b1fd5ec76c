"""The configuration file as bad input, through the ``syncd`` command: a literal token
readable by others and a file writable by others are warned about; nested YAML aliases
("billion laughs") fail fast with an error naming the key instead of hanging.

The loader's unit tests are in tests/test_config.py.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support import PROJECT_ROOT

pytestmark = [pytest.mark.timeout(120)]

pytest.importorskip("syncd.emulator.server", reason="emulator not available")


def syncd(*args: str, within: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncd", *args],
        capture_output=True,
        text=True,
        timeout=within,
        cwd=PROJECT_ROOT,
    )


def write_config(root: Path, base_url: str, *, space: str = "DEMO") -> Path:
    path = root / "config.yaml"
    path.write_text(
        "confluence:\n"
        f"  base_url: {base_url}\n"
        f"  space: {space}\n"
        "  token: demo-token\n"
        "  email: demo@example.com\n"
        f"local:\n  path: {root / 'docs'}\n"
        f"state_dir: {root / 'state'}\n"
    )
    path.chmod(0o600)
    return path


async def test_sync_warns_about_a_config_others_can_read_or_write(
    emulator_factory, tmp_path: Path
) -> None:
    emu = await emulator_factory(flavor="dc", pages=1)
    path = write_config(tmp_path, emu.base_url)

    def run() -> subprocess.CompletedProcess[str]:
        # in a thread: the emulator serves from this test's event loop
        return syncd("sync", "--config", str(path))

    path.chmod(0o644)
    done = await asyncio.to_thread(run)
    assert done.returncode == 0, done.stderr
    assert "readable by other users" in done.stderr and "confluence.token" in done.stderr
    assert f"chmod 600 {path}" in done.stderr
    assert "writable" not in done.stderr
    assert "demo-token" not in done.stderr
    assert (tmp_path / "docs" / "README.md").exists()  # a warning, not a refusal

    path.chmod(0o666)
    done = await asyncio.to_thread(run)
    assert done.returncode == 0, done.stderr
    assert "writable by other users" in done.stderr and "sync.handler" in done.stderr
    assert f"chmod go-w {path}" in done.stderr

    path.chmod(0o600)
    done = await asyncio.to_thread(run)
    assert done.returncode == 0 and "other users" not in done.stderr


def _alias_bomb(depth: int = 8, width: int = 9) -> str:
    """An inline mapping whose full expansion has width**depth leaves."""

    def level(i: int) -> str:
        if i == 0:
            return "&m0 {" + ", ".join(f"k{j}: lol" for j in range(width)) + "}"
        rest = ", ".join(f"k{j}: *m{i - 1}" for j in range(1, width))
        return f"&m{i} {{k0: {level(i - 1)}, {rest}}}"

    return level(depth)


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("confluence.space", "confluence.space"),
        ("sync.handler", "sync.handler"),
        ("top level", "extra"),
    ],
)
def test_nested_aliases_in_the_config_fail_fast_naming_the_key(
    tmp_path: Path, where: str, key: str
) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:9")
    text = path.read_text()
    bomb = _alias_bomb()
    if where == "confluence.space":
        text = text.replace("space: DEMO", f"space: {bomb}")
    elif where == "sync.handler":
        text += f"sync:\n  handler: {bomb}\n"
    else:
        text += f"extra: {bomb}\n"
    path.write_text(text)
    # `syncd run` loads the config the same way; once is enough to show it
    for command in ("sync", "run") if where == "confluence.space" else ("sync",):
        started = time.monotonic()
        done = syncd(command, "--config", str(path))
        assert time.monotonic() - started < 15
        assert done.returncode == 2, (command, done.stderr)
        assert key in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "docs").exists() and not (tmp_path / "state").exists()
