"""Idle cost of the running daemon tracking a large space: CPU and RSS over a quiet period.

A ThreadedEmulator with ``--pages`` pages (default 10,000) in this process; the real
``syncd run`` as a subprocess (webhook mode, default ``silence_timeout`` 15 min and poll
settings, file watcher on the folder). The first start syncs the whole space; each run then
restarts the daemon on the same state (its catch-up is a full listing with nothing to
do), waits until it reports ready, lets it settle for 2 s and measures over ``--idle``
seconds: CPU time (user + system, from /proc) and resident memory (VmRSS, VmHWM).

    .venv/bin/python bench/daemon_idle.py --runs 3 --pages 10000 --idle 60

Prints one line per run and the medians. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syncd.emulator.server import ThreadedEmulator  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of ``pid``: schedstat (nanoseconds) where the kernel has it,
    else utime + stime (clock ticks, 10 ms resolution)."""
    total_ns = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total_ns += int((task / "schedstat").read_text().split()[0])
        return total_ns / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def memory_kib(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def start(config: Path, log_path: Path) -> tuple[subprocess.Popen, float]:
    log = open(log_path, "ab")
    offset = log_path.stat().st_size if log_path.exists() else 0
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncd", "run", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    log.close()
    deadline = time.monotonic() + 1800
    while b"ready:" not in log_path.read_bytes()[offset:]:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited {proc.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError("daemon not ready")
        time.sleep(0.2)
    return proc, time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--flavor", choices=("dc", "cloud"), default="dc")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        t0 = time.monotonic()
        emu = ThreadedEmulator(flavor=args.flavor, pages=args.pages, space="BENCH").start(600)
        print(f"emulator seeded {args.pages} pages in {time.monotonic() - t0:.1f} s", flush=True)
        port = free_port()
        cfg = {
            "confluence": {
                "base_url": emu.base_url,
                "deployment": "cloud" if args.flavor == "cloud" else "datacenter",
                "space": "BENCH",
                "token": "demo-token",
                **({"email": "demo@example.com"} if args.flavor == "cloud" else {}),
            },
            "local": {"path": str(tmp_path / "docs")},
            "webhook": {
                "listen": f"127.0.0.1:{port}",
                "public_url": f"http://127.0.0.1:{port}/hook",
            },
            "sync": {"max_delete": 100},
            "state_dir": str(tmp_path / "state"),
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(cfg))
        config.chmod(0o600)
        log_path = tmp_path / "daemon.log"
        proc, first = start(config, log_path)
        files = sum(1 for _ in (tmp_path / "docs").rglob("*.md"))
        print(f"first start (initial sync of {files} files): {first:.1f} s", flush=True)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        results = []
        for run in range(args.runs):
            proc, ready = start(config, log_path)
            time.sleep(2.0)
            c0, w0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.idle)
            c1, w1 = cpu_seconds(proc.pid), time.monotonic()
            mem = memory_kib(proc.pid)
            cpu_pct = 100 * (c1 - c0) / (w1 - w0)
            results.append((ready, cpu_pct, mem["VmRSS"] / 1024, mem["VmHWM"] / 1024))
            print(
                f"run {run + 1}: restart ready in {ready:.1f} s; idle CPU {cpu_pct:.3f} % over "
                f"{w1 - w0:.0f} s; RSS {mem['VmRSS'] / 1024:.1f} MiB (peak {mem['VmHWM'] / 1024:.1f})",
                flush=True,
            )
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        ready, cpu, rss, hwm = (statistics.median(x) for x in zip(*results, strict=True))
        print(
            f"median of {args.runs} ({args.flavor}, {args.pages} pages): restart ready {ready:.1f} s, "
            f"idle CPU {cpu:.3f} %, RSS {rss:.1f} MiB, peak RSS {hwm:.1f} MiB"
        )
        emu.stop()
    os._exit(0)


if __name__ == "__main__":
    main()
