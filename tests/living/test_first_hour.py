"""The smaller gaps a new user hits in the first hour (issue 16): each command says what
happened and what to do next."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.emulator.server import ThreadedEmulator

from .conftest import EMAIL, TOKEN, Home, run_syncd
from .test_doctor import write_config
from .test_init import flags
from .test_service import no_service_manager  # noqa: F401  (fixture)
from .test_service import write_config as write_service_config


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    """A space of its own: these tests change pages."""
    with ThreadedEmulator(flavor="cloud", pages=3, seed=1, user=EMAIL, token=TOKEN) as e:
        yield e


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    return TOKEN


def test_sync_without_a_config_suggests_init(home: Home, tmp_path: Path) -> None:
    default = run_syncd("sync")
    assert default.code == 2
    assert "config file not found" in default.err
    assert "fix: create one with `syncd init`" in default.err
    other = tmp_path / "other.yaml"
    given = run_syncd("sync", "--config", str(other))
    assert f"fix: create one with `syncd init --config {other}`" in given.err


def test_init_takes_config_like_every_other_command(
    home: Home, emu_cloud, token: str, tmp_path: Path
) -> None:
    target = tmp_path / "mine.yaml"
    result = run_syncd(*flags(emu_cloud, home), "--config", str(target))
    assert result.code == 0, result.out + result.err
    assert target.is_file() and not home.config_path.exists()
    # next steps: the same --config, and the env file for the service (the config reads
    # ${SYNCD_T}, which a service does not see)
    assert f"syncd service install --config {target} --now --copy-env" in result.out
    # the old spelling still works, and is not advertised
    old = tmp_path / "old.yaml"
    assert run_syncd(*flags(emu_cloud, home), "--config-path", str(old)).code == 0
    assert old.is_file()
    assert "--config-path" not in run_syncd("init", "--help").out


def test_space_key_in_the_wrong_case_names_the_right_one(home: Home, emu_cloud, token: str) -> None:
    argv = flags(emu_cloud, home)
    argv[argv.index("--space") + 1] = "demo"
    result = run_syncd(*argv)
    assert result.code == 1
    assert "space demo not found, but DEMO exists" in result.out
    assert "fix: set confluence.space: DEMO" in result.out
    assert not home.config_path.exists()


def test_service_install_dry_run_warns_that_the_env_file_lacks_the_token(
    home: Home,
    no_service_manager,  # noqa: F811
) -> None:
    write_service_config(home)
    result = run_syncd("service", "install", "--manager", "systemd", "--dry-run")
    assert result.code == 0
    assert "would write" in result.out
    assert "the config reads ${SYNCD_TEST_TOKEN}" in result.err
    assert "does not exist" in result.err and "--copy-env" in result.err
    assert not home.unit_dir.exists()


def test_service_status_accepts_config(home: Home, no_service_manager) -> None:  # noqa: F811
    config = write_service_config(home)
    missing = run_syncd("service", "status", "--manager", "systemd", "--config", str(config))
    assert missing.code == 3, missing.err
    assert f"syncd service install --config {config}" in missing.out
    assert (
        run_syncd("service", "install", "--manager", "systemd", "--config", str(config)).code == 0
    )
    other = home.root / "other.yaml"
    status = run_syncd("service", "status", "--manager", "systemd", "--config", str(other))
    assert f"config: {config}" in status.out
    assert f"runs {config}, not {other}" in status.out


def test_dry_run_ends_with_a_summary(home: Home, emu: ThreadedEmulator, token: str) -> None:
    config = write_config(home, emu)
    assert run_syncd("sync", "--config", str(config)).code == 0
    docs = home.root / "docs"
    edited = sorted(p for p in docs.glob("*.md") if p.name != "README.md")[0]
    edited.write_text(edited.read_text() + "\nOne more line.\n")
    (docs / "Brand New.md").write_text("# Brand new\n")
    others = [c for c in emu.store.all_content("page") if c.parent_id and c.title != edited.stem]
    emu.store.edit(others[0].id, "<p>changed remotely</p>")
    result = run_syncd("sync", "--dry-run", "--config", str(config))
    assert result.code == 0, result.err
    last = result.out.strip().splitlines()[-1]
    assert last == "plan: 1 pull, 1 push, 1 page to create (dry run: nothing was changed)"


def test_ctrl_c_during_sync_says_how_to_continue(
    home: Home, emu: ThreadedEmulator, token: str
) -> None:
    config = write_config(home, emu)
    emu.faults.configure({"latency_ms": 400})
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "sync", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        end = time.monotonic() + 30
        while sum(emu.requests.values()) < 3 and time.monotonic() < end:
            time.sleep(0.05)  # polling for the run to be under way, bounded
        assert proc.poll() is None, "the sync finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted; run again to continue" in err
    assert "Traceback" not in err
