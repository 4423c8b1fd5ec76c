"""Client figures: list a 10,000-page space, then fetch 1,000 page bodies, from the emulator.

The emulator runs in a separate process so that the peak RSS printed is the client's own.
Each run opens a fresh client; the emulator's request counters are reset between phases.

    .venv/bin/python bench/client_listing.py --flavor cloud --runs 3
    .venv/bin/python bench/client_listing.py --flavor dc --runs 3

Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.confluence import ConfluenceClient, ConnectionSettings


def _serve(flavor: str, pages: int, port_queue, stop_event) -> None:
    from syncd.emulator.server import EmulatorServer

    async def main() -> None:
        async with EmulatorServer(flavor=flavor, pages=pages, seed=1) as emu:
            port_queue.put((emu.base_url, emu.root_url, emu.user, emu.token, emu.space_key))
            # The stop signal is a multiprocessing Event: wait for it off the event loop.
            await asyncio.get_running_loop().run_in_executor(None, stop_event.wait)

    asyncio.run(main())


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


async def requests_made(http: httpx.AsyncClient, root: str, reset: bool = True) -> int:
    counts = (await http.get(f"{root}/_emulator/requests")).json()
    if reset:
        await http.post(f"{root}/_emulator/reset", json={})
    return int(counts["total"])


async def one_run(target, *, concurrency: int, fetch: int, page_size: int) -> dict:
    base_url, root, user, token, space = target
    settings = ConnectionSettings(
        base_url=base_url,
        email=user,
        token=token,
        concurrency=concurrency,
        page_size=page_size,
    )
    async with httpx.AsyncClient() as http:
        await requests_made(http, root)
        client = await ConfluenceClient.open(settings)
        try:
            await requests_made(http, root)  # drop the detection probes
            started = time.perf_counter()
            ids = [ref.id async for ref in client.iter_page_tree(space)]
            list_s = time.perf_counter() - started
            list_requests = await requests_made(http, root)

            started = time.perf_counter()
            bodies = 0
            async for _, page in client.iter_pages(ids[:fetch], ancestors=False):
                if isinstance(page, Exception):
                    raise page
                bodies += len(page.body)
            fetch_s = time.perf_counter() - started
            fetch_requests = await requests_made(http, root)
        finally:
            await client.aclose()
    return {
        "listed": len(ids),
        "list_s": list_s,
        "list_pages_per_s": len(ids) / list_s,
        "list_requests": list_requests,
        "fetched": min(fetch, len(ids)),
        "fetch_s": fetch_s,
        "fetch_pages_per_s": min(fetch, len(ids)) / fetch_s,
        "fetch_requests": fetch_requests,
        "body_chars": bodies,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flavor", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--fetch", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--page-size", type=int, default=250)
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    queue, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.flavor, args.pages, queue, stop), daemon=True)
    server.start()
    try:
        target = queue.get(timeout=300)
        results = []
        for run in range(1, args.runs + 1):
            result = asyncio.run(
                one_run(
                    target,
                    concurrency=args.concurrency,
                    fetch=args.fetch,
                    page_size=args.page_size,
                )
            )
            results.append(result)
            print(
                f"run {run}: listed {result['listed']} pages in {result['list_s']:.2f}s "
                f"({result['list_pages_per_s']:.0f} pages/s, {result['list_requests']} requests); "
                f"fetched {result['fetched']} bodies in {result['fetch_s']:.2f}s "
                f"({result['fetch_pages_per_s']:.0f} pages/s, {result['fetch_requests']} requests); "
                f"peak RSS {result['peak_rss_mb']:.1f} MB",
                flush=True,
            )
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(
            f"median ({args.flavor}, {args.runs} runs, concurrency {args.concurrency}): "
            f"list {med['list_pages_per_s']:.0f} pages/s ({med['list_requests']:.0f} requests "
            f"for {med['listed']:.0f} pages); fetch {med['fetch_pages_per_s']:.0f} pages/s "
            f"({med['fetch_requests']:.0f} requests for {med['fetched']:.0f} bodies); "
            f"peak RSS {med['peak_rss_mb']:.1f} MB"
        )
    finally:
        stop.set()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()


if __name__ == "__main__":
    main()
