"""`syncd COMMAND` imports that command only: one-shot commands start fast (tests and
scripts spawn `syncd sync` and `syncd status` often) and a broken optional part cannot stop
the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from syncd.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # a config error exits 2
    code = exc.code
heavy = sorted(m for m in ("aiohttp", "syncd.emulator.server", "syncd.daemon.runtime")
               if m in sys.modules)
print("CODE", code, "HEAVY", ",".join(heavy) or "-")
"""


def probe(*argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    return done.stdout.strip().splitlines()[-1]


def test_sync_and_status_load_neither_the_emulator_nor_aiohttp(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert probe("sync", "--config", missing) == "CODE 2 HEAVY -"
    assert probe("status", "--config", missing).endswith("HEAVY -")


def test_emulator_show_talks_to_a_running_emulator_without_loading_the_server() -> None:
    # nothing listens on port 9: the command fails, having imported only what it needs
    line = probe("emulator", "show", "--url", "http://127.0.0.1:9", "1")
    assert line.endswith("HEAVY -"), line
