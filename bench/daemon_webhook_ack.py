"""Webhook receiver figures: time to acknowledge a delivery, and idle CPU.

The receiver runs in its own process (as in the daemon), with a consumer that marks a
DirtySet. A sender posts signed Data Center deliveries over one keep-alive connection:

* sequential: N deliveries one after another, latency of each POST -> 200;
* burst: N deliveries 50 at a time while the consumer is stalled (queue of 1000, the rest
  overflow into "full scan needed"), latency of each;
* idle: the receiver's CPU time over a quiet period.

    .venv/bin/python bench/daemon_webhook_ack.py --runs 5 --count 2000 --idle 10

Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.daemon.receiver import sign_body

SECRET = "bench-secret-7f3a"


def _serve(port_queue, stop_event, stall: bool, cpu_queue) -> None:
    import resource

    from syncd.daemon.dirty import DirtySet
    from syncd.daemon.events import Flavor
    from syncd.daemon.receiver import ReceiverConfig, bound_port, create_webhook_app, start_receiver

    async def main() -> None:
        dirty = DirtySet()
        gate = asyncio.Event()
        if not stall:
            gate.set()

        async def on_hint(hint) -> None:
            await gate.wait()
            if hint.page_id:
                dirty.add(hint.page_id)

        app = create_webhook_app(
            ReceiverConfig(flavor=Flavor.DC, secret=SECRET, queue_size=1000),
            on_hint,
            on_overflow=dirty.request_full_scan,
        )
        runner = await start_receiver(app, "127.0.0.1", 0)
        port_queue.put(bound_port(runner))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, stop_event.wait)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu_queue.put(usage.ru_utime + usage.ru_stime)
        await runner.cleanup()

    asyncio.run(main())


def body(i: int) -> bytes:
    doc = {
        "timestamp": 1768241233603 + i,
        "event": "page_updated",
        "userKey": "u",
        "page": {"id": 100000 + (i % 500)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


async def send_all(port: int, count: int, concurrency: int) -> list[float]:
    url = f"http://127.0.0.1:{port}/webhook"
    latencies: list[float] = []
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(i: int) -> None:
            raw = body(i)
            headers = {
                "X-Hub-Signature": sign_body(SECRET, raw),
                "Content-Type": "application/json",
            }
            async with sem:
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(one(i) for i in range(count)))
    return latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run_once(count: int, stall: bool, concurrency: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    port_queue, cpu_queue, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(port_queue, stop, stall, cpu_queue))
    proc.start()
    try:
        port = port_queue.get(timeout=30)
        asyncio.run(send_all(port, 50, 1))  # warm-up
        lat = asyncio.run(send_all(port, count, concurrency))
        stop.set()
        cpu_queue.get(timeout=30)
        return {"p50_ms": pct(lat, 50) * 1000, "p99_ms": pct(lat, 99) * 1000}
    finally:
        proc.join(30)


def idle_cpu(seconds: float) -> float:
    """Receiver CPU seconds (start-up included) after ``seconds`` without traffic."""
    ctx = multiprocessing.get_context("spawn")
    port_queue, cpu_queue, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(port_queue, stop, False, cpu_queue))
    proc.start()
    try:
        port_queue.get(timeout=30)
        time.sleep(seconds)  # the idle period being measured
        stop.set()
        return cpu_queue.get(timeout=30)
    finally:
        proc.join(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--idle", type=float, default=10.0, help="idle period in seconds")
    args = parser.parse_args()

    seq50, seq99, burst50, burst99, idles = [], [], [], [], []
    for run in range(1, args.runs + 1):
        seq = run_once(args.count, stall=False, concurrency=1)
        burst = run_once(args.count, stall=True, concurrency=50)
        startup = idle_cpu(0.0)  # start-up CPU, subtracted from the idle reading
        idle = idle_cpu(args.idle) if args.idle > 0 else startup
        idle_pct = max(0.0, idle - startup) / args.idle * 100 if args.idle > 0 else 0.0
        seq50.append(seq["p50_ms"])
        seq99.append(seq["p99_ms"])
        burst50.append(burst["p50_ms"])
        burst99.append(burst["p99_ms"])
        idles.append(idle_pct)
        print(
            f"run {run}: sequential p50 {seq['p50_ms']:.2f} ms p99 {seq['p99_ms']:.2f} ms | "
            f"burst(50 concurrent, consumer stalled) p50 {burst['p50_ms']:.2f} ms "
            f"p99 {burst['p99_ms']:.2f} ms | idle CPU {idle_pct:.3f}% over {args.idle:.0f}s"
        )
    print(
        f"median of {args.runs}: sequential p50 {statistics.median(seq50):.2f} ms "
        f"p99 {statistics.median(seq99):.2f} ms | burst p50 {statistics.median(burst50):.2f} ms "
        f"p99 {statistics.median(burst99):.2f} ms | idle CPU {statistics.median(idles):.3f}%"
    )


if __name__ == "__main__":
    main()
