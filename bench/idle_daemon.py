"""Idle daemon on a 10,000-page space: CPU and RSS over 60 s.

One ``syncd emulator`` process (``--pages N --seed 1``) serves the space on loopback. Each run
starts the real daemon, ``syncd run --config config.yaml``, on an empty folder with webhooks
on (the receiver on a free loopback port; default poll and silence settings), waits until it
is ready (its control socket answers and it logged ``ready:``) and the emulator has seen no
request for 3 s (the catch-up is over), then samples ``/proc/<pid>/stat`` (utime + stime) and
``/proc/<pid>/status`` (VmRSS, VmHWM) once a second for the window. The emulator's request
counters, reset at the start of the window, give the API calls made while idle.

    .venv/bin/python bench/idle_daemon.py --pages 10000 --seconds 60 --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import (
    OUT,
    SYNCD,
    TOKEN_ENV,
    Emulator,
    fmt_row,
    free_port,
    fresh_dir,
    machine,
    median,
    syncd_env,
)

from syncd.daemon.control import fetch_status

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def vm_kib(pid: int, key: str) -> int:
    match = re.search(rf"^{key}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def write_config(run_dir: Path, emu: Emulator) -> Path:
    port = free_port()
    lines = [
        "confluence:",
        f"  base_url: {emu.base_url}",
        f"  deployment: {'cloud' if emu.flavor == 'cloud' else 'datacenter'}",
        f"  space: {emu.space}",
        *([f"  email: {emu.user}"] if emu.flavor == "cloud" else []),
        f"  token: ${{{TOKEN_ENV}}}",
        "local:",
        "  path: ./folder",
        "webhook:",
        "  enabled: true",
        f"  listen: 127.0.0.1:{port}",
        f"  public_url: http://127.0.0.1:{port}/hook",
        "state_dir: ./state",
    ]
    path = run_dir / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def wait_quiet(emu: Emulator, quiet: float, within: float) -> None:
    deadline = time.monotonic() + within
    last, since = emu.requests()["total"], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = emu.requests()["total"]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
    raise TimeoutError(f"emulator requests kept growing for {within}s")


def one_run(emu: Emulator, run_dir: Path, seconds: float, ready_within: float) -> dict:
    config = write_config(run_dir, emu)
    log_path = run_dir / "daemon.log"
    emu.reset_counters()
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [str(SYNCD), "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=run_dir,
            env={**syncd_env(emu), "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + ready_within
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"daemon exited {proc.returncode}, see {log_path}")
                status = fetch_status(run_dir / "state" / "control.sock", 2.0)
                if status and "ready:" in log_path.read_text(errors="replace"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"daemon not ready after {ready_within}s, see {log_path}")
                time.sleep(0.2)
            ready_s = time.perf_counter() - start
            startup_requests = emu.requests()["total"]
            wait_quiet(emu, quiet=3.0, within=ready_within)
            emu.reset_counters()
            rss: list[int] = []
            cpu0 = cpu_seconds(proc.pid)
            t0 = time.monotonic()
            while time.monotonic() - t0 < seconds:
                rss.append(vm_kib(proc.pid, "VmRSS"))
                time.sleep(1.0)
            cpu1 = cpu_seconds(proc.pid)
            elapsed = time.monotonic() - t0
            hwm = vm_kib(proc.pid, "VmHWM")
            idle_requests = emu.requests()
            mode = (fetch_status(run_dir / "state" / "control.sock", 2.0) or {}).get("mode")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=30)
    return {
        "ready_s": ready_s,
        "startup_requests": startup_requests,
        "cpu_pct": 100.0 * (cpu1 - cpu0) / elapsed,
        "cpu_s": cpu1 - cpu0,
        "rss_mib": median(rss) / 1024,
        "rss_max_mib": max(rss) / 1024,
        "hwm_mib": hwm / 1024,
        "idle_requests": int(idle_requests["total"]),
        "idle_routes": idle_requests["by_route"],
        "mode": mode,
        "md_files": sum(1 for _ in (run_dir / "folder").rglob("*.md")),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--flavor", default="cloud", choices=["cloud", "dc"])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--ready-within", type=float, default=900.0)
    args = ap.parse_args()

    print(f"machine: {machine()}")
    results = []
    with Emulator(flavor=args.flavor, pages=args.pages) as emu:
        pages = emu.page_count()
        for i in range(args.runs):
            run_dir = fresh_dir(OUT / "idle_daemon" / f"{args.flavor}-{args.pages}" / f"run{i}")
            r = one_run(emu, run_dir, args.seconds, args.ready_within)
            results.append(r)
            print(f"[{args.flavor} {pages}] run {i + 1}: {r}", flush=True)
    rows = [
        fmt_row(
            [
                "flavor",
                "pages",
                "catch-up to ready s",
                "idle CPU %",
                "RSS MiB (median)",
                "peak RSS (VmHWM) MiB",
                "requests while idle",
                "mode",
            ]
        ),
        fmt_row(["---"] * 8),
        fmt_row(
            [
                args.flavor,
                pages,
                f"{median([r['ready_s'] for r in results]):.1f}",
                f"{median([r['cpu_pct'] for r in results]):.3f}",
                f"{median([r['rss_mib'] for r in results]):.0f}",
                f"{median([r['hwm_mib'] for r in results]):.0f}",
                f"{median([r['idle_requests'] for r in results]):.0f}",
                results[-1]["mode"],
            ]
        ),
    ]
    print(f"\nmedian of {args.runs} runs, {args.seconds:.0f} s idle window:\n")
    print("\n".join(rows))
    print(f"\nfinished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
