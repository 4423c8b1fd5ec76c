"""First sync of a 1,000-page space, then a sync with nothing changed, against the emulator.

The emulator runs in its own process; each run syncs into a fresh folder and state from a
fresh child process (so the peak RSS printed is the sync's own). Figures per run: pages/s
and requests per page of the first sync, its peak RSS, and the requests and wall time of
a second sync with nothing changed.

    .venv/bin/python bench/sync_first_sync.py --pages 1000 --runs 3 [--flavor dc]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _serve(flavor: str, pages: int, queue, stop) -> None:
    from syncd.emulator.server import EmulatorServer

    async def main() -> None:
        async with EmulatorServer(flavor=flavor, pages=pages, seed=1) as emu:
            queue.put((emu.base_url, emu.root_url, emu.user, emu.token, emu.space_key))
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    asyncio.run(main())


def peak_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _requests(root: str, reset: bool = True) -> dict:
    with urllib.request.urlopen(f"{root}/_emulator/requests") as r:
        counts = json.loads(r.read())
    if reset:
        req = urllib.request.Request(
            f"{root}/_emulator/reset", data=b"{}", method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(req).read()
    return counts


def child(config_path: str) -> None:
    """One sync in this process; prints wall time, pages and peak RSS as JSON."""
    from syncd.config import load_config
    from syncd.sync.engine import SyncEngine

    async def main() -> dict:
        config = load_config(config_path)
        engine = await SyncEngine.open(config)
        try:
            start = time.perf_counter()
            report = await engine.run_once()
            wall = time.perf_counter() - start
            pages = engine.state.count_pages()
        finally:
            await engine.close()
        return {"wall": wall, "pages": pages, "applied": len(report.applied),
                "in_sync": report.in_sync, "errors": report.errors[:3]}

    out = asyncio.run(main())
    out["rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def one_run(target, tmp: Path) -> dict:
    base_url, root, user, token, space = target
    cfg = tmp / "config.yaml"
    cfg.write_text(
        f"confluence: {{base_url: '{base_url}', space: {space}, token: {token}, email: '{user}'}}\n"
        f"local: {{path: '{tmp / 'docs'}'}}\nstate_dir: '{tmp / 'state'}'\n"
    )
    cfg.chmod(0o600)

    def sync() -> dict:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(cfg)], capture_output=True, text=True,
            check=True,
        )
        return json.loads(proc.stdout.strip().splitlines()[-1])

    _requests(root)
    first = sync()
    first_req = _requests(root)
    second = sync()
    second_req = _requests(root)
    pages = first["pages"]
    return {
        "pages": pages,
        "pages_per_s": pages / first["wall"],
        "requests_per_page": first_req["total"] / pages,
        "rss_mb": first["rss_mb"],
        "nochange_requests": second_req["total"],
        "nochange_writes": sum(
            v for k, v in second_req["by_route"].items() if not k.startswith("GET")
        ),
        "nochange_wall_s": second["wall"],
        "first_wall_s": first["wall"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flavor", default="cloud", choices=["cloud", "dc"])
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.flavor, args.pages, queue, stop), daemon=True)
    server.start()
    target = queue.get(timeout=120)
    results = []
    try:
        for n in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp:
                r = one_run(target, Path(tmp))
            results.append(r)
            print(f"run {n + 1}: " + ", ".join(f"{k}={v:.3g}" for k, v in r.items()), flush=True)
    finally:
        stop.set()
        server.join(timeout=10)
    print("median:")
    for key in results[0]:
        print(f"  {key}: {statistics.median(r[key] for r in results):.4g}")


if __name__ == "__main__":
    main()
