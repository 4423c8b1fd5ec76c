"""End-to-end latency of the running daemon, and API requests per synced change.

A ThreadedEmulator (Data Center or Cloud) in this process, the real ``syncd run`` as a
subprocess on loopback, webhook mode (``silence_timeout`` 15 min, so no freshness check
runs during the measurement and every request counted is caused by the edits):

* remote: N edits of pages in Confluence, one at a time; latency = edit -> the file on disk
  holds the new text (polled every 2 ms);
* local: N saves of files, one at a time; latency = write -> the page in Confluence holds
  the new text. Includes ``sync.debounce`` (``--debounce``, default 200 ms) by design;
* requests per change: REST requests the daemon made during each phase / N.

    .venv/bin/python bench/daemon_latency.py --runs 3 --edits 200 --debounce 0.2

Prints one line per run and the medians (p50/p99 in ms).
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
from syncd.local import frontmatter  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(predicate, within: float, what: str, step: float = 0.002):
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(step)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def requests(emu) -> int:
    return sum(emu.call(lambda: dict(emu.requests)).values())


def by_route(emu) -> dict[str, int]:
    return emu.call(lambda: dict(emu.requests))


def per_change(after: dict[str, int], before: dict[str, int], n: int) -> str:
    return ", ".join(
        f"{route} {(count - before.get(route, 0)) / n:.2f}"
        for route, count in sorted(after.items())
        if count != before.get(route, 0)
    )


def one_run(
    flavor: str,
    edits: int,
    debounce: float,
    pages: int,
    verbose: bool = False,
    latency_ms: int = 0,
) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        ThreadedEmulator(flavor=flavor, pages=pages, space="BENCH") as emu,
    ):
        if latency_ms:
            emu.call(lambda: emu.faults.configure({"latency_ms": latency_ms}))
        tmp_path = Path(tmp)
        port = free_port()
        cfg = {
            "confluence": {
                "base_url": emu.base_url,
                "deployment": "cloud" if flavor == "cloud" else "datacenter",
                "space": "BENCH",
                "token": "demo-token",
                **({"email": "demo@example.com"} if flavor == "cloud" else {}),
            },
            "local": {"path": str(tmp_path / "docs")},
            "webhook": {
                "listen": f"127.0.0.1:{port}",
                "public_url": f"http://127.0.0.1:{port}/hook",
                "silence_timeout": "15m",
            },
            "sync": {"debounce": debounce},
            "state_dir": str(tmp_path / "state"),
        }
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump(cfg))
        config.chmod(0o600)
        log = open(tmp_path / "daemon.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "syncd", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            wait(
                lambda: b"ready:" in (tmp_path / "daemon.log").read_bytes(),
                60,
                "daemon ready",
                0.05,
            )
            ids = emu.call(lambda: [c.id for c in emu.store.all_content("page")])[1:]
            folder = tmp_path / "docs"
            files: dict[str, Path] = {}
            for path in folder.rglob("*.md"):
                doc = frontmatter.parse(path.read_text())
                if doc.meta.page_id:
                    files[str(doc.meta.page_id)] = path

            # remote edit -> file on disk
            remote: list[float] = []
            before = requests(emu)
            routes0 = by_route(emu)
            for n in range(edits):
                pid = ids[n % len(ids)]
                marker = f"remote-{n}-mark"
                path = files[pid]
                t0 = time.perf_counter()
                emu.call(lambda pid=pid, marker=marker: emu.store.edit(pid, f"<p>{marker}</p>"))
                wait(lambda path=path, marker=marker: marker in path.read_text(), 30, marker)
                remote.append((time.perf_counter() - t0) * 1000)
            time.sleep(1.0)  # let trailing requests land before counting
            remote_requests = (requests(emu) - before) / edits
            routes1 = by_route(emu)

            # local save -> page updated
            local: list[float] = []
            before = requests(emu)
            for n in range(edits):
                pid = ids[n % len(ids)]
                path = files[pid]
                marker = f"local-{n}-mark"
                text = path.read_text()
                t0 = time.perf_counter()
                path.write_text(text.rstrip("\n") + f"\n\n{marker}\n")
                wait(
                    lambda pid=pid, marker=marker: (
                        marker in emu.call(lambda: emu.store.get(pid).body)
                    ),
                    30,
                    marker,
                )
                local.append((time.perf_counter() - t0) * 1000)
            time.sleep(max(1.0, debounce * 3))
            local_requests = (requests(emu) - before) / edits
            if verbose:
                print("  remote, per change:", per_change(routes1, routes0, edits))
                print("  local, per change:", per_change(by_route(emu), routes1, edits))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
            log.close()
    return {
        "remote_p50": pct(remote, 0.5),
        "remote_p99": pct(remote, 0.99),
        "local_p50": pct(local, 0.5),
        "local_p99": pct(local, 0.99),
        "remote_requests": remote_requests,
        "local_requests": local_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--debounce", type=float, default=0.2)
    parser.add_argument("--flavor", choices=("dc", "cloud"), default="dc")
    parser.add_argument("--routes", action="store_true", help="requests per change by route")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="added to every REST request (emulator fault)"
    )
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        r = one_run(
            args.flavor, args.edits, args.debounce, args.pages, args.routes, args.latency_ms
        )
        results.append(r)
        print(
            f"run {run + 1}: remote p50 {r['remote_p50']:.1f} ms p99 {r['remote_p99']:.1f} ms | "
            f"local p50 {r['local_p50']:.1f} ms p99 {r['local_p99']:.1f} ms | requests/change "
            f"remote {r['remote_requests']:.2f} local {r['local_requests']:.2f}",
            flush=True,
        )
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(
        f"median of {args.runs} ({args.flavor}, {args.edits} edits, debounce "
        f"{args.debounce * 1000:.0f} ms): remote p50 {med['remote_p50']:.1f} ms, p99 "
        f"{med['remote_p99']:.1f} ms; local p50 {med['local_p50']:.1f} ms, p99 "
        f"{med['local_p99']:.1f} ms; requests per change: remote "
        f"{med['remote_requests']:.2f}, local {med['local_requests']:.2f}"
    )
    os._exit(0)


if __name__ == "__main__":
    main()
